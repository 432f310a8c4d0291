"""``shopbot eval-shopper``: the model on shoppers' own words, beside the templated split.

Uses the frozen independent set (``tests/fixtures/shopper_eval/v1``, written without the
training data; see its PROVENANCE.md) and the templated held-out split (``var/nlu/test.yml``):

- intents: accuracy and macro-F1 of the Rasa model on both; out-of-scope recall (an
  ``out_of_scope`` message refused: predicted ``out_of_scope`` or ``nlu_fallback``), precision
  (refusals that were out of scope) and the share of in-scope messages refused;
- FAQ questions in shoppers' words: whether retrieval's best passage is the right FAQ entry (an
  upper bound of answering from the FAQ), and whether the pipeline also lets it through (the
  open-question floor, or an FAQ entry asked like the question);
- form answers: the value ``order_form`` keeps for each answer to one of its questions, per step
  (``training.eval_form_answers``: NLU parse → slot mappings → ``validate_order_form``).

``--parts`` picks some of them (all by default); ``--set dev`` reads the development set
(``tests/fixtures/shopper_eval/dev1``) instead, the one thresholds and weights are chosen on, and
``--set dev2`` the second development set (intents only; parts it lacks are skipped), ``--set
dev3`` the third (FAQ questions and out-of-scope messages, the FAQ matcher's settings are chosen
on it).
Writes ``report.md`` and ``numbers.json``.
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
from training.shopper_eval import SETS, ShopperEvalSet, load_shopper_eval

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


def faq_retrieval(knowledge_dir: Path, floor: float, evalset: ShopperEvalSet) -> dict[str, Any]:
    """How retrieval ranks the right FAQ entry for FAQ questions in shoppers' words.

    Two routes, as the bot takes them: an open question searches the FAQ and the catalog, a
    policy intent the FAQ alone. For each: whether the top hit is the right entry (the passage
    the bot answers from, and the first one the generator reads), whether it is among the hits
    (the old upper bound: the best-relevance hit), and whether the top hit is right and the hits
    pass the pipeline's gate: a passage as relevant as the open-question floor, or an FAQ entry
    asked like the question (``AnswerPipeline.question_score``, ``knowledge.faq_rank``).
    """
    from knowledge.answer import AnswerPipeline
    from knowledge.answer_checks import relevance
    from knowledge.types import Filters

    pipeline = AnswerPipeline.from_dir(knowledge_dir)
    questions = evalset.faq_questions
    numbers: dict[str, Any] = {"questions": len(questions), "floor": floor}
    misses: list[dict[str, Any]] = []
    for route, filters in (("open", None), ("policy", Filters(kind="faq"))):
        top = best = answered = 0
        for q in tqdm(questions, desc=f"faq ({route})", unit="q"):
            hits = pipeline.retriever.search(q.text, pipeline.top_k, filters)
            right = q.accepted_ids
            top_ok = bool(hits) and hits[0].passage.doc_id in right
            top += top_ok
            best += bool(hits) and max(hits, key=relevance).passage.doc_id in right
            answered += top_ok and pipeline.lets_through(hits, floor)
            if route == "open" and not top_ok and len(misses) < 30:
                misses.append(
                    {
                        "text": q.text,
                        "gold": q.faq_id,
                        "got": hits[0].passage.doc_id if hits else None,
                        "title": hits[0].passage.title[:60] if hits else None,
                    }
                )
        n = max(1, len(questions))
        numbers[route] = {
            "top_hit_right": top / n,
            "best_passage_right": best / n,
            "right_and_above_floor": answered / n,
        }
    numbers["misses"] = misses
    return numbers


def faq_lines(faq: dict[str, Any]) -> list[str]:
    """The FAQ table of the report."""
    lines = [
        f"FAQ questions in shoppers' words ({faq['questions']}), open-question floor "
        f"{faq['floor']}:",
        "",
        "| route | top hit right | right and let through (floor, or asked like an FAQ entry) | "
        "most relevant hit right |",
        "|---|---:|---:|---:|",
    ]
    for route, label in (("open", "open question (FAQ + catalog)"), ("policy", "policy (FAQ)")):
        r = faq[route]
        lines.append(
            f"| {label} | {r['top_hit_right']:.1%} | {r['right_and_above_floor']:.1%} | "
            f"{r['best_passage_right']:.1%} |"
        )
    return lines


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
    parser.add_argument(
        "--set",
        choices=sorted(SETS),
        default="test",
        help="the frozen test set (default) or a development set tuning is done on (dev: "
        "tests/fixtures/shopper_eval/dev1, dev2: dev2, intents only)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "shopper-eval")
    args = parser.parse_args(argv)
    logger.info("eval-shopper: %s", {k: str(v) for k, v in vars(args).items()})
    directory, minimums = SETS[args.set]
    evalset = load_shopper_eval(directory, minimums=minimums)
    numbers: dict[str, Any] = {"model": str(args.model), "set": args.set}
    lines = [f"# Shoppers' own words ({args.set} set) vs the templated split", ""]
    if "intents" in args.parts or "faq" in args.parts:
        lines += [f"Model `{args.model}`; knowledge `{args.knowledge_dir}`.", ""]
    if "intents" in args.parts:
        lines += intent_section(args, numbers, evalset)
    if "faq" in args.parts and evalset.faq_questions:
        faq = numbers["faq"] = faq_retrieval(
            args.knowledge_dir, settings.open_question_min_score, evalset
        )
        lines += ["", *faq_lines(faq)]
    if "form-answers" in args.parts and evalset.form_answers:
        numbers["form_answers"] = score_form_answers(args.model, evalset.form_answers)
        lines += [*([""] if lines[-1] else []), *form_answer_lines(numbers["form_answers"])]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "numbers.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def intent_section(
    args: argparse.Namespace, numbers: dict[str, Any], evalset: ShopperEvalSet
) -> list[str]:
    """Intent accuracy on both sets into ``numbers``; the markdown table."""
    independent = [Example(e.text, e.intent, "independent") for e in evalset.intents]
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
