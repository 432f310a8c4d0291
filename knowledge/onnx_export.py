"""Export a sentence-transformers BERT encoder to ONNX (fp32, or int8 by dynamic quantization).

The graph is the transformer only: ``(input_ids, attention_mask, token_type_ids) ->
last_hidden_state`` of shape (B, T, hidden). Mean pooling and L2 normalisation stay in numpy
(:mod:`knowledge.onnx_embedder`), exactly as sentence-transformers computes them.

Steps (one tqdm bar, the configuration logged):

1. ``torch.onnx.export`` (TorchScript exporter, opset 17, dynamic batch and sequence axes) from the
   installed weights, eager attention (the exported graph has no SDPA kernels to lose).
2. ``onnxruntime.transformers.optimizer`` (BERT, opt_level 1): SkipLayerNorm / BiasGelu fusions.
   The fusions must precede quantization: quantizing the unfused graph measured ~25% slower.
3. ``onnx-int8`` only: ``onnxruntime.quantization.quantize_dynamic`` of the MatMuls (weights int8
   per channel, activations uint8 per batch). ``reduce_range`` (7-bit weights) because AVX2
   without VNNI multiplies u8 x s8 pairs into saturating int16: with 8-bit weights the mean cosine
   to the torch embeddings fell to 0.955, with 7-bit it is 0.992 (measured on Myntra passages).
   The word-embedding Gather stays fp32 (quantizing it cost accuracy and bought no speed).

Exports are cached in ``<cache_dir>/<name>-<variant>-<fingerprint>/`` with ``export.json`` (the
recipe, versions, source fingerprint); the fingerprint covers the source files (names, sizes,
mtimes) and :data:`RECIPE_VERSION`, so new weights or a changed recipe export again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ONNX_VARIANTS = ("onnx", "onnx-int8")
RECIPE_VERSION = 1
MODEL_FILE = "model.onnx"
EXPORT_FILE = "export.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class ExportRecipe:
    """How a variant is produced (written into ``export.json``).

    Args:
        variant: ``onnx`` (fp32) or ``onnx-int8``.
        opset: ONNX opset of the export.
        optimize: Run the ONNX Runtime BERT optimizer (fusions) before quantizing.
        per_channel: int8: one scale per output channel of each weight matrix.
        reduce_range: int8: 7-bit weights (no int16 saturation on AVX2 without VNNI).
        op_types: int8: operator types quantized.
    """

    variant: str
    opset: int = 17
    optimize: bool = True
    per_channel: bool = True
    reduce_range: bool = True
    op_types: tuple[str, ...] = ("MatMul",)

    def __post_init__(self) -> None:
        if self.variant not in ONNX_VARIANTS:
            raise ValueError(
                f"variant must be one of {', '.join(ONNX_VARIANTS)}. Currently, variant is "
                f"{self.variant!r}"
            )


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
    recipe = ExportRecipe(variant=variant)
    target = export_dir(cache_dir, name, variant, model_path)
    if (target / MODEL_FILE).is_file() and (target / EXPORT_FILE).is_file():
        return target / MODEL_FILE
    logger.info(
        "Exporting embedder %s to ONNX (%s) from %s into %s: %s",
        name,
        variant,
        model_path,
        target,
        json.dumps(asdict(recipe)),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling temporary folder and rename: a crash never leaves a half-written model
    # that a later run would trust, and two processes exporting at once do not mix files.
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with _quiet_third_party():
            info = _export(model_path, work, recipe, progress)
        info.update(
            {
                "name": name,
                "source": str(model_path),
                "fingerprint": target.name.rsplit("-", 1)[-1],
                "recipe_version": RECIPE_VERSION,
                "recipe": asdict(recipe),
            }
        )
        (work / EXPORT_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        logger.info("ONNX %s export done (%s MiB): %s", variant, info["size_mb"], info["timings"])
        work.chmod(0o755)  # mkdtemp makes it private; the export is an ordinary model folder
        try:
            os.replace(work, target)
        except OSError:  # another process finished first: keep its export
            if not (target / MODEL_FILE).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / MODEL_FILE


@contextlib.contextmanager
def _quiet_third_party() -> Iterator[None]:
    """Silence the exporters' chatter: tracer warnings and per-tensor INFO lines.

    ``torch.onnx.export`` warns about traced Python control flow in transformers' mask code (the
    shapes are dynamic axes, so the trace is valid for every batch and length; the agreement tests
    check it); the ONNX Runtime optimizer and quantizer log one INFO line per tensor, on the root
    logger. Our own summary is logged after the export.
    """
    noisy = [logging.getLogger(), *(logging.getLogger(n) for n in ("fusion_base", "fusion_utils",
             "onnx_model", "onnx_model_bert", "onnxruntime"))]  # fmt: skip
    levels = [lg.level for lg in noisy]
    for lg in noisy:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(noisy, levels, strict=True):
            lg.setLevel(level)


def _export(model_path: Path, work: Path, recipe: ExportRecipe, progress: bool) -> dict[str, Any]:
    import onnxruntime
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoTokenizer

    steps = ["export", *(["optimize"] if recipe.optimize else [])]
    steps += ["quantize"] if recipe.variant == "onnx-int8" else []
    timings: dict[str, float] = {}
    bar = tqdm(steps, desc=f"ONNX {recipe.variant}", unit="step", disable=not progress)
    current = work / "exported.onnx"
    for step in bar:
        bar.set_postfix_str(step)
        start = time.perf_counter()
        if step == "export":
            tokenizer = AutoTokenizer.from_pretrained(str(model_path))
            model = AutoModel.from_pretrained(str(model_path), attn_implementation="eager")
            model.eval()
            sample = tokenizer(
                ["a short example", "a somewhat longer example sentence"],
                padding=True,
                return_tensors="pt",
            )
            # BERT takes token_type_ids; encoders whose tokenizer makes none are exported without.
            names = [k for k in INPUT_NAMES if k in sample]
            args = tuple(sample[k] for k in names)
            dynamic = {k: {0: "batch", 1: "sequence"} for k in names}
            dynamic["last_hidden_state"] = {0: "batch", 1: "sequence"}
            with torch.inference_mode():
                torch.onnx.export(
                    _encoder_module(model),
                    args,
                    str(current),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=dynamic,
                    opset_version=recipe.opset,
                    dynamo=False,
                )
            config = model.config
        elif step == "optimize":
            from onnxruntime.transformers import optimizer

            optimized = optimizer.optimize_model(
                str(current),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=1,
            )
            current = work / "optimized.onnx"
            optimized.save_model_to_file(str(current))
        else:
            from onnx import TensorProto
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantized = work / "quantized.onnx"
            quantize_dynamic(
                str(current),
                str(quantized),
                weight_type=QuantType.QInt8,
                per_channel=recipe.per_channel,
                reduce_range=recipe.reduce_range,
                op_types_to_quantize=list(recipe.op_types),
                # The optimizer's fused ops carry no shape-inferred types; they are all float.
                extra_options={"DefaultTensorType": TensorProto.FLOAT},
            )
            current = quantized
        timings[f"{step}_s"] = round(time.perf_counter() - start, 2)
    os.replace(current, work / MODEL_FILE)
    for leftover in work.glob("*.onnx*"):
        if leftover.name != MODEL_FILE:
            leftover.unlink()
    return {
        "variant": recipe.variant,
        "timings": timings,
        "torch_version": torch.__version__,
        "onnxruntime_version": onnxruntime.__version__,
        "size_mb": round((work / MODEL_FILE).stat().st_size / 2**20, 1),
    }


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
