"""A trained encoder classifier on ONNX Runtime (int8 or fp32): the CPU serving path of intents
and sentiment.

The exported graph is the whole :class:`core.encoder.EncoderClassifier` — encoder, masked mean
pooling and the linear head — ``(input_ids, attention_mask) -> logits`` (B, C); tokenisation,
calibration and the out-of-scope decision stay in :class:`core.encoder.TextClassifier`, so the two
runtimes differ only in the logits. On one shopper message (MiniLM, one thread) ONNX Runtime int8
took 1.6 ms against PyTorch's dynamic int8 7.2 ms (decision 027).

Exports are cached in ``<cache_dir>/classifier-<sha12>-<variant>-r<recipe>/``, keyed by the
classifier directory's content hash (:func:`core.encoder.directory_sha256`), so a Rasa model
unpacked into a new temporary folder at every start reuses the export made the first time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from core.onnx_export import TorchGraph, cached_export, check_variant, cpu_session

logger = logging.getLogger(__name__)

RECIPE_VERSION = 1
INPUT_NAMES = ("input_ids", "attention_mask")


class OnnxLogits:
    """Raw logits of a classifier's ONNX graph: (B, T) int ids and mask -> (B, C) float32.

    Args:
        path: The exported ``model.onnx``.
        threads: ONNX Runtime intra-op threads (1: a server classifies one message at a time,
            and its other work needs the other core).
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.path = path
        self._session = cpu_session(path, threads)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Return logits (B, C) for right-padded ids and mask (B, T).

        Each row runs on its own, cut to its own length. The int8 graph quantizes every
        activation tensor with that tensor's own range (dynamic quantization), so in a batch a
        row's logits would depend on the other rows and their padding: the same message could
        get another intent depending on whose messages were parsed with it (3 of 96 did on the
        demo model when the Rasa server parsed messages together, ``bot.nlu_batching``). Alone,
        a message gets the same logits however it is parsed.
        """
        ids = np.asarray(input_ids, dtype=np.int64)
        mask = np.asarray(attention_mask, dtype=np.int64)
        lengths = mask.sum(axis=1)
        rows = []
        for i, length in enumerate(lengths):
            n = max(int(length), 1)
            feeds = {"input_ids": ids[i : i + 1, :n], "attention_mask": mask[i : i + 1, :n]}
            (logits,) = self._session.run(["logits"], feeds)
            rows.append(np.asarray(logits, dtype=np.float32))
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def export_target(directory: Path, variant: str, cache_dir: Path) -> Path:
    """The cache folder of ``variant`` of the classifier in ``directory``."""
    from core.encoder import directory_sha256

    check_variant(variant)
    return cache_dir / f"classifier-{directory_sha256(directory)[:12]}-{variant}-r{RECIPE_VERSION}"


def onnx_logits(
    directory: str | Path, variant: str, cache_dir: str | Path, *, progress: bool = False
) -> OnnxLogits:
    """Export (once, cached) the classifier in ``directory`` and return its ONNX logits.

    Args:
        directory: A classifier directory written by :meth:`core.encoder.TextClassifier.save`.
        variant: ``onnx`` (fp32) or ``onnx-int8``.
        cache_dir: Root of the export cache (``models/onnx``).
        progress: Show a tqdm bar over the export steps.
    """
    directory = Path(directory)
    target = export_target(directory, variant, Path(cache_dir))
    path = cached_export(
        target,
        variant,
        lambda: _classifier_graph(directory),
        {"name": "classifier", "source": str(directory), "recipe_version": RECIPE_VERSION},
        progress=progress,
    )
    return OnnxLogits(path)


def _classifier_graph(directory: Path) -> TorchGraph:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from core.encoder import EncoderClassifier, read_json

    tokenizer = AutoTokenizer.from_pretrained(str(directory / "encoder"), local_files_only=True)
    encoder = AutoModel.from_pretrained(
        str(directory / "encoder"), local_files_only=True, attn_implementation="eager"
    )
    labels = read_json(directory / "label_map.json")["labels"]
    model: Any = EncoderClassifier(encoder, len(labels))
    model.head.load_state_dict(load_file(str(directory / "head.safetensors")))
    model.eval()
    sample = tokenizer(
        ["a short example", "a somewhat longer example sentence"],
        padding=True,
        return_tensors="pt",
    )

    class Logits(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids, attention_mask)  # (B, C)

    config = encoder.config
    return TorchGraph(
        module=Logits(model),
        sample={k: sample[k] for k in INPUT_NAMES},
        output="logits",
        output_axes={0: "batch"},
        num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size),
    )
