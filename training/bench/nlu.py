"""Benchmark section "NLU": Rasa's default DIET pipeline vs the BERT pipeline, same split, one run.

Both pipelines are trained with the real ``rasa train nlu`` on one NLU file built from
``var/nlu/train.csv`` (+ ``var/nlu/oos_train.csv`` as the ``out_of_scope`` intent, paraphrase
groups in example metadata) and evaluated through the loaded Rasa model
(``Agent.load`` + ``agent.parse_message``, one message at a time) on ``var/nlu/test.csv``, whose
out-of-scope rows (label ``oos``) no pipeline saw in training.

Both are also parsed on shoppers' own words: the frozen independent set
(``tests/fixtures/shopper_eval/v1``, written without the training data; not in quick runs).

Reported per pipeline: accuracy and macro-F1 of what the pipeline ships (its own out-of-scope
decision, FallbackClassifier undone as ``rasa test`` does), in-scope accuracy/macro-F1 of the
best in-scope intent, out-of-scope recall/precision as shipped, out-of-scope recall at matched
in-scope accuracy (each pipeline's own confidence threshold set on the test set so in-scope
accuracy drops by exactly the same 1 point), training time, parse latency p50/p95.

Budgets: DIET uses Rasa's default pipeline (``rasa init``) with epochs capped (``diet_epochs``,
6; Rasa's default is 100). Measured on the shared 2-core machine: one DIET epoch over ~21k
examples took ~210 s and DIET's training accuracy was 0.996 after 2 epochs, so 6 epochs
(~21 min there) is already a larger budget than the BERT ``demo`` preset (~12 min there). ``ctx.quick``: the 4-intent test fixture, DIET 5 epochs, BERT ``tiny``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from training.bench.report import BenchContext, BenchSection, markdown_table
from training.classification_metrics import (
    OOS,
    accuracy_and_macro_f1,
    intent_metrics,
    plot_confusion_matrix,
)
from training.prepare_nlu import BITEXT_INTENTS
from training.stats import percentiles_ms

logger = logging.getLogger(__name__)

TITLE = "NLU"
OOS_INTENT = "out_of_scope"
FALLBACK_INTENT = "nlu_fallback"
MAX_ACCURACY_DROP = 0.01


@dataclass(frozen=True)
class NluBenchSettings:
    """What one run trains and measures.

    Args:
        bert_preset: Preset of the BERT intent classifier.
        diet_epochs: DIETClassifier epochs (Rasa's default: 100).
        max_test: Cap on test messages (None = all).
        sentiment_model: Sentiment model directory included in the BERT pipeline when present.
    """

    bert_preset: str = "demo"
    diet_epochs: int = 6
    max_test: int | None = None
    sentiment_model: str = ""  # empty: models/<preset>/sentiment


QUICK = NluBenchSettings(bert_preset="tiny", diet_epochs=5, max_test=None)


@dataclass
class PipelineRun:
    """Predictions and timings of one pipeline on the test set."""

    name: str
    train_seconds: float
    latencies: list[float]
    intents: list[str] = field(default_factory=list)  # shipped decision, fallback undone
    top_in_scope: list[str] = field(default_factory=list)
    top_confidence: list[float] = field(default_factory=list)
    oos_class_wins: list[bool] = field(default_factory=list)
    fallback: list[bool] = field(default_factory=list)


def diet_config(epochs: int) -> dict[str, Any]:
    """Rasa 3.6's default NLU pipeline (``rasa init``) with DIET's epochs capped."""
    return {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "bench-diet",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexFeaturizer"},
            {"name": "LexicalSyntacticFeaturizer"},
            {"name": "CountVectorsFeaturizer"},
            {
                "name": "CountVectorsFeaturizer",
                "analyzer": "char_wb",
                "min_ngram": 1,
                "max_ngram": 4,
            },
            {
                "name": "DIETClassifier",
                "epochs": epochs,
                "constrain_similarities": True,
                "random_seed": 13,
            },
            {"name": "EntitySynonymMapper"},
            {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
        ],
        "policies": [],
    }


def bert_config(preset: str, sentiment_model: Path | None) -> dict[str, Any]:
    """The recommended ShopBot pipeline: BERT intent + OOS, regex + CRF entities, sentiment."""
    pipeline: list[dict[str, Any]] = [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexEntityExtractor", "use_regexes": True, "use_lookup_tables": True},
        {"name": "CRFEntityExtractor"},
        {"name": "EntitySynonymMapper"},
        {"name": "bot.nlu.intent_classifier.BertIntentClassifier", "preset": preset},
    ]
    if sentiment_model is not None:
        pipeline.append(
            {"name": "bot.nlu.sentiment.BertSentimentAnalyzer", "model_path": str(sentiment_model)}
        )
    pipeline.append({"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1})
    return {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "bench-bert",
        "pipeline": pipeline,
        "policies": [],
    }


def read_rows(path: Path) -> list[dict[str, str]]:
    """Read a ``text,label[,group]`` CSV."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.DictReader(fh) if (row.get("text") or "").strip()]


def write_nlu_yaml(train: list[dict[str, str]], oos_train: list[dict[str, str]], path: Path) -> int:
    """Write a Rasa NLU file: every training row with its group in example metadata.

    Returns:
        The number of examples written (exact duplicates within an intent are written once).
    """
    by_intent: dict[str, dict[str, str]] = {}
    for row in train:
        by_intent.setdefault(row["label"], {}).setdefault(row["text"].strip(), row.get("group", ""))
    for row in oos_train:
        by_intent.setdefault(OOS_INTENT, {}).setdefault(row["text"].strip(), row.get("group", ""))
    nlu: list[dict[str, Any]] = []
    for intent in sorted(by_intent):
        examples = [
            {"text": text, "metadata": {"group": group}} if group else {"text": text}
            for text, group in by_intent[intent].items()
        ]
        nlu.append({"intent": intent, "examples": examples})
    nlu.append({"regex": "order_number", "examples": "- \\b\\d{6}\\b\n"})
    nlu.append({"regex": "email", "examples": "- [\\w.+-]+@[\\w-]+\\.[\\w.-]+\n"})
    path.write_text(
        yaml.safe_dump({"version": "3.1", "nlu": nlu}, sort_keys=False), encoding="utf-8"
    )
    return sum(len(v) for v in by_intent.values())


def train_pipeline(
    config: dict[str, Any], nlu: Path, work: Path, name: str, root: Path
) -> tuple[Path, float]:
    """Run ``rasa train nlu`` in a subprocess; return the model path and wall time."""
    config_path = work / f"config_{name}.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    log = work / f"train_{name}.log"
    command = [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config_path),
               "--nlu", str(nlu), "--out", str(work / "models"), "--fixed-model-name", name]  # fmt: skip
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # No training cache: every pipeline trains from scratch, so the train times compare and a
        # result is never restored from an earlier run.
        "RASA_MAX_CACHE_SIZE": "0",
    }
    logger.info("Training %s: %s (log %s)", name, " ".join(command), log)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as fh:
        done = subprocess.run(
            command, cwd=root, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(
            f"rasa train nlu for {name} failed (exit {done.returncode}); log {log}:\n{tail}"
        )
    return work / "models" / f"{name}.tar.gz", seconds


def parse_all(model: Path, texts: Sequence[str], name: str, train_seconds: float) -> PipelineRun:
    """Load the Rasa model and parse every text one at a time, timing each call."""
    from rasa.core.agent import Agent
    from tqdm.auto import tqdm

    agent = Agent.load(str(model))
    run = PipelineRun(name, train_seconds, [])

    async def parse() -> None:
        for text in texts[:5]:
            await agent.parse_message(text)  # warm-up
        for text in tqdm(texts, desc=f"parse {name}", unit="msg"):
            started = time.perf_counter()
            result = await agent.parse_message(text)
            run.latencies.append(time.perf_counter() - started)
            record(run, result)

    asyncio.run(parse())
    return run


def record(run: PipelineRun, result: dict[str, Any]) -> None:
    """Store one parse result: the shipped intent and the best in-scope intent."""
    ranking = [r for r in result.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    intent = (result.get("intent") or {}).get("name")
    run.fallback.append(intent == FALLBACK_INTENT)
    if intent == FALLBACK_INTENT:  # undo the fallback as `rasa test` does
        intent = ranking[0]["name"] if ranking else None
    in_scope = [r for r in ranking if r.get("name") != OOS_INTENT]
    oos_info = result.get("oos") or {}
    if oos_info:  # the BERT classifier reports its decision and the raw in-scope best
        run.top_in_scope.append(str(oos_info.get("top_intent")))
        run.top_confidence.append(float(oos_info.get("top_confidence") or 0.0))
        class_conf = oos_info.get("class_confidence")
        run.oos_class_wins.append(
            class_conf is not None
            and float(class_conf) > float(oos_info.get("top_confidence") or 0.0)
        )
    else:
        run.top_in_scope.append(str(in_scope[0]["name"]) if in_scope else "")
        run.top_confidence.append(float(in_scope[0]["confidence"]) if in_scope else 0.0)
        run.oos_class_wins.append(bool(ranking) and ranking[0].get("name") == OOS_INTENT)
    run.intents.append(str(intent))


def matched_oos(run: PipelineRun, gold: Sequence[str]) -> dict[str, float]:
    """OOS recall when each pipeline's threshold costs exactly ``MAX_ACCURACY_DROP`` in-scope accuracy.

    A message is out of scope at threshold ``t`` when the trained out-of-scope class wins or
    the best in-scope confidence is below ``t``; ``t`` is the highest value that keeps in-scope
    accuracy within the drop of its value at ``t = 0`` (chosen on the test set, the same rule for
    every pipeline, so the comparison is at matched in-scope accuracy).
    """
    is_oos = np.array([g == OOS for g in gold])
    correct = np.array(
        [
            t == g and not w
            for t, g, w in zip(run.top_in_scope, gold, run.oos_class_wins, strict=True)
        ]
    )
    conf = np.array(run.top_confidence)
    class_wins = np.array(run.oos_class_wins)
    n_in = int((~is_oos).sum())
    base = float(correct[~is_oos].mean()) if n_in else float("nan")
    allowed = int(np.floor(MAX_ACCURACY_DROP * n_in + 1e-9))
    correct_conf = np.sort(conf[~is_oos & correct])
    threshold = float(correct_conf[allowed]) if allowed < len(correct_conf) else 1.0
    said_oos = class_wins | (conf < threshold)
    return {
        "in_scope_accuracy_base": base,
        "threshold": threshold,
        "in_scope_accuracy": float((correct & ~said_oos)[~is_oos].mean()) if n_in else float("nan"),
        "oos_recall": float(said_oos[is_oos].mean()) if is_oos.any() else float("nan"),
    }


def evaluate(run: PipelineRun, gold: Sequence[str]) -> dict[str, float]:
    """All figures of one pipeline."""
    shipped = intent_metrics(gold, run.intents, top_in_scope=run.top_in_scope)
    in_scope = [i for i, g in enumerate(gold) if g != OOS]
    in_scope_scores = accuracy_and_macro_f1(
        [gold[i] for i in in_scope], [run.top_in_scope[i] for i in in_scope]
    )
    bitext = [i for i, g in enumerate(gold) if g in BITEXT_INTENTS]
    bitext_scores = accuracy_and_macro_f1(
        [gold[i] for i in bitext], [run.intents[i] for i in bitext]
    )
    latency = percentiles_ms(run.latencies)
    matched = matched_oos(run, gold)
    return {
        "bitext_accuracy": bitext_scores["accuracy"],
        "bitext_macro_f1": bitext_scores["macro_f1"],
        "accuracy": shipped["accuracy"],
        "macro_f1": shipped["macro_f1"],
        "in_scope_top_accuracy": in_scope_scores["accuracy"],
        "in_scope_top_macro_f1": in_scope_scores["macro_f1"],
        "in_scope_accuracy_shipped": shipped["in_scope_accuracy"],
        "oos_recall_shipped": shipped.get("oos_recall", float("nan")),
        "oos_precision_shipped": shipped.get("oos_precision", float("nan")),
        "oos_recall_matched": matched["oos_recall"],
        "in_scope_accuracy_matched": matched["in_scope_accuracy"],
        "matched_threshold": matched["threshold"],
        "fallback_rate": float(np.mean(run.fallback)),
        "train_seconds": run.train_seconds,
        "latency_ms_p50": latency["p50"],
        "latency_ms_p95": latency["p95"],
    }


def write_predictions(
    runs: Sequence[PipelineRun], texts: Sequence[str], gold: Sequence[str], path: Path
) -> None:
    """One row per test message: text, gold label, each pipeline's shipped intent."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "gold", *[r.name for r in runs]])
        for i, (text, label) in enumerate(zip(texts, gold, strict=True)):
            writer.writerow([text, label, *[r.intents[i] for r in runs]])


def plot_latency(runs: Sequence[PipelineRun], path: Path) -> None:
    """Overlayed per-message parse latency histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    upper = max(np.percentile(np.array(r.latencies) * 1000, 99) for r in runs)
    bins = np.linspace(0, upper, 60)
    for r in runs:
        ax.hist(np.array(r.latencies) * 1000, bins=bins, alpha=0.55, label=r.name)
    ax.set_xlabel("parse latency per message (ms), Agent.parse_message")
    ax.set_ylabel("messages")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


SENTIMENT_TARGETS = {"eval_uci": 0.90, "eval_alexa": 0.80}


def sentiment_summary(
    model_dir: Path | None, out_dir: Path
) -> tuple[str, list[str], dict[str, float]]:
    """The sentiment model's held-out scores (from its ``metrics.json``) as markdown.

    The model is trained by ``shopbot train`` (``shopbot train-sentiment``), not by this bench;
    its confusion matrices are copied next to the report. Returns (markdown, plots, numbers).
    """
    if model_dir is None or not (model_dir / "metrics.json").is_file():
        return "No sentiment model with `metrics.json` found; run `shopbot train` first.", [], {}
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    header = [
        "held-out set",
        "rows",
        "labels",
        "accuracy",
        "macro-F1",
        "target",
        "recall per label",
    ]
    rows: list[list[object]] = []
    plots: list[str] = []
    numbers: dict[str, float] = {}
    for name, score in metrics.get("evals", {}).items():
        labels = ", ".join(f"{k} {v}" for k, v in score.get("label_counts", {}).items())
        recall = ", ".join(f"{k} {v:.2f}" for k, v in score.get("per_label_recall", {}).items())
        target = SENTIMENT_TARGETS.get(name)
        rows.append([
            name, score["n"], labels, score["accuracy"], score["macro_f1"],
            f">= {target:.2f}" if target else "", recall,
        ])  # fmt: skip
        numbers[f"sentiment_{name}_macro_f1"] = float(score["macro_f1"])
        png = model_dir / str(score.get("confusion_matrix", ""))
        if png.is_file() and png.suffix == ".png":
            target_png = f"sentiment_{png.name}"
            shutil.copyfile(png, out_dir / target_png)
            plots.append(target_png)
    markdown = "\n".join(
        [
            f"Sentiment model `{model_dir}` (preset `{metrics.get('preset')}`, "
            f"{metrics.get('n_train')} training rows, {metrics.get('train_seconds', 0):.0f} s on "
            f"{metrics.get('device')}; p50 {metrics.get('latency_ms_p50', 0):.1f} ms per message):",
            "",
            markdown_table(header, rows),
            "",
            "- `eval_uci`: held-out yelp + imdb sentences, scored as two classes. `eval_alexa`: "
            "held-out Alexa reviews, three classes (1-2 / 3 / 4-5 stars). `eval_shopper`: held-out "
            "shopper messages of the assistant's own NLU data (requests and questions are "
            "neutral, swearing ones negative): a plain question must not read as frustration.",
        ]
    )
    return markdown, plots, numbers


def _slug(pipeline: str) -> str:
    """``diet`` or ``bert``: a pipeline's name in file names and number keys."""
    return "diet" if pipeline.startswith("DIET") else "bert"


def shopper_messages(quick: bool) -> list[tuple[str, str]]:
    """The independent set's intent messages (``tests/fixtures/shopper_eval``), none in quick mode
    (the quick pipelines know 4 intents)."""
    if quick:
        return []
    from training.shopper_eval import load_shopper_eval

    return [(e.text, e.intent) for e in load_shopper_eval().intents]


def shopper_markdown(scores: dict[str, dict[str, float]], n: int, gold: Sequence[str]) -> str:
    """Both pipelines on shoppers' own words, the same columns as ``shopbot eval-shopper``."""
    header = ["pipeline", "accuracy", "macro-F1", "OOS recall shipped", "OOS precision shipped",
              "in-scope acc shipped", "parse p50 ms", "parse p95 ms"]  # fmt: skip
    rows = [
        [name, s["accuracy"], s["macro_f1"], s["oos_recall_shipped"], s["oos_precision_shipped"],
         s["in_scope_accuracy_shipped"], s["latency_ms_p50"], s["latency_ms_p95"]]
        for name, s in scores.items()
    ]  # fmt: skip
    return "\n".join(
        [
            f"**Shoppers' own words**: the frozen independent set (`tests/fixtures/shopper_eval/v1`, "
            f"{n} messages, {sum(g == OOS for g in gold)} out of scope), written without the "
            "training data; the same two models as above.",
            "",
            markdown_table(header, rows),
        ]
    )


def run_section(ctx: BenchContext, settings: NluBenchSettings | None = None) -> BenchSection:
    """Train both pipelines on the same split, evaluate them, return the report section."""
    root = ctx.project_root
    if settings is None:
        settings = QUICK if ctx.quick else NluBenchSettings()
    data_dir = root / "tests" / "fixtures" / "nlu" if ctx.quick else root / "var" / "nlu"
    names = (
        ("intent_train.csv", "intent_test.csv", "oos_train.csv")
        if ctx.quick
        else ("train.csv", "test.csv", "oos_train.csv")
    )
    paths = [data_dir / n for n in names]
    if not paths[0].is_file() or not paths[1].is_file():
        return BenchSection(
            TITLE, f"Not run: {paths[0]} / {paths[1]} missing; run `shopbot prepare` first."
        )
    train, test = read_rows(paths[0]), read_rows(paths[1])
    oos_train = read_rows(paths[2]) if paths[2].is_file() else []
    if settings.max_test is not None:
        test = test[: settings.max_test]
    gold = [OOS if r["label"] in (OOS, OOS_INTENT) else r["label"] for r in test]
    texts = [r["text"] for r in test]
    shopper = shopper_messages(ctx.quick)
    shopper_gold = [OOS if i == OOS_INTENT else i for _, i in shopper]
    sentiment = (
        (root / settings.sentiment_model)
        if settings.sentiment_model
        else ctx.models_dir() / "sentiment"
    ).resolve()
    sentiment_used = sentiment if (sentiment / "label_map.json").is_file() else None
    load_before = os.getloadavg()[0]
    logger.info("NLU bench settings: %s (sentiment model: %s)", settings, sentiment_used)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-nlu-") as tmp:
        work = Path(tmp)
        nlu = work / "nlu.yml"
        n_examples = write_nlu_yaml(train, oos_train, nlu)
        runs: list[PipelineRun] = []
        shopper_runs: list[PipelineRun] = []
        for name, config in (
            ("DIET (Rasa default)", diet_config(settings.diet_epochs)),
            ("BERT (ShopBot)", bert_config(settings.bert_preset, sentiment_used)),
        ):
            slug = _slug(name)
            model, seconds = train_pipeline(config, nlu, work, slug, root)
            runs.append(parse_all(model, texts, name, seconds))
            if shopper:
                shopper_runs.append(parse_all(model, [t for t, _ in shopper], name, seconds))
    load_after = os.getloadavg()[0]
    scores = {r.name: evaluate(r, gold) for r in runs}
    shopper_scores = {r.name: evaluate(r, shopper_gold) for r in shopper_runs}
    plots: list[str] = []
    for r in runs:
        slug = _slug(r.name)
        png = f"nlu_confusion_{slug}.png"
        plot_confusion_matrix(
            gold,
            [OOS if i == OOS_INTENT else i for i in r.intents],
            ctx.out_dir / png,
            f"{r.name}: shipped intents on the test split",
        )
        plots.append(png)
    plot_latency(runs, ctx.out_dir / "nlu_latency.png")
    plots.append("nlu_latency.png")
    (ctx.out_dir / "nlu_metrics.json").write_text(
        json.dumps({"templated": scores, "shopper": shopper_scores}, indent=2), encoding="utf-8"
    )
    write_predictions(runs, texts, gold, ctx.out_dir / "nlu_predictions.csv")

    header = ["pipeline", "accuracy", "macro-F1", "Bitext-intent acc", "Bitext-intent macro-F1",
              "in-scope acc (top intent)", "in-scope macro-F1",
              "OOS recall @ matched in-scope acc (-1 pt)", "in-scope acc there", "OOS recall shipped",
              "in-scope acc shipped", "train s", "parse p50 ms", "parse p95 ms"]  # fmt: skip
    rows = [
        [name, s["accuracy"], s["macro_f1"], s["bitext_accuracy"], s["bitext_macro_f1"],
         s["in_scope_top_accuracy"], s["in_scope_top_macro_f1"],
         s["oos_recall_matched"], s["in_scope_accuracy_matched"], s["oos_recall_shipped"],
         s["in_scope_accuracy_shipped"], round(s["train_seconds"], 1), s["latency_ms_p50"], s["latency_ms_p95"]]
        for name, s in scores.items()
    ]  # fmt: skip
    n_oos = sum(1 for g in gold if g == OOS)
    markdown = "\n".join(
        [
            f"Same split for both: {n_examples} training examples ({len(oos_train)} of them "
            f"`out_of_scope` from `{paths[2].name}`), {len(test)} test messages ({n_oos} out of scope, "
            f"never seen in training), paraphrase groups never straddle the split.",
            "",
            markdown_table(header, rows),
            "",
            f"- Budgets: DIET = Rasa's default pipeline with `epochs: {settings.diet_epochs}` "
            f"(default 100) on all training examples; BERT = `BertIntentClassifier` preset "
            f"`{settings.bert_preset}` (see `core/encoder_config.py` PRESETS: per-label cap, frozen "
            f"lower layers, 2 epochs) + regex/CRF entities"
            + (" + `BertSentimentAnalyzer`" if sentiment_used else " (no sentiment model found)")
            + ". Train time is the wall time of `rasa train nlu` (process start included).",
            f"- Bitext-intent: the shipped decision on the {sum(g in BITEXT_INTENTS for g in gold)} "
            "test rows of the 27 Bitext intents (the other rows: hand-written chit-chat, hand-off "
            "and form answers, templated product questions, out-of-scope). Per-message predictions "
            "of both pipelines: `nlu_predictions.csv`.",
            "- Accuracy/macro-F1: the shipped decision (out-of-scope rows count as one class `oos`), "
            "FallbackClassifier undone as `rasa test` does. In-scope acc (top intent): the best "
            "in-scope intent on in-scope rows. Matched: each pipeline's own confidence threshold set "
            f"on this test set so in-scope accuracy drops by {MAX_ACCURACY_DROP:.0%} point. "
            "Shipped: BERT's threshold chosen on held-out training data; DIET has only its trained "
            "`out_of_scope` class.",
            f"- Latency: `Agent.parse_message` per message, whole NLU pipeline, torch threads 1; "
            f"1-min load average {load_before:.1f} before / {load_after:.1f} after (2 cores shared "
            f"with other jobs inflate these).",
        ]
    )
    if shopper_scores:
        markdown += "\n\n" + shopper_markdown(shopper_scores, len(shopper), shopper_gold)
    numbers = {
        f"{_slug(n)}_{prefix}{k}": float(v)
        for prefix, table in (("", scores), ("shopper_", shopper_scores))
        for n, s in table.items()
        for k, v in s.items()
    }
    sentiment_markdown, sentiment_plots, sentiment_numbers = sentiment_summary(
        sentiment_used, ctx.out_dir
    )
    markdown += "\n\n### Sentiment\n\n" + sentiment_markdown
    return BenchSection(TITLE, markdown, plots + sentiment_plots, {**numbers, **sentiment_numbers})
