"""Export a torch encoder model to ONNX (fp32, or int8 by dynamic quantization), cached on disk.

What every ONNX model of ShopBot shares — the retrieval embedder (:mod:`knowledge.onnx_export`)
and the intent and sentiment classifiers (:mod:`core.onnx_classifier`) — in one place:

1. ``torch.onnx.export`` (TorchScript exporter, opset 17, dynamic batch and sequence axes) of a
   module built with eager attention (the exported graph has no SDPA kernels to lose).
2. ``onnxruntime.transformers.optimizer`` (BERT, opt_level 1): SkipLayerNorm / BiasGelu fusions.
   The fusions must precede quantization: quantizing the unfused graph measured ~25% slower.
3. ``onnx-int8`` only: ``onnxruntime.quantization.quantize_dynamic`` of the MatMuls (weights int8
   per channel, activations uint8 per batch). ``reduce_range`` (7-bit weights) because AVX2
   without VNNI multiplies u8 x s8 pairs into saturating int16: with 8-bit weights the mean cosine
   to the torch embeddings fell to 0.955, with 7-bit it is 0.992 (measured on Myntra passages).
   The word-embedding Gather stays fp32 (quantizing it cost accuracy and bought no speed).

:func:`cached_export` writes into a sibling temporary folder and renames it, with ``export.json``
(the recipe, versions, timings): a crash never leaves a half-written model that a later run would
trust, and two processes exporting at once do not mix files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ONNX_VARIANTS = ("onnx", "onnx-int8")
MODEL_FILE = "model.onnx"
EXPORT_FILE = "export.json"


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
        check_variant(self.variant)


def check_variant(variant: str) -> None:
    """Raise ``ValueError`` naming ``variant`` unless it is an ONNX variant."""
    if variant not in ONNX_VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(ONNX_VARIANTS)}. Currently, variant is {variant!r}"
        )


@dataclass(frozen=True)
class TorchGraph:
    """A module to export and how to call it.

    Args:
        module: The ``torch.nn.Module`` (eval mode, eager attention).
        sample: Named example inputs (their names become the graph's inputs, in this order).
        output: The name of the module's one output tensor.
        output_axes: The output's dynamic axes (index -> name).
        num_heads: Attention heads (for the BERT optimizer's fusions).
        hidden_size: Hidden width (for the BERT optimizer's fusions).
    """

    module: Any
    sample: dict[str, Any]
    output: str
    output_axes: dict[int, str]
    num_heads: int
    hidden_size: int


def cached_export(
    target: Path, variant: str, build: Callable[[], TorchGraph], describe: dict[str, Any],
    *, progress: bool = True,
) -> Path:  # fmt: skip
    """Return ``target/model.onnx``, exporting the graph ``build`` makes first when missing.

    Args:
        target: The cache folder of this model and variant (its name should change with the
            source weights and the recipe).
        variant: ``onnx`` or ``onnx-int8``.
        build: Makes the graph to export (called only when the export is missing).
        describe: What to add to ``export.json`` (name, source, fingerprint, ...).
        progress: Show a tqdm bar over the export steps.
    """
    recipe = ExportRecipe(variant=variant)
    if (target / MODEL_FILE).is_file() and (target / EXPORT_FILE).is_file():
        return target / MODEL_FILE
    logger.info(
        "Exporting %s to ONNX (%s) into %s: %s",
        describe.get("name", "model"),
        variant,
        target,
        json.dumps(asdict(recipe)),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with _quiet_third_party():
            info = _export(build, work, recipe, progress)
        info.update({**describe, "recipe": asdict(recipe)})
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


def cpu_session(path: Path, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session of ``path`` on ``threads`` intra-op threads that never spin.

    Idle worker threads sleep instead of spinning: the servers share their cores, and on a busy
    2-core machine spinning threads slowed everyone (measured).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


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


def _export(
    build: Callable[[], TorchGraph], work: Path, recipe: ExportRecipe, progress: bool
) -> dict[str, Any]:
    import onnxruntime
    import torch
    from tqdm.auto import tqdm

    steps = ["export", *(["optimize"] if recipe.optimize else [])]
    steps += ["quantize"] if recipe.variant == "onnx-int8" else []
    timings: dict[str, float] = {}
    bar = tqdm(steps, desc=f"ONNX {recipe.variant}", unit="step", disable=not progress)
    current = work / "exported.onnx"
    graph: TorchGraph | None = None
    for step in bar:
        bar.set_postfix_str(step)
        start = time.perf_counter()
        if step == "export":
            graph = build()
            names = list(graph.sample)
            dynamic = {k: {0: "batch", 1: "sequence"} for k in names}
            dynamic[graph.output] = graph.output_axes
            with torch.inference_mode():
                torch.onnx.export(
                    graph.module,
                    tuple(graph.sample.values()),
                    str(current),
                    input_names=names,
                    output_names=[graph.output],
                    dynamic_axes=dynamic,
                    opset_version=recipe.opset,
                    dynamo=False,
                )
        elif step == "optimize":
            from onnxruntime.transformers import optimizer

            assert graph is not None
            optimized = optimizer.optimize_model(
                str(current),
                model_type="bert",
                num_heads=graph.num_heads,
                hidden_size=graph.hidden_size,
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
