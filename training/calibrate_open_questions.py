"""``shopbot calibrate-open-questions``: the relevance a message's best passage needs before the bot
answers an open question (NLU fallback, out of scope) from the store's FAQ and catalog.

Development data, never a test set: shopper messages of the intents the store's FAQ and catalog
answer (the NLU training data: ``bot/data/nlu/generated``) are the positives; the out-of-scope
training messages (``bot/data/nlu/out_of_scope.yml`` and the generated ones) the negatives. For
each message the retriever's best dense relevance (``knowledge.answer_checks.relevance``) is
recorded; the threshold is the lowest one at which at most ``--max-oos-rate`` of the negatives
would be answered. Writes ``report.md``, ``numbers.json`` and a histogram.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from core.settings import Settings
from knowledge.answer import AnswerPipeline
from knowledge.answer_checks import relevance
from training.retrain import Example, read_nlu_examples

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
NLU = ROOT / "bot" / "data" / "nlu"
# Intents whose answer is in the store's FAQ or catalog (the rest are transactional or chit-chat).
ANSWERABLE = (
    "check_refund_policy",
    "check_payment_methods",
    "delivery_options",
    "delivery_period",
    "check_cancellation_fee",
    "place_order",
    "create_account",
    "newsletter_subscription",
    "product_question",
)


def dev_messages(per_intent: int, seed: int = 13) -> tuple[list[Example], list[Example]]:
    """(positives, negatives) from the NLU training data."""
    rng = random.Random(seed)
    positives: list[Example] = []
    for path in sorted((NLU / "generated").glob("*.yml")):
        by_intent: dict[str, list[Example]] = {}
        for example in read_nlu_examples(path, path.stem):
            if example.intent in ANSWERABLE:
                by_intent.setdefault(example.intent, []).append(example)
        for examples in by_intent.values():
            positives += rng.sample(examples, min(per_intent, len(examples)))
    negatives = [
        e
        for path in (NLU / "out_of_scope.yml", NLU / "generated" / "out_of_scope.yml")
        if path.exists()
        for e in read_nlu_examples(path, path.stem)
        if e.intent == "out_of_scope"
    ]
    return positives, list({e.text.lower(): e for e in negatives}.values())


def best_relevance(pipeline: AnswerPipeline, texts: Sequence[str]) -> list[float]:
    """The best passage's relevance for each text."""
    scores = []
    for text in tqdm(texts, desc="retrieve", unit="msg"):
        hits = pipeline.retriever.search(text, pipeline.top_k, None)
        scores.append(max((relevance(h) for h in hits), default=0.0))
    return scores


def choose(positives: list[float], negatives: list[float], max_oos_rate: float) -> float:
    """The lowest threshold (on a 0.005 grid) answering at most ``max_oos_rate`` of negatives."""
    for step in range(0, 201):
        threshold = round(step * 0.005, 3)
        answered = sum(s >= threshold for s in negatives) / max(1, len(negatives))
        if answered <= max_oos_rate:
            return threshold
    return 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and write the report."""
    parser = argparse.ArgumentParser(prog="shopbot calibrate-open-questions", description=__doc__)
    parser.add_argument("--knowledge-dir", type=Path, help="default: the preset's knowledge dir")
    parser.add_argument("--per-intent", type=int, default=40)
    parser.add_argument("--max-oos-rate", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "open-questions")
    args = parser.parse_args(argv)
    settings = Settings()
    knowledge_dir = args.knowledge_dir or settings.path(settings.knowledge_dir)
    logger.info("Calibrating open questions on %s: %s", knowledge_dir, vars(args))
    pipeline = AnswerPipeline.from_dir(knowledge_dir)
    positives, negatives = dev_messages(args.per_intent)
    pos = best_relevance(pipeline, [e.text for e in positives])
    neg = best_relevance(pipeline, [e.text for e in negatives])
    threshold = choose(pos, neg, args.max_oos_rate)
    pos_rate = sum(s >= threshold for s in pos) / len(pos)
    neg_rate = sum(s >= threshold for s in neg) / len(neg)
    by_intent = {
        intent: round(
            sum(s >= threshold for e, s in zip(positives, pos, strict=True) if e.intent == intent)
            / max(1, sum(e.intent == intent for e in positives)),
            3,
        )
        for intent in ANSWERABLE
    }
    numbers = {
        "knowledge_dir": str(knowledge_dir),
        "threshold": threshold,
        "max_oos_rate": args.max_oos_rate,
        "positives": len(pos),
        "negatives": len(neg),
        "positives_answered": round(pos_rate, 4),
        "negatives_answered": round(neg_rate, 4),
        "positives_answered_by_intent": by_intent,
        "negatives_above": sorted(
            (
                {"text": e.text, "relevance": round(s, 3)}
                for e, s in zip(negatives, neg, strict=True)
                if s >= threshold
            ),
            key=lambda r: -float(str(r["relevance"])),
        ),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "numbers.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    _plot(pos, neg, threshold, args.out / "open_question_relevance.png")
    lines = [
        "# Open questions: the relevance threshold",
        "",
        f"Knowledge: `{knowledge_dir}`. Development data (NLU training messages, never a test set): "
        f"{len(pos)} messages of intents the FAQ/catalog answers, {len(neg)} out-of-scope messages.",
        "",
        f"**Threshold {threshold}** (the lowest with at most {args.max_oos_rate:.0%} of the "
        f"out-of-scope messages answered): {pos_rate:.1%} of the answerable messages reach an "
        f"answer, {neg_rate:.1%} of the out-of-scope ones would.",
        "",
        "| intent | answered at the threshold |",
        "|---|---:|",
        *[f"| {k} | {v:.1%} |" for k, v in by_intent.items()],
        "",
        "![relevance](open_question_relevance.png)",
    ]
    (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def _plot(pos: list[float], neg: list[float], threshold: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = [i / 50 for i in range(51)]
    ax.hist(pos, bins=bins, alpha=0.6, label="answerable (FAQ/catalog intents)")
    ax.hist(neg, bins=bins, alpha=0.6, label="out of scope")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold}")
    ax.set_xlabel("best passage relevance (dense cosine)")
    ax.set_ylabel("messages")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
