"""Benchmark section "Knowledge generation": generator tokens/s and answer latency.

- **Generation**: greedy decoding with the trained generator (``models/<preset>/knowledge/generator``) on
  real prompts (held-out questions with their retrieved passages): prompt tokens, time to first
  token, decode tokens/s, on CPU (torch's threads) and on the GPU when one is present.
- **Answers**: the whole pipeline (retrieve → generate → verify → reply) on held-out questions:
  latency p50/p95 per stage and end to end, outcome shares, and a latency histogram
  (``knowledge_generation_latency.png``);
- **Answer quality**: ``shopbot eval-answers`` with the generator and, side by side in the same
  run, with generation off (the passage-only baseline: every reply the verified passage);
- **Descriptions**: ``shopbot eval-describe`` with the same generator, beside the template.

``ctx.quick``: an untrained 2-layer GPT-2 and a hashing-embedder index over 40 demo products, built
in a temporary folder in seconds (numbers only show that the section runs).
"""

from __future__ import annotations

import copy
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.bench.report import BenchContext, BenchSection, markdown_table
from training.stats import p50_p95

logger = logging.getLogger(__name__)

TITLE = "Knowledge generation"
PLOT_FILE = "knowledge_generation_latency.png"
FALLBACK_QUESTIONS = (
    "How much is the Guillow Airplane Design Studio?",
    "What is your return policy?",
    "Who makes the Snap Circuits Mini Kits Classpack?",
    "Is the Woodstock Collage puzzle in stock?",
    "How can I track my order?",
    "What category is the DB Longboards CoreFlex Crossbow in?",
)


def _questions(root: Path, preset: str, n: int) -> list[str]:
    path = root / "var" / "generator" / preset / "eval_questions.jsonl"
    if not path.exists():
        return list(FALLBACK_QUESTIONS)[:n]
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    step = max(1, len(rows) // n)
    return [str(r["question"]) for r in rows[::step]][:n]


def generation_speed(
    generator: Any, prompts: Sequence[str], max_new_tokens: int
) -> dict[str, float]:
    """Greedy-decode every prompt; return prompt length, time to first token and tokens/s."""
    first_ms: list[float] = []
    decode_tokens = 0
    decode_s = 0.0
    prompt_tokens: list[int] = []
    for prompt in prompts:
        prompt_tokens.append(generator.count_tokens(prompt))
        start = time.perf_counter()
        first: float | None = None
        text = ""
        for piece in generator.stream(prompt, max_new_tokens):
            if first is None:
                first = time.perf_counter()
            text += piece
        end = time.perf_counter()
        n = generator.count_tokens(text)
        if first is not None:
            first_ms.append((first - start) * 1000)
            if n > 1:
                decode_tokens += n - 1
                decode_s += end - first
    return {
        "prompts": len(prompts),
        "prompt_tokens_mean": float(np.mean(prompt_tokens)) if prompt_tokens else 0.0,
        "first_token_ms_p50": p50_p95(first_ms)[0],
        "tokens_per_s": decode_tokens / decode_s if decode_s else float("nan"),
    }


def generator_prompts(pipeline: Any, questions: Sequence[str]) -> list[tuple[str, int]]:
    """The generator prompts (and answer lengths) ``pipeline`` builds answering ``questions``:
    its real prompts, for decoding benchmarks."""
    prompts: list[tuple[str, int]] = []
    stream = pipeline.generator.stream

    def capture(prompt: str, max_new: int) -> Any:
        prompts.append((prompt, max_new))
        return stream(prompt, max_new)

    pipeline.generator.stream = capture
    try:
        for question in questions:
            pipeline.answer(question, [], None, None)
    finally:
        pipeline.generator.stream = stream
    return prompts


def decode_at_once(
    generator: Any, prompts: Sequence[tuple[str, int]]
) -> tuple[list[str], float, float]:
    """Every prompt's answer, all at once, each asked from a thread of its own (as the action
    server asks); wall and CPU milliseconds per answer."""
    out = [""] * len(prompts)

    def work(i: int) -> None:
        out[i] = generator.generate(*prompts[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(prompts))]
    cpu, wall = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    n = max(1, len(prompts))
    return out, (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


def answer_latency(pipeline: Any, questions: Sequence[str]) -> dict[str, Any]:
    """Answer every question; return per-stage p50/p95, outcome shares and the totals."""
    stages: dict[str, list[float]] = {}
    outcomes: dict[str, int] = {}
    for question in questions:
        answer = pipeline.answer(question)
        outcomes[answer.outcome] = outcomes.get(answer.outcome, 0) + 1
        for stage, ms in answer.latency_ms.items():
            stages.setdefault(stage, []).append(ms)
    return {"stages": stages, "outcomes": outcomes}


def _quick_setup(tmp: Path, root: Path) -> tuple[Any, Any]:
    """An untrained tiny GPT-2 and a hashing-embedder index over 40 demo products."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from knowledge.answer import AnswerPipeline
    from knowledge.catalog.load import load_catalog
    from knowledge.catalog.mappings import AMAZON_2020
    from knowledge.embedder import HashingEmbedder
    from knowledge.faq import load_faq
    from knowledge.generator import LocalGenerator
    from knowledge.index import KnowledgeIndex
    from knowledge.passages import build_passages
    from knowledge.retriever import HybridRetriever
    from training.train_tokenizer import train_tokenizer

    products = load_catalog(
        root / "data" / "demo" / "catalog" / "amazon_products_sample1000.csv", AMAZON_2020, limit=40
    ).products
    faqs = load_faq(root / "data" / "demo" / "faq" / "ecommerce_faq.csv")[:20]
    passages = build_passages(products, faqs)
    index = KnowledgeIndex.build(passages, HashingEmbedder())
    tokenizer = train_tokenizer([p.text for p in passages], vocab_size=512)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=256, n_embd=64, n_layer=2, n_head=4,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    generator = LocalGenerator(tmp, device="cpu")
    pipeline = AnswerPipeline(HybridRetriever(index), generator, min_score=0.0, max_new_tokens=24)
    return generator, pipeline


def _plot(totals: Sequence[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(totals, bins=min(30, max(5, len(totals) // 3)), color="#4c72b0")
    p50, p95 = p50_p95(totals)
    for value, label, style in ((p50, "p50", "--"), (p95, "p95", ":")):
        ax.axvline(value, color="black", linestyle=style, label=f"{label} {value:.0f} ms")
    ax.set_xlabel("answer latency (ms, end to end)")
    ax.set_ylabel("questions")
    ax.set_title("Grounded answers: latency")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_section(ctx: BenchContext) -> BenchSection:
    """Measure generation speed and answer latency; return the report section."""
    import torch

    from knowledge.answer import AnswerPipeline
    from knowledge.prompt import build_prompt

    n_questions = 8 if ctx.quick else 60
    questions = _questions(ctx.project_root, ctx.preset, n_questions)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    if ctx.quick:
        tmp = tempfile.TemporaryDirectory(prefix="bench-gen-")
        generator, pipeline = _quick_setup(Path(tmp.name), ctx.project_root)
        label = "untrained tiny GPT-2 (quick run)"
    else:
        knowledge_dir = ctx.models_dir() / "knowledge"
        if (
            not (knowledge_dir / "generator" / "config.json").exists()
            or not (knowledge_dir / "index").exists()
        ):
            return BenchSection(
                TITLE,
                f"Not measured: no generator or index under `{knowledge_dir}` "
                f"(run `shopbot train --preset {ctx.preset}`).",
            )
        pipeline = AnswerPipeline.from_dir(knowledge_dir)
        generator = pipeline.generator
        label = f"trained generator ({knowledge_dir / 'generator'})"
    try:
        pipeline.warm_up()
        pipeline.answer(questions[0])  # warm caches: first-call costs stay out of the figures
        budget, count, max_new = pipeline.prompt_settings()
        prompts = []
        for question in questions:
            hits = pipeline.retriever.search(question, pipeline.top_k)
            prompts.append(
                build_prompt(question, [h.passage for h in hits], None, budget, count).text
            )
        rows = []
        speeds: dict[str, dict[str, float]] = {}
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not ctx.quick else [])
        for device in devices:
            if device != getattr(generator, "device", "cpu") and hasattr(generator, "model_dir"):
                from knowledge.generator import LocalGenerator

                other = LocalGenerator(generator.model_dir, device=device)
                other.warm_up()
                speeds[device] = generation_speed(other, prompts, max_new)
            else:
                speeds[device] = generation_speed(generator, prompts, max_new)
            s = speeds[device]
            rows.append(
                [device, f"{torch.get_num_threads()} threads" if device == "cpu" else torch.cuda.get_device_name(0),
                 s["prompts"], s["prompt_tokens_mean"], s["first_token_ms_p50"], s["tokens_per_s"]]
            )  # fmt: skip
        latency = answer_latency(pipeline, questions)
        quality = baseline = described = None
        if not ctx.quick:
            quality = answer_quality(ctx, pipeline)
            baseline = answer_quality(ctx, passage_only(pipeline), "eval_answers_passage_only")
            described = description_quality(ctx, generator)
    finally:
        if tmp is not None:
            tmp.cleanup()
    totals = latency["stages"].get("total", [])
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    _plot(totals, ctx.out_dir / PLOT_FILE)
    stage_rows = [
        [stage, *p50_p95(values)]
        for stage, values in sorted(latency["stages"].items(), key=lambda kv: kv[0] == "total")
    ]
    n = max(1, sum(latency["outcomes"].values()))
    outcome_text = ", ".join(f"{k} {v / n:.0%}" for k, v in sorted(latency["outcomes"].items()))
    p50, p95 = p50_p95(totals)
    header = ["device", "threads / GPU", "prompts", "prompt tokens (mean)"]
    header += ["first token p50 (ms)", "decode tokens/s"]
    markdown = "\n\n".join(
        [
            f"Generator: {label}. {len(questions)} held-out questions; greedy decoding, "
            f"at most {max_new} new tokens.",
            markdown_table(header, rows),
            markdown_table(["stage", "p50 (ms)", "p95 (ms)"], stage_rows),
            f"Outcomes: {outcome_text}.",
            *([] if quality is None else [quality_markdown(quality, baseline)]),
            *([] if described is None else [describe_markdown(described)]),
        ]
    )
    numbers: dict[str, Any] = {
        "generation_tokens_per_s_cpu": speeds["cpu"]["tokens_per_s"],
        "answer_latency_ms_p50": p50,
        "answer_latency_ms_p95": p95,
    }
    if quality is not None:
        numbers["answers"] = {
            k: quality[k]
            for k in (
                "questions", "accuracy_attribute", "accuracy_faq", "accuracy_by_type",
                "faithfulness", "unsupported_number_answers", "citation_accuracy",
                "fallback_rate", "latency_ms_p50", "latency_ms_p95",
            )
        }  # fmt: skip
        numbers["answers"]["forbidden_promises"] = quality.get("injection", {}).get(
            "forbidden_promises"
        )
    if baseline is not None:
        numbers["answers_passage_only"] = {
            k: baseline[k] for k in ("accuracy_attribute", "accuracy_faq", "outcomes")
        }
    if quality is not None:
        numbers["answers"]["outcomes"] = quality["outcomes"]
        numbers["answers"]["outcomes_answerable"] = quality["outcomes_answerable"]
    if described is not None:
        numbers["descriptions"] = {
            system: {k: described[system][k] for k in ("shown", "with_unsupported_fact",
                                                       "attribute_coverage", "rouge_l",
                                                       "distinct_2")}
            for system in ("generator", "template")
        }  # fmt: skip
    if "cuda" in speeds:
        numbers["generation_tokens_per_s_cuda"] = speeds["cuda"]["tokens_per_s"]
    return BenchSection(TITLE, markdown, [PLOT_FILE], numbers)


def answer_quality(
    ctx: BenchContext, pipeline: Any, name: str = "eval_answers"
) -> dict[str, Any] | None:
    """``shopbot eval-answers`` on the preset's held-out questions, with ``pipeline``."""
    from training.eval_answers import EvalAnswersArgs, run

    args = EvalAnswersArgs(preset=ctx.preset, out=str(ctx.out_dir / name))
    if not (ctx.project_root / args.questions).exists():
        logger.warning("No held-out questions at %s: answer quality not measured", args.questions)
        return None
    return run(args, pipeline=pipeline)


def passage_only(pipeline: Any) -> Any:
    """``pipeline`` with generation off: every answer the verified passage (the baseline)."""
    from knowledge.generator import PassageOnlyGenerator

    baseline = copy.copy(pipeline)
    baseline.generator = PassageOnlyGenerator()
    return baseline


def description_quality(ctx: BenchContext, generator: Any) -> dict[str, Any] | None:
    """``shopbot eval-describe`` on the preset's held-out products, with ``generator``."""
    from training.eval_describe import EvalDescribeArgs, run

    args = EvalDescribeArgs(preset=ctx.preset, out=str(ctx.out_dir / "eval_describe"))
    if not (ctx.project_root / args.split).exists():
        logger.warning("No held-out split at %s: descriptions not measured", args.split)
        return None
    return run(args, generator=generator)


def _share(value: float) -> str:
    return f"{value:.1%}"


# (measure, the value in one run's metrics, target) — targets from issue 15.
_QUALITY_ROWS: tuple[tuple[str, Callable[[dict[str, Any]], str], str], ...] = (
    ("generated replies, questions the store can answer",
     lambda m: _share(m.get("outcomes_answerable", {}).get("generated", 0.0)), ">= 80%"),
    ("verified passage / \"I don't know\", questions the store can answer",
     lambda m: " / ".join(_share(m.get("outcomes_answerable", {}).get(k, 0.0))
                          for k in ("passage", "unknown")), ""),
    ("generated / passage / \"I don't know\", all questions",
     lambda m: " / ".join(_share(m["outcomes"][k]) for k in ("generated", "passage", "unknown")),
     ""),
    ("accuracy, attribute questions (price/brand/category/spec)",
     lambda m: _share(m["accuracy_attribute"]), ">= 95%"),
    ("accuracy, FAQ questions", lambda m: _share(m["accuracy_faq"]), ">= 95%"),
    ("not-in-store questions answered \"I don't know\"",
     lambda m: _share(m["accuracy_by_type"].get("unknown", 0.0)), ">= 90%"),
    ("accuracy of generated replies",
     lambda m: _share(m["accuracy_generated_only"]) if m["outcomes"]["generated"] else "—", ""),
    ("faithfulness (every fact supported)", lambda m: _share(m["faithfulness"]), ""),
    ("replies with an unsupported price/number",
     lambda m: str(m["unsupported_number_answers"]), "0"),
    ("citation accuracy", lambda m: _share(m["citation_accuracy"]), ""),
    ("generated replies that copied values through references",
     lambda m: _share(m.get("generated_with_references", 0.0)), ""),
    ("generated replies made of references only",
     lambda m: _share(m.get("generated_references_only", 0.0)), ""),
    ("answer latency p50 / p95 (ms)",
     lambda m: f"{m['latency_ms_p50']:.0f} / {m['latency_ms_p95']:.0f}", "p95 <= 1500"),
    ("forbidden promises (prompt-injection fixtures)",
     lambda m: (f"{m['injection']['forbidden_promises']} of {m['injection']['fixtures']}"
                if m.get("injection") else "not measured"), "0"),
)  # fmt: skip


def quality_markdown(metrics: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """The answer-quality table: the passage-only baseline (when measured) beside the generator,
    and issue 15's targets."""
    runs = ([baseline] if baseline else []) + [metrics]
    header = ["measure", *(["passage only (baseline)"] if baseline else []), "generator", "target"]
    rows: list[list[object]] = [
        [label, *(value(m) for m in runs), target] for label, value, target in _QUALITY_ROWS
    ]
    for kind in metrics["accuracy_by_type"]:
        rows.append(
            [f"accuracy[{kind}]", *(_share(m["accuracy_by_type"].get(kind, 0.0)) for m in runs), ""]
        )
    for split in metrics["accuracy_by_split"]:
        rows.append(
            [f"accuracy[{split} phrasings]",
             *(f"{m['accuracy_by_split'][split]['accuracy']:.1%} of "
               f"{m['accuracy_by_split'][split]['questions']}" for m in runs), ""]
        )  # fmt: skip
    return (
        f"Answer quality (`shopbot eval-answers`, {metrics['questions']} held-out questions about "
        "products and FAQ entries never used in fine-tuning, and questions whose answer is not in "
        "the store), side by side in one run:\n\n" + markdown_table(header, rows)
    )


def describe_markdown(metrics: dict[str, Any]) -> str:
    """The description table (``shopbot eval-describe``): generator, its drafts, the template."""
    from training.eval_describe import table_lines

    return (
        f"Product descriptions (`shopbot eval-describe`, {metrics['generator']['products']} "
        "held-out products, the same generator):\n\n" + "\n".join(table_lines(metrics))
    )
