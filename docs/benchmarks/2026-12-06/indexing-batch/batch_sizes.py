"""Batch-size sweep of the ONNX int8 embedder on 2,000 Myntra passages (scratch, 2026-12-06).

python batch_sizes.py [CONFIG ...]   # from the project root, in its .venv
"""

import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
os.environ["HF_HUB_OFFLINE"] = "1"
import onnxruntime as ort

from core.onnx_export import ExportRecipe, _export
from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import MYNTRA
from knowledge.embedder import SentenceTransformerEmbedder, default_model_path
from knowledge.onnx_embedder import OnnxEmbedder
from knowledge.onnx_export import _encoder_graph
from knowledge.passages import build_passages

print(ort.__version__)
out = Path("/tmp/idx/full8")
if not (out / "model.onnx").exists():
    out.mkdir(exist_ok=True)
    rec = ExportRecipe(variant="onnx-int8", reduce_range=False)
    print(_export(lambda: _encoder_graph(default_model_path()), out, rec, False))
ps = build_passages(
    load_catalog(
        Path("/work/shared/data/product_catalog_myntra/myntra_products_catalog.csv"), MYNTRA
    ).products
)
texts = [p.text for p in random.Random(17).sample(ps, 2000)]


def with_model(e, path):
    e.warm_up(progress=False)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    e._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return e


base = SentenceTransformerEmbedder(device="cpu")
base.warm_up()
embs = {
    "torch": base,
    "int8-7bit-128-b64": OnnxEmbedder("onnx-int8", max_seq_length=128),
    "int8-8bit-128-b64": with_model(
        OnnxEmbedder("onnx-int8", max_seq_length=128), out / "model.onnx"
    ),
    "int8-8bit-128-b16": with_model(
        OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=16), out / "model.onnx"
    ),
    "int8-8bit-128-b32": with_model(
        OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=32), out / "model.onnx"
    ),
    "int8-7bit-128-b16": OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=16),
    "int8-7bit-128-b8": OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=8),
    "int8-7bit-128-b4": OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=4),
    "int8-8bit-128-b8": with_model(
        OnnxEmbedder("onnx-int8", max_seq_length=128, batch_size=8), out / "model.onnx"
    ),
}
for e in embs.values():
    e.warm_up()
    e.embed(texts[:64])
ref = base.embed(texts[:400])
secs = {k: 0.0 for k in embs}
sel = sys.argv[1:] or list(embs)
for r in range(4):
    part = texts[r::4]
    for k in sel:
        t = time.perf_counter()
        v = embs[k].embed(part)
        secs[k] += time.perf_counter() - t
for k in sel:
    cos = (embs[k].embed(texts[:400]) * ref).sum(1)
    print(
        f"{k:22s} {2000 / secs[k]:7.1f}/s  x{secs['torch'] / secs[k] if 'torch' in sel else 0:.2f}  cos mean {cos.mean():.4f} min {cos.min():.4f}",
        flush=True,
    )
print("load", os.getloadavg())
