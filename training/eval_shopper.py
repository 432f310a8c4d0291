"""``shopbot eval-shopper``: the model on shoppers' own words, beside the templated split.

Uses the frozen independent set (``tests/fixtures/shopper_eval/v1``, written without the
training data; see its PROVENANCE.md) and the templated held-out split (``var/nlu/test.yml``):

- intents: accuracy and macro-F1 of the Rasa model on both; out-of-scope recall (an
  ``out_of_scope`` message refused: predicted ``out_of_scope`` or ``nlu_fallback``), precision
  (refusals that were out of scope) and the share of in-scope messages refused;
- FAQ questions in shoppers' words: whether retrieval's best passage is the right FAQ entry (an
  upper bound of answering from the FAQ), and whether it also clears the open-question floor;
- form answers: the value ``order_form`` keeps for each answer to one of its questions, per step
  (``training.eval_form_answers``: NLU parse → slot mappings → ``validate_order_form``).

``--parts`` picks some of them (all by default). Writes ``report.md`` and ``numbers.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.settings import Settings
from training.eval_form_answers import report_lines as form_answer_lines
from training.eval_form_answers import score_form_answers
from training.retrain import Example, evaluate_model, read_nlu_examples, stratified_sample
from training.shopper_eval import load_shopper_eval

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
REFUSALS = ("out_of_scope", "nlu_fallback")
PARTS = ("intents", "faq", "form-answers")


def oos_numbers(predicted: list[str], examples: list[Example]) -> dict[str, float]:
    """Out-of-scope recall, precision and in-scope refusals from an evaluation's predictions."""
    gold_oos = [e.intent == "out_of_scope" for e in examples]
    refused = [p in REFUSALS for p in predicted]
    true_refusals = sum(r and g for r, g in zip(refused, gold_oos, strict=True))
    in_scope = len(examples) - sum(gold_oos)
    return {
        "oos_recall": true_refusals / max(1, sum(gold_oos)),
        "oos_precision": true_refusals / max(1, sum(refused)),
        "in_scope_refused": sum(r and not g for r, g in zip(refused, gold_oos, strict=True))
        / max(1, in_scope),
    }


def faq_retrieval(knowledge_dir: Path, floor: float) -> dict[str, Any]:
    """Best-passage accuracy of retrieval on the FAQ questions in shoppers' words."""
    from knowledge.answer import AnswerPipeline
    from knowledge.answer_checks import relevance

    pipeline = AnswerPipeline.from_dir(knowledge_dir)
    questions = load_shopper_eval().faq_questions
    right = answered = 0
    misses: list[dict[str, Any]] = []
    for q in tqdm(questions, desc="faq", unit="q"):
        hits = pipeline.retriever.search(q.text, pipeline.top_k, None)
        best = max(hits, key=relevance) if hits else None
        ok = best is not None and best.passage.doc_id in {q.faq_id, *q.also_correct}
        right += ok
        answered += ok and relevance(best) >= floor  # type: ignore[arg-type]
        if not ok and len(misses) < 30:
            misses.append(
                {
                    "text": q.text,
                    "gold": q.faq_id,
                    "got": best.passage.doc_id if best else None,
                    "title": best.passage.title[:60] if best else None,
                }
            )
    return {
        "questions": len(questions),
        "best_passage_right": right / len(questions),
        "right_and_above_floor": answered / len(questions),
        "floor": floor,
        "misses": misses,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate and write the report."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="shopbot eval-shopper", description=__doc__)
    parser.add_argument("--model", type=Path, default=settings.rasa_model)
    parser.add_argument("--knowledge-dir", type=Path, default=settings.path(settings.knowledge_dir))
    parser.add_argument("--heldout", type=Path, default=settings.var_dir / "nlu" / "test.yml")
    parser.add_argument("--heldout-sample", type=int, default=None)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="what to evaluate: intents (both sets), faq (retrieval), form-answers (order_form)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "shopper-eval")
    args = parser.parse_args(argv)
    logger.info("eval-shopper: %s", {k: str(v) for k, v in vars(args).items()})
    numbers: dict[str, Any] = {"model": str(args.model)}
    lines = ["# Shoppers' own words vs the templated split", ""]
    if "intents" in args.parts or "faq" in args.parts:
        lines += [f"Model `{args.model}`; knowledge `{args.knowledge_dir}`.", ""]
    if "intents" in args.parts:
        lines += intent_section(args, numbers)
    if "faq" in args.parts:
        faq = numbers["faq"] = faq_retrieval(args.knowledge_dir, settings.open_question_min_score)
        lines += [
            "",
            f"FAQ questions in shoppers' words ({faq['questions']}): the best retrieved passage is "
            f"the right FAQ entry for {faq['best_passage_right']:.1%}; right and above the "
            f"open-question floor ({faq['floor']}) for {faq['right_and_above_floor']:.1%}.",
        ]
    if "form-answers" in args.parts:
        numbers["form_answers"] = score_form_answers(args.model)
        lines += [*([""] if lines[-1] else []), *form_answer_lines(numbers["form_answers"])]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "numbers.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def intent_section(args: argparse.Namespace, numbers: dict[str, Any]) -> list[str]:
    """Intent accuracy on both sets into ``numbers``; the markdown table."""
    independent = [Example(e.text, e.intent, "independent") for e in load_shopper_eval().intents]
    templated = stratified_sample(read_nlu_examples(args.heldout, "templated"), args.heldout_sample)
    sets = {"independent": independent, "templated": templated}
    scores = evaluate_model(args.model, sets, "model")
    for name, examples in sets.items():
        numbers[name] = {
            "examples": scores[name].examples,
            "accuracy": round(scores[name].accuracy, 4),
            "macro_f1": round(scores[name].macro_f1, 4),
            **{k: round(v, 4) for k, v in oos_numbers(scores[name].predicted, examples).items()},
        }
    numbers["independent_errors"] = scores["independent"].errors
    lines = [
        "| set | messages | accuracy | macro-F1 | OOS recall | OOS precision | in-scope refused |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in sets:
        n = numbers[name]
        lines.append(
            f"| {name} | {n['examples']} | {n['accuracy']:.4f} | {n['macro_f1']:.4f} | "
            f"{n['oos_recall']:.4f} | {n['oos_precision']:.4f} | {n['in_scope_refused']:.4f} |"
        )
    return lines
