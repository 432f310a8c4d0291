"""The ONNX embedder variants: agreement with sentence-transformers, batching order, the cache.

Fast tests export a tiny random BERT (2 layers, 32 dims, MiniLM's tokenizer) in a few seconds;
the ``slow`` ones export the real MiniLM and check the bounds measured on the Myntra catalog.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedder import (
    TORCH_BATCH_SIZE,
    SentenceTransformerEmbedder,
    default_model_path,
    make_embedder,
)
from knowledge.onnx_embedder import ONNX_BATCH_SIZE, OnnxEmbedder, length_sorted_batches, mean_pool

TEXTS = [
    "Soie Women Red Printed Knee-Length Sleep Shirts: round neck, short sleeves.",
    "  how do I return an item?  ",
    "bamboo longboard",
    "Roadster Men Navy Blue Slim Fit Checked Casual Shirt with a spread collar, long sleeves, "
    "button placket and a curved hem; 100% cotton, machine wash.",
    "",
    "is shipping free over $50?",
]
TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sentence-transformers directory: random 2-layer BERT, MiniLM's tokenizer, mean pooling."""
    import torch
    from transformers import BertConfig, BertModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = tmp_path_factory.mktemp("tiny-bert")
    source = default_model_path()
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, root / name)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128,
    )  # fmt: skip
    BertModel(config).save_pretrained(root)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]  # fmt: skip
    (root / "modules.json").write_text(json.dumps(modules))
    (root / "sentence_bert_config.json").write_text(
        '{"max_seq_length": 64, "do_lower_case": false}'
    )
    (root / "1_Pooling").mkdir()
    (root / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True})
    )
    (root / "2_Normalize").mkdir()
    return root


@pytest.fixture(scope="module")
def torch_vectors(tiny_model: Path) -> np.ndarray:
    return SentenceTransformerEmbedder(tiny_model, device="cpu").embed(TEXTS)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedders")


def test_length_sorted_batches_cover_every_index_longest_first() -> None:
    texts = ["bb", "a", "dddd", "ccc", "a", "eeeee"]
    batches = length_sorted_batches(texts, 4)
    assert [b.tolist() for b in batches] == [[5, 2, 3, 0], [1, 4]]
    with pytest.raises(ValueError, match="batch_size is 0"):
        length_sorted_batches(texts, 0)


def test_mean_pool_ignores_padding_and_normalises() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)  # (1, 3, 2)
    mask = np.array([[1, 1, 0]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[1.0, 0.0]])


def test_onnx_fp32_matches_sentence_transformers(
    tiny_model: Path, cache_dir: Path, torch_vectors: np.ndarray
) -> None:
    embedder = OnnxEmbedder("onnx", tiny_model, cache_dir, name="tiny")
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.max_seq_length == 64  # read from sentence_bert_config.json


def test_onnx_int8_stays_close(
    tiny_model: Path, cache_dir: Path, torch_vectors: np.ndarray
) -> None:
    vectors = OnnxEmbedder("onnx-int8", tiny_model, cache_dir, name="tiny").embed(TEXTS)
    cosine = (vectors * torch_vectors).sum(axis=1)
    # A random tiny model quantizes worse than MiniLM (min 0.98 on Myntra, see the slow test).
    assert cosine.min() >= 0.95, cosine


def test_rows_come_back_in_input_order_whatever_the_batching(
    tiny_model: Path, cache_dir: Path
) -> None:
    embedder = OnnxEmbedder("onnx", tiny_model, cache_dir, name="tiny")
    together = embedder.embed(TEXTS, batch_size=2)  # length-sorted batches of mixed inputs
    one_by_one = np.vstack([embedder.embed([t], batch_size=1) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert embedder.embed([]).shape == (0, 32)


def test_parallel_batches_give_the_same_vectors(tiny_model: Path, cache_dir: Path) -> None:
    texts = TEXTS * 5
    parallel = OnnxEmbedder("onnx", tiny_model, cache_dir, threads=3, name="tiny")
    serial = OnnxEmbedder(
        "onnx", tiny_model, cache_dir, threads=3, name="tiny", batch_parallel=False
    )
    np.testing.assert_allclose(
        parallel.embed(texts, batch_size=4), serial.embed(texts, batch_size=4), atol=1e-6
    )


def test_export_is_cached_and_describes_itself(tiny_model: Path, cache_dir: Path) -> None:
    embedder = OnnxEmbedder("onnx-int8", tiny_model, cache_dir, name="tiny")
    embedder.warm_up(progress=False)
    assert embedder.onnx_path is not None
    info = json.loads((embedder.onnx_path.parent / "export.json").read_text())
    assert info["variant"] == "onnx-int8" and info["recipe"]["reduce_range"] is True
    before = embedder.onnx_path.stat().st_mtime_ns
    again = OnnxEmbedder("onnx-int8", tiny_model, cache_dir, name="tiny")
    again.warm_up(progress=False)
    assert again.onnx_path == embedder.onnx_path
    assert again.onnx_path.stat().st_mtime_ns == before  # reused, not exported again


def test_make_embedder_validates_variant_and_device() -> None:
    assert make_embedder("torch").variant == "torch"
    assert make_embedder("onnx-int8").variant == "onnx-int8"
    with pytest.raises(ValueError, match="variant is 'int4'"):
        make_embedder("int4")
    with pytest.raises(ValueError, match=r"device is 'cuda'.*--variant torch"):
        make_embedder("onnx", device="cuda")


def test_each_variant_batches_by_its_own_default(tiny_model: Path, cache_dir: Path) -> None:
    # ONNX batches of 8 (measured fastest, docs/benchmarks/2026-12-06/indexing-batch); torch 64.
    assert make_embedder("onnx-int8").batch_size == ONNX_BATCH_SIZE == 8
    assert make_embedder("torch").batch_size == TORCH_BATCH_SIZE == 64
    assert make_embedder("onnx", batch_size=32).batch_size == 32
    embedder = OnnxEmbedder("onnx", tiny_model, cache_dir, name="tiny")
    embedder.warm_up(progress=False)
    batches: list[int] = []
    run = embedder._run

    def counting_run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        batches.append(len(feeds["input_ids"]))
        return run(feeds)

    embedder._run = counting_run  # type: ignore[method-assign]
    vectors = embedder.embed(TEXTS * 3)  # batch_size None: the embedder's own
    assert sorted(batches) == [2, 8, 8] and vectors.shape[0] == 18


def test_settings_choose_the_variant(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import Settings

    monkeypatch.setenv("SHOPBOT_EMBEDDER_VARIANT", "torch")
    monkeypatch.setenv("SHOPBOT_EMBEDDER_MAX_SEQ_LENGTH", "96")
    embedder = make_embedder()
    assert embedder.variant == "torch" and embedder.max_seq_length == 96
    monkeypatch.setenv("SHOPBOT_EMBEDDER_MAX_SEQ_LENGTH", "0")  # the model's own
    assert make_embedder("onnx").max_seq_length == 256
    monkeypatch.setenv("SHOPBOT_EMBEDDER_VARIANT", "fp8")
    with pytest.raises(ValueError, match="SHOPBOT_EMBEDDER_VARIANT"):
        Settings()


# ----------------------------------------------------------------------------- the real model


@pytest.fixture(scope="module")
def minilm_torch() -> Iterator[np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield SentenceTransformerEmbedder(device="cpu").embed(TEXTS)


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "min_cosine"), [("onnx", 0.999), ("onnx-int8", 0.97)])
def test_minilm_variants_agree_with_torch(
    minilm_torch: np.ndarray, cache_dir: Path, variant: str, min_cosine: float
) -> None:
    # Measured on 600 Myntra passages: int8 cosine to torch mean 0.992, min 0.983.
    vectors = OnnxEmbedder(variant, cache_dir=cache_dir).embed(TEXTS)
    cosine = (vectors * minilm_torch).sum(axis=1)
    assert cosine.min() >= min_cosine, cosine
