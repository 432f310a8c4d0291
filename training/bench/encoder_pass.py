"""Benchmark section "Encoder pass": intent + sentiment in one encoder pass against two.

*Two passes* is the served configuration (``config.yml``): the Rasa model
``models/rasa/shopbot-<preset>.tar.gz`` and the separate sentiment model
``models/<preset>/sentiment``. *One pass* is the same pipeline with the intent encoder fine-tuned
on sentiment too (``sentiment_data``, ``model_path: shared``; decision 024), trained here with the
same preset into ``var/bench/`` (reused while its inputs are unchanged). Both load as a Rasa
server loads them (same device, int8 on CPU). Side by side in one run:

- intent accuracy and macro-F1 of both Rasa models on shoppers' own words (the frozen
  independent set) and on the templated held-out split;
- sentiment accuracy, macro-F1 and negative recall on the three evaluation sets
  (``var/sentiment/eval_*.csv``: Amazon Alexa reviews, UCI sentences, shopper messages);
- the time of one message's NLU encoders (batch 1, as the server runs them).
"""

from __future__ import annotations

import logging
import statistics
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from core.device import set_torch_threads
from core.encoder import TextClassifier
from core.feature_head import FeatureHead, LabelledTexts
from training.bench.report import BenchContext, BenchSection

logger = logging.getLogger(__name__)

TITLE = "Encoder pass: intent and sentiment in one pass"
EVAL_SETS = ("eval_alexa", "eval_uci", "eval_shopper")
INTENT_COMPONENT = "train_bot.nlu.intent_classifier.BertIntentClassifier"


def extract_intent_classifier(model: Path, into: Path) -> Path:
    """Unpack the intent classifier's directory from a Rasa model archive; return it."""
    with tarfile.open(model) as archive:
        members = [m for m in archive.getmembers() if INTENT_COMPONENT in m.name]
        if not members:
            raise FileNotFoundError(f"{model} has no {INTENT_COMPONENT} component")
        archive.extractall(into, members=members, filter="data")
    (head,) = {p.parent for p in into.rglob("label_map.json") if INTENT_COMPONENT in str(p)}
    return head


def sentiment_scores(gold: list[str], predicted: list[str], name: str) -> dict[str, float]:
    """Accuracy, macro-F1 and negative recall (UCI has no neutral: scored on its two labels)."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    negatives = [p for g, p in zip(gold, predicted, strict=True) if g == "negative"]
    return {
        "accuracy": float(np.mean([g == p for g, p in zip(gold, predicted, strict=True)])),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro")),
        "negative_recall": float(np.mean([p == "negative" for p in negatives]))
        if negatives
        else float("nan"),
        "n": len(gold),
    }


def _predict(labels: list[str], probs: np.ndarray, restrict: list[str] | None) -> list[str]:
    """Argmax labels; ``restrict`` limits the choice to those labels (the UCI set)."""
    if restrict:
        keep = [labels.index(label) for label in restrict]
        return [restrict[int(i)] for i in probs[:, keep].argmax(axis=1)]
    return [labels[int(i)] for i in probs.argmax(axis=1)]


def _time_ms(fn: Any, texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        fn([text])
        times.append((time.perf_counter() - started) * 1000)
    return times


def shared_config(root: Path, out: Path) -> Path:
    """``config.yml`` with intent and sentiment from one encoder pass, written to ``out``."""
    config = yaml.safe_load((root / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        name = str(component.get("name", ""))
        if name.endswith("BertIntentClassifier"):
            component["sentiment_data"] = "var/sentiment/train.csv"
        if name.endswith("BertSentimentAnalyzer"):
            component["model_path"] = "shared"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out


def intent_scores(root: Path, models: dict[str, Path], quick: bool) -> dict[str, dict[str, Any]]:
    """Intent accuracy of each Rasa model on the independent set and the templated split."""
    from training.retrain import Example, evaluate_model, read_nlu_examples, stratified_sample
    from training.shopper_eval import load_shopper_eval

    sets = {
        "independent": [
            Example(e.text, e.intent, "independent") for e in load_shopper_eval().intents
        ],
        "templated": stratified_sample(
            read_nlu_examples(root / "var" / "nlu" / "test.yml", "templated"),
            500 if quick else None,
        ),
    }
    return {name: evaluate_model(path, sets, name) for name, path in models.items()}


def run_section(ctx: BenchContext) -> BenchSection:
    """Train the one-pass model if needed, measure both configurations, write table and plot."""
    from training.train_rasa import train_rasa

    root = ctx.project_root
    served = root / "models" / "rasa" / f"shopbot-{ctx.preset}.tar.gz"
    shared = train_rasa(
        ctx.preset,
        root,
        out=root / "var" / "bench" / "encoder-pass" / f"shopbot-{ctx.preset}-shared.tar.gz",
        config=shared_config(root, root / "var" / "bench" / "encoder-pass" / "config-shared.yml"),
    )
    set_torch_threads(1)  # as the Rasa components run (torch_threads: 1)
    own_dir = ctx.models_dir() / "sentiment"
    with tempfile.TemporaryDirectory() as tmp:
        intent = TextClassifier.load(
            extract_intent_classifier(served, Path(tmp) / "served"), device="auto"
        )
        shared_dir = extract_intent_classifier(shared, Path(tmp) / "shared")
        one_pass = TextClassifier.load(shared_dir, device="auto")
        head = FeatureHead.load(shared_dir / "sentiment_head")
    own = TextClassifier.load(own_dir, device="auto")
    logger.info(
        "Encoder pass bench: two passes = %s + %s; one pass = %s (head layers %s)",
        served,
        own_dir,
        shared,
        list(head.layers),
    )

    rows: dict[str, dict[str, dict[str, float]]] = {"two passes": {}, "one pass": {}}
    for name in EVAL_SETS:
        data = LabelledTexts.read_csv(root / "var" / "sentiment" / f"{name}.csv")
        restrict = sorted(set(data.labels)) if name == "eval_uci" else None
        own_probs = own.predict_proba(data.texts)
        _, features = one_pass.logits_and_layers(data.texts, head.layers)
        rows["two passes"][name] = sentiment_scores(
            data.labels, _predict(own.labels, own_probs, restrict), name
        )
        rows["one pass"][name] = sentiment_scores(
            data.labels, _predict(head.labels, head.predict_proba(features), restrict), name
        )

    shopper = LabelledTexts.read_csv(root / "var" / "sentiment" / "eval_shopper.csv").texts
    texts = shopper[: 40 if ctx.quick else len(shopper)]
    for text in texts[:5]:  # warm-up
        intent.classify([text])
        one_pass.classify([text])
        own.predict_proba([text])

    def one_pass_turn(batch: list[str]) -> None:
        logits, features = one_pass.logits_and_layers(batch, head.layers)
        one_pass.decide(logits)
        head.predict_proba(features)

    latency = {
        "intent + sentiment, two passes (before)": _time_ms(
            lambda t: (intent.classify(t), own.predict_proba(t)), texts
        ),
        "intent + sentiment, one pass (after)": _time_ms(one_pass_turn, texts),
        "intent alone (for reference)": _time_ms(lambda t: intent.classify(t), texts),
    }
    intents = intent_scores(root, {"two passes": served, "one pass": shared}, ctx.quick)
    return _section(ctx, rows, latency, intents, head)


def _section(
    ctx: BenchContext,
    rows: dict[str, dict[str, dict[str, float]]],
    latency: dict[str, list[float]],
    intents: dict[str, dict[str, Any]],
    head: FeatureHead,
) -> BenchSection:
    numbers: dict[str, float] = {}
    lines = [
        f"Preset `{ctx.preset}`. Intents of both Rasa models (the one-pass model is the same "
        "pipeline and preset with sentiment as the encoder's second task):",
        "",
        "| configuration | set | messages | accuracy | macro-F1 |",
        "|---|---|---:|---:|---:|",
    ]
    for config, scores in intents.items():
        for name, score in scores.items():
            lines.append(
                f"| {config} | {name} | {score.examples} | {score.accuracy:.4f} | "
                f"{score.macro_f1:.4f} |"
            )
            numbers[f"{config.replace(' ', '_')}_intent_{name}_accuracy"] = score.accuracy
    lines += [
        "",
        "Sentiment on the evaluation sets (two passes = the separate fine-tuned sentiment model; "
        f"one pass = the head over layers {list(head.layers)} of the intent encoder):",
        "",
        "| configuration | set | n | accuracy | macro-F1 | negative recall |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for config, by_set in rows.items():
        for name, score in by_set.items():
            lines.append(
                f"| {config} | {name} | {int(score['n'])} | {score['accuracy']:.3f} | "
                f"{score['macro_f1']:.3f} | {score['negative_recall']:.3f} |"
            )
            key = config.replace(" ", "_")
            for metric in ("accuracy", "macro_f1", "negative_recall"):
                numbers[f"{key}_{name}_{metric}"] = score[metric]
    lines += [
        "",
        "NLU encoders per message (batch 1, one torch thread, "
        f"{len(next(iter(latency.values())))} shopper messages):",
        "",
        "| encoders | p50 ms | p95 ms | mean ms |",
        "|---|---:|---:|---:|",
    ]
    for name, times in latency.items():
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        lines.append(f"| {name} | {p50:.1f} | {p95:.1f} | {statistics.mean(times):.1f} |")
        numbers[f"latency_p50_ms_{name.split(',')[-1].strip()}"] = float(p50)
    plot = _plot(ctx.out_dir, latency)
    return BenchSection(TITLE, "\n".join(lines), [plot] if plot else [], numbers)


def _plot(out_dir: Path, latency: dict[str, list[float]]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3))
    names = list(latency)
    ax.boxplot([latency[n] for n in names], vert=False, showfliers=False)
    ax.set_yticks(range(1, len(names) + 1), [n.replace(", ", ",\n") for n in names], fontsize=8)
    ax.set_xlabel("ms per message (batch 1)")
    ax.set_title("NLU encoders per message")
    fig.tight_layout()
    name = "encoder_pass_latency.png"
    fig.savefig(out_dir / name, dpi=120)
    plt.close(fig)
    return name
