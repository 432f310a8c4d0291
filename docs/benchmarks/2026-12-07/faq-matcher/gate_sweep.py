"""Retrieval-level sweep of the FAQ ranking's settings (no generation): for each weight W, join
score M and question score Q, the share of FAQ questions whose first FAQ hit is right and let
through by the gate (open question and policy routes), and the share of dev1-3's out-of-scope
messages the gate lets through. Development sets only.

W=2 M=none,0.5,0.6 Q=0.6,0.65,0.7 python gate_sweep.py dev,dev3     # project root, .venv
"""

import itertools
import os
import sys

import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[4]))
from knowledge.answer import AnswerPipeline
from knowledge.answer_checks import asked_like, relevance
from knowledge.types import Filters
from training.shopper_eval import SETS, load_shopper_eval

p = AnswerPipeline.from_dir("models/demo/knowledge")
ranker = p.retriever.inner
if os.environ.get("MATCHER"):  # another matcher directory to compare with
    from knowledge.embedder import make_embedder

    ranker.encoder = make_embedder(model_path=os.environ["MATCHER"])
sets = sys.argv[1].split(",")
qs = []
for w in sets:
    d, m = SETS[w]
    qs += load_shopper_eval(d, minimums=m).faq_questions
neg = []
for w in ("dev", "dev2", "dev3"):
    d, m = SETS[w]
    neg += [e.text for e in load_shopper_eval(d, minimums=m).intents if e.intent == "out_of_scope"]
print(len(qs), "faq questions", len(neg), "oos")
floor = 0.48


def gate(hits, qsc):
    best = max((relevance(h) for h in hits), default=-9)
    asked = max((asked_like(h) for h in hits), default=-9)
    return best >= floor or asked >= qsc


for weight, match in itertools.product(
    [float(x) for x in os.environ.get("W", "2").split(",")],
    [
        None if x == "none" else float(x)
        for x in os.environ.get("M", "none,0.55,0.6,0.65").split(",")
    ],
):
    ranker.weight, ranker.match_score = weight, match
    res = {}
    for route, f in (("open", None), ("policy", Filters(kind="faq"))):
        H = [p.retriever.search(q.text, p.top_k, f) for q in qs]
        first = [next((h for h in hits if h.passage.kind == "faq"), None) for hits in H]
        right = np.array(
            [
                h is not None and h.passage.doc_id in q.accepted_ids
                for h, q in zip(first, qs, strict=True)
            ]
        )
        top = np.array(
            [
                bool(hits) and hits[0].passage.doc_id in q.accepted_ids
                for hits, q in zip(H, qs, strict=True)
            ]
        )
        res[route] = (H, right, top)
    HN = [p.retriever.search(t, p.top_k, None) for t in neg]
    for qsc in [float(x) for x in os.environ.get("Q", "0.55,0.58,0.6,0.62,0.65").split(",")]:
        o = res["open"]
        pl = res["policy"]
        ro = np.mean(o[1] & np.array([gate(h, qsc) for h in o[0]]))
        rp = np.mean(pl[1] & np.array([gate(h, qsc) for h in pl[0]]))
        on = np.mean([gate(h, qsc) for h in HN])
        print(
            f"w={weight} match={match} q={qsc}: open firstfaq {o[1].mean():.3f} top {o[2].mean():.3f} right&through {ro:.3f} | policy first {pl[1].mean():.3f} r&t {rp:.3f} | oos through {on:.3f}",
            flush=True,
        )
