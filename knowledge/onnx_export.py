"""Export a sentence-transformers BERT encoder to ONNX (fp32, or int8 by dynamic quantization).

The graph is the transformer only: ``(input_ids, attention_mask, token_type_ids) ->
last_hidden_state`` of shape (B, T, hidden). Mean pooling and L2 normalisation stay in numpy
(:mod:`knowledge.onnx_embedder`), exactly as sentence-transformers computes them. The export,
fusion and quantization steps are :mod:`core.onnx_export`'s (shared with the NLU classifiers).

Exports are cached in ``<cache_dir>/<name>-<variant>-<fingerprint>/`` with ``export.json`` (the
recipe, versions, source fingerprint); the fingerprint covers the source files (names, sizes,
mtimes) and :data:`RECIPE_VERSION`, so new weights or a changed recipe export again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from core.onnx_export import ONNX_VARIANTS, TorchGraph, cached_export

__all__ = ["ONNX_VARIANTS", "ensure_onnx_model", "export_dir", "source_fingerprint"]

RECIPE_VERSION = 1
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def source_fingerprint(model_path: Path) -> str:
    """Return a short hash of the model directory's files (names, sizes, mtimes) and the recipe."""
    digest = hashlib.sha256(f"recipe:{RECIPE_VERSION}".encode())
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        stat = path.stat()
        rel = path.relative_to(model_path).as_posix()
        digest.update(f"{rel}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def export_dir(cache_dir: Path, name: str, variant: str, model_path: Path) -> Path:
    """The cache folder of ``variant`` of the model in ``model_path``."""
    return cache_dir / f"{name}-{variant}-{source_fingerprint(model_path)}"


def ensure_onnx_model(
    model_path: Path, cache_dir: Path, name: str, variant: str, *, progress: bool = True
) -> Path:
    """Return the cached ``model.onnx`` of ``variant``, exporting it first when missing.

    Args:
        model_path: A local sentence-transformers directory (BERT-family transformer).
        cache_dir: Root of the export cache (``models/embedders``).
        name: The embedder's name (part of the folder name).
        variant: ``onnx`` or ``onnx-int8``.
        progress: Show a tqdm bar over the export steps.
    """
    target = export_dir(cache_dir, name, variant, model_path)
    return cached_export(
        target,
        variant,
        lambda: _encoder_graph(model_path),
        {
            "name": name,
            "source": str(model_path),
            "fingerprint": target.name.rsplit("-", 1)[-1],
            "recipe_version": RECIPE_VERSION,
        },
        progress=progress,
    )


def _encoder_graph(model_path: Path) -> TorchGraph:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager")
    model.eval()
    sample = tokenizer(
        ["a short example", "a somewhat longer example sentence"],
        padding=True,
        return_tensors="pt",
    )
    # BERT takes token_type_ids; encoders whose tokenizer makes none are exported without.
    return TorchGraph(
        module=_encoder_module(model),
        sample={k: sample[k] for k in INPUT_NAMES if k in sample},
        output="last_hidden_state",
        output_axes={0: "batch", 1: "sequence"},
        num_heads=int(model.config.num_attention_heads),
        hidden_size=int(model.config.hidden_size),
    )


def _encoder_module(model: Any) -> Any:
    """Wrap a transformers encoder so the export sees positional inputs and one tensor output."""
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state  # (B, T, hidden)

    return Encoder(model)
