"""``shopbot train-intent``: fine-tune a BERT intent classifier with out-of-scope detection on CSVs.

Usage::

    shopbot train-intent --train var/nlu/train.csv --eval var/nlu/test.csv \\
        --oos-train var/nlu/oos_train.csv --out models/intent --preset demo

TRAIN and EVAL have columns ``text,label`` (optionally ``group``: paraphrase groups, kept whole
in the held-out slice). Label ``oos`` marks out-of-scope examples and may appear only in EVAL;
``--oos-train`` adds out-of-scope examples as a trained ``out_of_scope`` class. Writes the model
directory (see :mod:`core.encoder`), ``DIR/metrics.json`` and ``DIR/confusion_matrix.png``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.encoder import write_json
from core.encoder_config import TrainConfig
from training import classifier_args as flags
from training.classification_metrics import (
    intent_metrics,
    plot_confusion_matrix,
    time_per_message,
)
from training.cli_args import parse_args
from training.labelled_csv import (
    OOS_LABEL,
    LabelledData,
    read_labelled_csv,
    reject_label,
    require_classes,
)
from training.stats import percentiles_ms

logger = logging.getLogger(__name__)

TRAINED_OOS_LABEL = "out_of_scope"
DESCRIPTION = "Fine-tune a BERT intent classifier with out-of-scope detection on labelled CSVs."


@dataclass
class TrainIntentArgs:
    """Arguments of ``shopbot train-intent``."""

    train: str = field(metadata={"help": "training CSV (columns text,label[,group])"})
    eval: str = field(metadata={"help": "evaluation CSV; label 'oos' marks out-of-scope rows"})
    out: str = field(metadata={"help": "output directory (model, metrics.json, confusion PNG)"})
    preset: str = flags.preset_field()
    model: str = flags.model_field()
    device: str = flags.device_field()
    oos_train: str | None = field(
        default=None,
        metadata={
            "help": "CSV of out-of-scope examples (text column; labels ignored) trained as class 'out_of_scope'"
        },
    )
    text_column: str = flags.column_field("text")
    label_column: str = flags.column_field("label")
    epochs: int | None = flags.override_field("epochs")
    max_examples_per_label: int | None = flags.override_field("cap of training rows per label")
    learning_rate: float | None = flags.override_field("encoder learning rate")
    freeze_layers: int | None = flags.override_field("number of frozen lower layers")
    class_weighting: bool = flags.class_weighting_field()
    seed: int = flags.seed_field()
    oos_threshold: bool = field(
        default=True, metadata={"help": "choose an out-of-scope threshold on held-out confidence"}
    )
    oos_max_accuracy_drop: float = field(
        default=0.005,
        metadata={
            "help": "share of held-out in-scope messages the threshold may reject (0.01 = 1 point of accuracy at most)"
        },
    )
    quantize: str = flags.quantize_field()
    latency_samples: int = flags.latency_samples_field()

    def __post_init__(self) -> None:
        if self.latency_samples < 1:
            raise ValueError(
                f"--latency-samples must be at least 1. Currently, --latency-samples is {self.latency_samples}."
            )


def main(argv: list[str] | None = None) -> int:
    """Run ``shopbot train-intent``; return the exit code (2 on bad input)."""
    args = parse_args(TrainIntentArgs, argv, "shopbot train-intent", DESCRIPTION)
    metrics = flags.run_or_report(run, args, logger)
    if metrics is None:
        return 2
    print(
        f"intent: accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  "
        f"in-scope accuracy {metrics['in_scope_accuracy']:.4f}"
        + (f"  OOS recall {metrics['oos_recall']:.4f}" if "oos_recall" in metrics else "")
        + f"  latency p50 {metrics['latency_ms_p50']:.1f} ms  -> {args.out}/metrics.json"
    )
    return 0


def load_training_data(args: TrainIntentArgs) -> tuple[LabelledData, LabelledData]:
    """Read and validate TRAIN (+ ``--oos-train`` rows) and EVAL.

    Raises:
        LabelledCsvError: A malformed file, a missing column, a single class, ``oos`` in TRAIN.
    """
    columns = {"text_column": args.text_column, "label_column": args.label_column}
    train = read_labelled_csv(args.train, role="TRAIN", **columns)
    reject_label(
        train,
        OOS_LABEL,
        "TRAIN",
        "out-of-scope examples belong in EVAL only; to train an out-of-scope class pass them "
        "with --oos-train FILE.",
    )
    require_classes(train, "TRAIN")
    evaluation = read_labelled_csv(args.eval, role="EVAL", **columns)
    if args.oos_train:
        oos = read_labelled_csv(
            args.oos_train,
            role="OOS-TRAIN",
            text_column=args.text_column,
            label_column=_label_or_text(args.oos_train, args.label_column, args.text_column),
        )
        train = LabelledData(
            texts=train.texts + oos.texts,
            labels=train.labels + [TRAINED_OOS_LABEL] * len(oos),
            groups=None
            if train.groups is None
            else train.groups
            + [f"oos-train-{g or i}" for i, g in enumerate(oos.groups or [""] * len(oos))],
            path=train.path,
        )
        logger.info("Added %d out-of-scope training rows from %s", len(oos), args.oos_train)
    unseen = sorted(set(evaluation.labels) - set(train.labels) - {OOS_LABEL, TRAINED_OOS_LABEL})
    if unseen:
        logger.warning("EVAL labels not in TRAIN (always counted wrong): %s", unseen)
    return train, evaluation


def run(args: TrainIntentArgs) -> dict[str, Any]:
    """Train, save, evaluate; return the metrics written to ``OUT/metrics.json``."""
    train, evaluation = load_training_data(args)
    config = TrainConfig.from_preset(
        args.preset,
        model_name_or_path=args.model,
        device=args.device,
        epochs=args.epochs,
        max_examples_per_label=args.max_examples_per_label,
        learning_rate=args.learning_rate,
        freeze_layers=args.freeze_layers,
        class_weighting=args.class_weighting,
        seed=args.seed,
        oos_label=TRAINED_OOS_LABEL,
        detect_oos=args.oos_threshold,
        oos_max_accuracy_drop=args.oos_max_accuracy_drop,
    )
    out = Path(args.out)
    result = flags.fit_and_save(train, config, str(out), args.quantize)
    classifier = result.classifier
    predictions = classifier.classify(evaluation.texts)
    metrics: dict[str, Any] = intent_metrics(
        evaluation.labels,
        [p.label for p in predictions],
        top_in_scope=[p.top_label for p in predictions],
    )
    latency = percentiles_ms(
        time_per_message(
            lambda text: classifier.classify([text]), evaluation.texts, args.latency_samples
        )
    )
    plot_confusion_matrix(
        [OOS_LABEL if g in (OOS_LABEL, TRAINED_OOS_LABEL) else g for g in evaluation.labels],
        [OOS_LABEL if p.is_oos else p.label for p in predictions],
        out / "confusion_matrix.png",
        f"train-intent ({args.preset}) on {Path(args.eval).name}",
    )
    metrics.update(
        {
            "train_seconds": result.train_seconds,
            "latency_ms_p50": latency["p50"],
            "latency_ms_p95": latency["p95"],
            "oos_threshold": classifier.oos_threshold,
            "temperature": classifier.temperature,
            "n_train": result.train_args["n_train"],
            "n_eval": len(evaluation),
            "n_eval_oos": sum(1 for g in evaluation.labels if g in (OOS_LABEL, TRAINED_OOS_LABEL)),
            "preset": args.preset,
            "device": str(classifier.device),
            "quantized": bool(classifier.meta.get("quantized", False)),
            "confusion_matrix": "confusion_matrix.png",
            "heldout": {k: v for k, v in result.heldout_metrics.items() if k != "history"},
        }
    )
    write_json(out / "metrics.json", metrics)
    logger.info("Metrics written to %s: %s", out / "metrics.json", metrics)
    return metrics


def _label_or_text(path: str, label_column: str, text_column: str) -> str:
    """The OOS file's labels are ignored: accept a file without a label column."""
    with open(path, encoding="utf-8-sig") as fh:
        header = fh.readline().strip().split(",")
    return label_column if label_column in header else text_column


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
