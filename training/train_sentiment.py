"""``shopbot train-sentiment``: fine-tune a BERT sentiment classifier (negative/neutral/positive).

Usage::

    python -m training.prepare_sentiment            # var/sentiment/*.csv from the review data
    shopbot train-sentiment --train var/sentiment/train.csv --eval var/sentiment/eval_alexa.csv \\
        --extra-eval var/sentiment/eval_uci.csv --out models/sentiment --preset demo

Labels are ``negative``/``neutral``/``positive`` or ``0``/``1`` (negative/positive). The loss is
weighted by inverse class frequency (review data is mostly positive). An evaluation file with
only negative/positive rows is scored as a two-class task: the model's choice is restricted to
those two labels (``macro_f1_three_way`` keeps the unrestricted figure). Writes the model
directory that ``bot.nlu.sentiment.BertSentimentAnalyzer`` loads, ``DIR/metrics.json``
(``accuracy``, ``macro_f1`` of ``--eval``; every file under ``evals``) and a confusion-matrix PNG
per evaluation file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.encoder import TextClassifier, write_json
from core.encoder_config import TrainConfig
from training import classifier_args as flags
from training.classification_metrics import (
    accuracy_and_macro_f1,
    plot_confusion_matrix,
    time_per_message,
)
from training.cli_args import parse_args
from training.labelled_csv import (
    LabelledCsvError,
    LabelledData,
    read_labelled_csv,
    require_classes,
)
from training.stats import percentiles_ms

logger = logging.getLogger(__name__)

DESCRIPTION = "Fine-tune a BERT sentiment classifier (negative/neutral/positive) on labelled CSVs."
SENTIMENT_LABELS = ("negative", "neutral", "positive")
LABEL_ALIASES = {"0": "negative", "1": "positive", **{label: label for label in SENTIMENT_LABELS}}

# Sentiment data is small (a few thousand reviews) and reviews are longer than chat messages:
# no per-label cap, every layer learns (measured on the demo data: held-out yelp+imdb macro-F1
# 0.913 vs 0.898 with the two lower layers frozen), rare labels repeated up to 400 per epoch.
# tiny: 200 rows per label and three layers learning (36 s on 2 cores) is the least that rates
# plain shopper questions neutral (0.95+) and outbursts negative, which the end-to-end tests check.
SENTIMENT_PRESET_OVERRIDES: dict[str, dict[str, Any]] = {
    "tiny": {"class_weighting": True, "max_examples_per_label": 200, "freeze_layers": 3},
    "demo": {
        "max_examples_per_label": None,
        "min_examples_per_label": 400,
        "max_length": 64,
        "epochs": 3,
        "freeze_layers": 0,
        "evals_per_epoch": 2,
        "patience": 3,
        "class_weighting": True,
    },
    "full": {"max_length": 128, "min_examples_per_label": 400, "class_weighting": True},
}


@dataclass
class TrainSentimentArgs:
    """Arguments of ``shopbot train-sentiment``."""

    train: str = field(metadata={"help": "training CSV (columns text,label[,group])"})
    eval: str = field(metadata={"help": "evaluation CSV; its scores are the top-level metrics"})
    out: str = field(metadata={"help": "output directory (model, metrics.json, confusion PNGs)"})
    extra_eval: str | None = field(
        default=None,
        metadata={"help": "more evaluation CSVs, comma separated (reported under 'evals')"},
    )
    preset: str = flags.preset_field()
    model: str = flags.model_field()
    device: str = flags.device_field()
    text_column: str = flags.column_field("text")
    label_column: str = flags.column_field("label")
    epochs: int | None = flags.override_field("epochs")
    max_length: int | None = flags.override_field("maximum tokens per text")
    freeze_layers: int | None = flags.override_field("number of frozen lower layers")
    min_examples_per_label: int | None = flags.override_field("oversampling floor per label")
    seed: int = flags.seed_field()
    class_weighting: bool = flags.class_weighting_field()
    quantize: str = flags.quantize_field()
    latency_samples: int = flags.latency_samples_field()


def normalise_labels(data: LabelledData, role: str) -> LabelledData:
    """Map ``0``/``1`` to negative/positive and check every label is a sentiment label.

    Raises:
        LabelledCsvError: Quoting the first unknown label and listing the accepted ones.
    """
    labels = []
    for text, label in zip(data.texts, data.labels, strict=True):
        key = label.strip().lower()
        if key not in LABEL_ALIASES:
            raise LabelledCsvError(
                f"{role} file {data.path!r} has the label {label!r} (text {text[:80]!r}); "
                f"sentiment labels are negative, neutral, positive or 0/1."
            )
        labels.append(LABEL_ALIASES[key])
    return LabelledData(data.texts, labels, data.groups, data.path)


def evaluate(
    classifier: TextClassifier, data: LabelledData, png: Path, title: str
) -> dict[str, Any]:
    """Score one evaluation set; a negative/positive-only set is scored as two classes."""
    probs = classifier.predict_proba(data.texts)  # (N, C)
    present = sorted(set(data.labels))
    unrestricted = [classifier.labels[i] for i in probs.argmax(axis=1)]
    allowed = [classifier.labels.index(label) for label in present if label in classifier.labels]
    binary = set(present) <= {"negative", "positive"} and len(allowed) < len(classifier.labels)
    if binary:
        restricted = probs[:, allowed]  # (N, 2): argmax over the labels the set can have
        pred = [classifier.labels[allowed[i]] for i in restricted.argmax(axis=1)]
    else:
        pred = unrestricted
    metrics: dict[str, Any] = accuracy_and_macro_f1(data.labels, pred)
    if binary:
        metrics["restricted_to"] = present
        metrics["macro_f1_three_way"] = accuracy_and_macro_f1(data.labels, unrestricted)["macro_f1"]
    metrics["n"] = len(data)
    metrics["label_counts"] = dict(sorted(data.label_counts().items()))
    metrics["per_label_recall"] = {
        label: float(
            np.mean([p == label for g, p in zip(data.labels, pred, strict=True) if g == label])
        )
        for label in present
    }
    plot_confusion_matrix(data.labels, pred, png, title)
    metrics["confusion_matrix"] = png.name
    return metrics


def run(args: TrainSentimentArgs) -> dict[str, Any]:
    """Train, save, evaluate; return the metrics written to ``OUT/metrics.json``."""
    columns = {"text_column": args.text_column, "label_column": args.label_column}
    train = normalise_labels(read_labelled_csv(args.train, role="TRAIN", **columns), "TRAIN")
    require_classes(train, "TRAIN")
    eval_paths = [args.eval] + [p.strip() for p in (args.extra_eval or "").split(",") if p.strip()]
    evals = {
        Path(p).stem: normalise_labels(read_labelled_csv(p, role="EVAL", **columns), "EVAL")
        for p in eval_paths
    }
    config = TrainConfig.from_preset(
        args.preset,
        base={**SENTIMENT_PRESET_OVERRIDES[args.preset], "oos_label": None, "detect_oos": False},
        model_name_or_path=args.model,
        device=args.device,
        epochs=args.epochs,
        max_length=args.max_length,
        freeze_layers=args.freeze_layers,
        min_examples_per_label=args.min_examples_per_label,
        seed=args.seed,
        class_weighting=args.class_weighting,
    )
    out = Path(args.out)
    result = flags.fit_and_save(train, config, str(out), args.quantize)
    classifier = result.classifier
    scores = {
        name: evaluate(
            classifier, data, out / f"confusion_matrix_{name}.png", f"sentiment on {name}"
        )
        for name, data in evals.items()
    }
    first = scores[Path(args.eval).stem]
    latency = percentiles_ms(
        time_per_message(
            lambda text: classifier.predict_proba([text]),
            evals[Path(args.eval).stem].texts,
            args.latency_samples,
        )
    )
    metrics: dict[str, Any] = {
        "accuracy": first["accuracy"],
        "macro_f1": first["macro_f1"],
        "evals": scores,
        "train_seconds": result.train_seconds,
        "latency_ms_p50": latency["p50"],
        "latency_ms_p95": latency["p95"],
        "temperature": classifier.temperature,
        "labels": classifier.labels,
        "n_train": result.train_args["n_train"],
        "preset": args.preset,
        "device": str(classifier.device),
        "quantized": bool(classifier.meta.get("quantized", False)),
        "heldout": {k: v for k, v in result.heldout_metrics.items() if k != "history"},
    }
    write_json(out / "metrics.json", metrics)
    logger.info("Metrics written to %s: %s", out / "metrics.json", metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Run ``shopbot train-sentiment``; return the exit code (2 on bad input)."""
    args = parse_args(TrainSentimentArgs, argv, "shopbot train-sentiment", DESCRIPTION)
    metrics = flags.run_or_report(run, args, logger)
    if metrics is None:
        return 2
    for name, score in metrics["evals"].items():
        print(
            f"sentiment {name}: accuracy {score['accuracy']:.4f}  macro-F1 {score['macro_f1']:.4f}"
        )
    print(f"latency p50 {metrics['latency_ms_p50']:.1f} ms -> {args.out}/metrics.json")
    return 0


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
