"""A second task on a classifier's encoder: one encoder pass serves both.

The intent classifier's encoder already runs on every message. A :class:`FeatureHead` is a linear
head over the mean-pooled hidden states of some of that encoder's layers
(:meth:`core.encoder.TextClassifier.logits_and_layers`), calibrated with a temperature on a
held-out slice. It is trained together with the encoder (:class:`AuxiliaryTask`, passed to
:func:`core.encoder_fit.fit_classifier`): each fine-tuning step adds a batch of the second task,
so the encoder keeps what that task needs. ShopBot uses it for sentiment (decision 024). Serving
needs only numpy (no Rasa).

A saved head is a directory::

    DIR/feature_head.safetensors   weight (C, D) and bias (C,)
    DIR/feature_head.json          labels, layers, temperature, data hash, held-out metrics
"""

from __future__ import annotations

import csv
import hashlib
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.calibration import (
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    softmax,
)
from core.encoder import EncoderClassifier, TextClassifier, pad_batch, read_json, write_json

logger = logging.getLogger(__name__)

WEIGHTS = "feature_head.safetensors"
MANIFEST = "feature_head.json"


@dataclass
class LabelledTexts:
    """Texts with labels and paraphrase groups (a ``text,label[,group]`` CSV)."""

    texts: list[str]
    labels: list[str]
    groups: list[str]
    sha256: str

    @classmethod
    def read_csv(cls, path: str | Path) -> LabelledTexts:
        """Read a CSV with ``text`` and ``label`` columns (``group`` optional).

        Raises:
            ValueError: The file lacks a column, or has no rows.
        """
        path = Path(path)
        raw = path.read_bytes()
        rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
        if not rows or not {"text", "label"} <= set(rows[0]):
            raise ValueError(
                f"{str(path)!r} must be a CSV with 'text' and 'label' columns and at least one "
                f"row (as `shopbot prepare` writes var/sentiment/train.csv)."
            )
        rows = [r for r in rows if (r.get("text") or "").strip() and r.get("label")]
        return cls(
            texts=[r["text"] for r in rows],
            labels=[r["label"] for r in rows],
            groups=[r.get("group") or "" for r in rows],
            sha256=hashlib.sha256(raw).hexdigest(),
        )


@dataclass
class FeatureHead:
    """A linear head over pooled encoder layers (trained with the encoder, then read from its pass).

    Args:
        labels: Class names in weight order.
        layers: Hidden-state indices it reads (0 = embeddings, 1..L = transformer layers).
        weight: (C, D) with D = hidden size x len(layers).
        bias: (C,).
        temperature: Calibration temperature.
        meta: Data hash, training rows, loss weight, held-out metrics.
    """

    labels: list[str]
    layers: tuple[int, ...]
    weight: np.ndarray
    bias: np.ndarray
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """(N, D) -> (N, C) raw logits."""
        return features @ self.weight.T + self.bias

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(N, D) -> (N, C) calibrated probabilities."""
        return softmax(self.logits(features), self.temperature)

    @property
    def model_id(self) -> str:
        """Short id of the head (its data hash and layers) for parse data and logs."""
        return (
            f"shared-{str(self.meta.get('data_sha256', ''))[:8]}-L{'.'.join(map(str, self.layers))}"
        )

    def save(self, directory: str | Path) -> Path:
        """Write the head's directory and return it."""
        from safetensors.numpy import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                "weight": np.ascontiguousarray(self.weight, dtype=np.float32),
                "bias": np.ascontiguousarray(self.bias, dtype=np.float32),
            },
            str(directory / WEIGHTS),
        )
        write_json(
            directory / MANIFEST,
            {
                "labels": self.labels,
                "layers": list(self.layers),
                "temperature": self.temperature,
                **self.meta,
            },
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> FeatureHead:
        """Read a head written by :meth:`save`.

        Raises:
            ValueError: The directory holds no head.
        """
        from safetensors.numpy import load_file

        directory = Path(directory)
        if not (directory / WEIGHTS).is_file() or not (directory / MANIFEST).is_file():
            raise ValueError(f"{str(directory)!r} holds no feature head ({WEIGHTS}, {MANIFEST}).")
        manifest = read_json(directory / MANIFEST)
        tensors = load_file(str(directory / WEIGHTS))
        meta = {k: v for k, v in manifest.items() if k not in ("labels", "layers", "temperature")}
        return cls(
            labels=list(manifest["labels"]),
            layers=tuple(int(x) for x in manifest["layers"]),
            weight=tensors["weight"],
            bias=tensors["bias"],
            temperature=float(manifest["temperature"]),
            meta=meta,
        )


@dataclass
class AuxiliaryTask:
    """A second task fine-tuned together with a classifier's own (multi-task).

    Args:
        data: Its labelled texts.
        layers: Hidden states its head reads (pooled, side by side).
        weight: Its loss weight beside the main task's.
        eval_fraction: Share of rows (whole groups) held out to calibrate and score its head.
        seed: Split seed.
    """

    data: LabelledTexts
    layers: tuple[int, ...]
    weight: float = 1.0
    eval_fraction: float = 0.1
    seed: int = 42


class AuxiliaryTrainer:
    """Trains an :class:`AuxiliaryTask`'s head on the encoder being fine-tuned.

    ``fit_classifier`` adds :meth:`loss` (one batch of the second task) to every step's loss, so
    the encoder learns both tasks; the best step's head is kept with the best encoder, and
    :meth:`export` calibrates it into a :class:`FeatureHead`.
    """

    def __init__(
        self,
        task: AuxiliaryTask,
        model: EncoderClassifier,
        tokenizer: Any,
        max_length: int,
        batch_size: int,
        device: torch.device,
    ) -> None:
        from core.encoder_fit import heldout_split

        n_layers = int(getattr(model.encoder, "config").num_hidden_layers)  # noqa: B009
        bad = [layer for layer in task.layers if not 0 <= layer <= n_layers]
        if not task.layers or bad:
            raise ValueError(
                f"layers must name hidden states 0..{n_layers} of the encoder. Currently, "
                f"layers is {list(task.layers)}."
            )
        self.task, self.model, self.device = task, model, device
        self.labels = sorted(set(task.data.labels))
        if len(self.labels) < 2:
            raise ValueError(f"the second task needs 2 labels or more; it has {self.labels}.")
        y = [self.labels.index(label) for label in task.data.labels]
        train, self.heldout = heldout_split(
            task.data.labels, task.data.groups, task.eval_fraction, task.seed
        )
        self.encoded = tokenizer(
            [task.data.texts[i] for i in train], truncation=True, max_length=max_length
        )["input_ids"]
        self.y_train = torch.tensor([y[i] for i in train], dtype=torch.long)
        self.y_heldout = np.array([y[i] for i in self.heldout], dtype=np.int64)
        self.pad_id, self.batch_size = tokenizer.pad_token_id, batch_size
        hidden = int(model.head.in_features)
        self.head = nn.Linear(hidden * len(task.layers), len(self.labels)).to(device)
        counts = Counter(self.y_train.tolist())
        weights = [
            len(train) / (len(self.labels) * max(counts[c], 1)) for c in range(len(self.labels))
        ]
        self.loss_fn = nn.CrossEntropyLoss(
            weight=torch.tensor(weights, dtype=torch.float32, device=device)
        )
        self.rng = random.Random(task.seed)
        self.batches: list[list[int]] = []
        logger.info(
            "Second task: %d training and %d held-out rows, labels %s, layers %s, weight %.2f",
            len(train),
            len(self.heldout),
            self.labels,
            list(task.layers),
            task.weight,
        )

    def loss(self) -> torch.Tensor:
        """The weighted loss of the second task's next batch (cycling through its rows)."""
        from core.encoder_fit import bucketed_batches

        if not self.batches:
            lengths = [len(ids) for ids in self.encoded]
            self.batches = bucketed_batches(lengths, self.batch_size, self.rng)
        batch = self.batches.pop()
        input_ids, mask = pad_batch([self.encoded[i] for i in batch], self.pad_id)
        _, pooled = self.model.forward_with_layers(
            input_ids.to(self.device), mask.to(self.device), self.task.layers
        )
        logits = self.head(self.model.dropout(pooled))
        return self.task.weight * self.loss_fn(logits.float(), self.y_train[batch].to(self.device))

    def state(self) -> dict[str, torch.Tensor]:
        """A copy of the head's weights (kept with the best step's encoder)."""
        return {k: v.detach().clone() for k, v in self.head.state_dict().items()}

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        """Put back weights from :meth:`state`."""
        self.head.load_state_dict(state)

    def export(self, classifier: TextClassifier) -> FeatureHead:
        """The trained head as a :class:`FeatureHead`, calibrated and scored on the held-out
        rows through the finished classifier's own pass."""
        from sklearn.metrics import f1_score

        head = FeatureHead(
            labels=self.labels,
            layers=self.task.layers,
            weight=self.head.weight.detach().float().cpu().numpy(),
            bias=self.head.bias.detach().float().cpu().numpy(),
        )
        metrics: dict[str, Any] = {"n": len(self.heldout)}
        if self.heldout:
            texts = [self.task.data.texts[i] for i in self.heldout]
            _, features = classifier.logits_and_layers(texts, self.task.layers)
            logits, y = head.logits(features), self.y_heldout
            head.temperature = fit_temperature(logits, y)
            probs = head.predict_proba(features)
            preds = probs.argmax(axis=1)
            metrics |= {
                "accuracy": float((preds == y).mean()),
                "macro_f1": float(f1_score(y, preds, average="macro", zero_division=0)),
                "nll": negative_log_likelihood(probs, y),
                "ece": expected_calibration_error(probs, y),
                "temperature": head.temperature,
            }
        head.meta = {
            "data_sha256": self.task.data.sha256,
            "n_train": len(self.y_train),
            "loss_weight": self.task.weight,
            "heldout": metrics,
        }
        logger.info("Second task's head, held-out: %s", metrics)
        return head
