"""Out-of-scope threshold swept on shoppers' development messages (issue 14).

Parses every intent message of the named sets, and the templated held-out split, with the Rasa
model once, keeps what the BERT intent classifier saw (its top intent and calibrated top
confidence, before the threshold), and recomputes accuracy, macro-F1, out-of-scope recall and
precision and the in-scope share refused for each threshold of a grid. Development sets only.

python sweep.py MODEL.tar.gz dev,dev2 OUT.json      # project root, .venv
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
from training.classification_metrics import accuracy_and_macro_f1
from training.retrain import read_nlu_examples
from training.shopper_eval import SETS, load_shopper_eval

OOS = "out_of_scope"
GRID = [round(x, 3) for x in np.arange(0.0, 0.80, 0.01)]


def parse(model: str, texts: list[str], label: str) -> list[tuple[str, float, str]]:
    """(top intent, top confidence, served intent) of each text."""
    import structlog
    from rasa.core.agent import Agent

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load(model)

    async def run() -> list[tuple[str, float, str]]:
        out = []
        for text in tqdm(texts, desc=label, unit="msg"):
            parsed = await agent.parse_message(text)
            oos = parsed.get("oos") or {}
            served = str((parsed.get("intent") or {}).get("name") or "")
            out.append((str(oos.get("top_intent")), float(oos.get("top_confidence", 0.0)), served))
        return out

    return asyncio.run(run())


def scores(gold: list[str], top: list[str], conf: np.ndarray, t: float) -> dict[str, float]:
    pred = [OOS if (p == OOS or c < t) else p for p, c in zip(top, conf, strict=True)]
    m = accuracy_and_macro_f1(gold, pred)
    g = np.array([x == OOS for x in gold])
    r = np.array([x == OOS for x in pred])
    return {
        "threshold": t,
        "accuracy": round(m["accuracy"], 4),
        "macro_f1": round(m["macro_f1"], 4),
        "right": int(sum(a == b for a, b in zip(gold, pred, strict=True))),
        "oos_recall": round(float((g & r).sum() / max(1, g.sum())), 4),
        "oos_precision": round(float((g & r).sum() / max(1, r.sum())), 4),
        "in_scope_refused": round(float((~g & r).sum() / max(1, (~g).sum())), 4),
        "in_scope_refused_n": int((~g & r).sum()),
    }


def main(model: str, names: str, out: Path) -> None:
    sets: dict[str, tuple[list[str], list[str]]] = {}
    dev_texts: list[str] = []
    dev_gold: list[str] = []
    for name in names.split(","):
        directory, minimums = SETS[name]
        for e in load_shopper_eval(directory, minimums=minimums).intents:
            dev_texts.append(e.text)
            dev_gold.append(e.intent)
    sets["development"] = (dev_texts, dev_gold)
    templated = read_nlu_examples(Path("var/nlu/test.yml"), "templated")
    sets["templated"] = ([e.text for e in templated], [e.intent for e in templated])
    result: dict[str, object] = {"model": model, "sets": names}
    for label, (texts, gold) in sets.items():
        parsed = parse(model, texts, label)
        top = [p[0] for p in parsed]
        conf = np.array([p[1] for p in parsed])
        served = scores(gold, [p[2] for p in parsed], np.ones(len(parsed)), 0.0)
        result[label] = {
            "messages": len(texts),
            "served": served,
            "sweep": [scores(gold, top, conf, t) for t in GRID],
        }
        print(label, "served", served)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
