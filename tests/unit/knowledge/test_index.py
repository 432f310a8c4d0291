"""Knowledge index: FAISS index types, build/load round trip, manifest checks, incremental updates."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest

from knowledge.catalog.model import Product
from knowledge.embedder import HashingEmbedder, l2_normalize
from knowledge.faq import FaqEntry
from knowledge.index import IndexMismatchError, KnowledgeIndex
from knowledge.passages import build_passages
from knowledge.types import Passage
from knowledge.vector_index import AUTO_FLAT_MAX_VECTORS, IndexParams, VectorIndex


def product(i: int, price: float = 10.0, description: str = "") -> Product:
    return Product(
        id=f"sku{i}",
        name=f"Product number {i} gadget",
        brand="Acme",
        category=("Home", "Gadgets"),
        price=price,
        currency="USD",
        description=description or f"Gadget {i} does useful thing {i}.",
        specs={},
        stock=i % 3,
        url=f"https://shop.example/{i}",
        image="",
    )


def store(n: int = 6) -> list[Passage]:
    faqs = [FaqEntry("faq-0", "How long does shipping take?", "Three to five days.")]
    return build_passages([product(i) for i in range(n)], faqs)


@pytest.fixture()
def embedder() -> HashingEmbedder:
    return HashingEmbedder(64)


def clustered(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(20, d))
    return l2_normalize(centers[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, d)))


def test_auto_is_flat_below_the_threshold_and_hnsw_above() -> None:
    assert IndexParams().resolve(AUTO_FLAT_MAX_VECTORS - 1).index_type == "flat"
    assert IndexParams().resolve(AUTO_FLAT_MAX_VECTORS).index_type == "hnsw"
    assert IndexParams(index_type="ivf").resolve(10_000).nlist == 256


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="index_type is 'annoy'"):
        IndexParams(index_type="annoy")
    with pytest.raises(
        ValueError, match=re.escape("ef_search must be greater than 0. Currently, ef_search is 0")
    ):
        IndexParams(ef_search=0)


@pytest.mark.parametrize("index_type", ["flat", "hnsw", "ivf"])
def test_index_types_find_the_exact_neighbours(index_type: str) -> None:
    vectors = clustered(2000)
    queries = clustered(50, seed=1)
    exact = VectorIndex.build(vectors, IndexParams(index_type="flat"), progress=False)
    index = VectorIndex.build(vectors, IndexParams(index_type=index_type, nprobe=8), progress=False)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9, recall
    assert index.ntotal == 2000


def test_build_load_round_trip(tmp_path: Path, embedder: HashingEmbedder) -> None:
    passages = store()
    built = KnowledgeIndex.build(passages, embedder, tmp_path / "index")
    loaded = KnowledgeIndex.load(tmp_path / "index", embedder)
    assert [p.id for p in loaded.passages] == [p.id for p in passages]
    assert loaded.passages[0].metadata == passages[0].metadata
    assert np.allclose(loaded.vectors, built.vectors)
    query = embedder.embed(["gadget number 3"])
    assert np.array_equal(
        loaded.vector_index.search(query, 5)[1], built.vector_index.search(query, 5)[1]
    )
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["embedder"] == "hashing-64"
    assert manifest["dimension"] == 64
    assert manifest["passage_count"] == len(passages)
    assert manifest["document_count"] == 7
    assert manifest["index_type"] == "flat" and manifest["requested_index_type"] == "auto"
    for key in ("index_params", "data_hash", "passage_store", "created_at", "shopbot_version"):
        assert manifest[key]
    assert isinstance(loaded.vectors, np.memmap)


def test_load_refuses_another_embedder(tmp_path: Path, embedder: HashingEmbedder) -> None:
    KnowledgeIndex.build(store(), embedder, tmp_path)
    with pytest.raises(IndexMismatchError) as err:
        KnowledgeIndex.load(tmp_path, HashingEmbedder(64, name="other-model"))
    message = str(err.value)
    assert "'hashing-64'" in message and "'other-model'" in message
    assert "shopbot index --rebuild" in message


def test_load_refuses_another_dimension(tmp_path: Path, embedder: HashingEmbedder) -> None:
    KnowledgeIndex.build(store(), embedder, tmp_path)
    with pytest.raises(IndexMismatchError, match=r"dimension 64.*dimension 128.*--rebuild"):
        KnowledgeIndex.load(tmp_path, HashingEmbedder(128, name="hashing-64"))


class VariantEmbedder(HashingEmbedder):
    """A hashing double that names a variant and max_seq_length, as the MiniLM embedders do."""

    def __init__(self, variant: str, max_seq_length: int = 256) -> None:
        super().__init__(64, name="all-MiniLM-L6-v2")
        self.variant = variant
        self.max_seq_length = max_seq_length


def test_manifest_records_the_embedder_variant(tmp_path: Path) -> None:
    KnowledgeIndex.build(store(), VariantEmbedder("onnx-int8"), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["embedder_variant"] == "onnx-int8"
    assert manifest["embedder_max_seq_length"] == 256
    assert len(KnowledgeIndex.load(tmp_path, VariantEmbedder("onnx-int8"))) == len(store())


def test_load_refuses_another_embedder_variant(tmp_path: Path) -> None:
    KnowledgeIndex.build(store(), VariantEmbedder("onnx-int8"), tmp_path)
    with pytest.raises(IndexMismatchError) as err:
        KnowledgeIndex.load(tmp_path, VariantEmbedder("torch"))
    message = str(err.value)
    assert "variant 'onnx-int8'" in message and "variant is 'torch'" in message
    assert "SHOPBOT_EMBEDDER_VARIANT=onnx-int8" in message and "--rebuild" in message


def test_load_refuses_another_max_seq_length(tmp_path: Path) -> None:
    KnowledgeIndex.build(store(), VariantEmbedder("onnx", 128), tmp_path)
    with pytest.raises(IndexMismatchError, match=r"max_seq_length 128.*keeps 256 tokens"):
        KnowledgeIndex.load(tmp_path, VariantEmbedder("onnx", 256))


def test_an_index_without_a_variant_was_embedded_by_torch(tmp_path: Path) -> None:
    KnowledgeIndex.build(store(), VariantEmbedder("torch"), tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for key in ("embedder_variant", "embedder_max_seq_length"):
        del manifest[key]  # as written before the manifest named them
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert len(KnowledgeIndex.load(tmp_path, VariantEmbedder("torch"))) == len(store())
    with pytest.raises(IndexMismatchError, match=r"variant 'torch'.*variant is 'onnx-int8'"):
        KnowledgeIndex.load(tmp_path, VariantEmbedder("onnx-int8"))


def test_load_refuses_a_store_that_disagrees_with_the_manifest(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    KnowledgeIndex.build(store(), embedder, tmp_path)
    store_file = tmp_path / "passages.jsonl"
    lines = store_file.read_text().splitlines(keepends=True)
    store_file.write_text("".join(lines[:-1]))
    with pytest.raises(
        IndexMismatchError, match=f"counts {len(lines)} passages.*holds {len(lines) - 1}"
    ):
        KnowledgeIndex.load(tmp_path, embedder)


def test_load_without_an_index_says_how_to_build_one(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    with pytest.raises(
        FileNotFoundError, match=r"missing manifest.json\). Build it: shopbot index"
    ):
        KnowledgeIndex.load(tmp_path, embedder)


def test_update_embeds_only_new_passages_and_is_idempotent(
    tmp_path: Path, embedder: HashingEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    passages = store(6)
    KnowledgeIndex.build(passages, embedder, tmp_path)
    index = KnowledgeIndex.load(tmp_path, embedder)
    embedded_before = embedder.texts_embedded

    # Change one product's price (its 2 passages), drop one product, add one.
    products = [product(i) for i in range(1, 7)]
    products[0] = product(1, price=99.0)
    faqs = [FaqEntry("faq-0", "How long does shipping take?", "Three to five days.")]
    changed = build_passages(products, faqs)
    stats = index.update(changed)
    # sku1: new header text (price) and a chunk whose text is unchanged (its vector is reused);
    # sku6 is new (header + chunk); sku0 is gone.
    assert (stats.new, stats.removed, stats.embedded) == (4, 4, 3)
    assert embedder.texts_embedded - embedded_before == 3
    reloaded = KnowledgeIndex.load(tmp_path, embedder)
    assert [p.id for p in reloaded.passages] == [p.id for p in changed]
    assert reloaded.passages[0].metadata["price"] == 99.0
    fresh = embedder.embed([p.text for p in changed])
    assert np.allclose(reloaded.vectors, fresh, atol=1e-6)

    # The same data again: nothing embedded, nothing written.
    mtime = (tmp_path / "manifest.json").stat().st_mtime_ns
    embedded_before = embedder.texts_embedded
    with caplog.at_level(logging.INFO, logger="knowledge.index"):
        stats = reloaded.update(changed)
    assert (stats.new, stats.removed) == (0, 0)
    assert embedder.texts_embedded == embedded_before
    assert "0 new, 0 removed" in caplog.text
    assert (tmp_path / "manifest.json").stat().st_mtime_ns == mtime


def test_changing_the_index_type_rebuilds_from_stored_vectors(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    index = KnowledgeIndex.build(store(), embedder, tmp_path)
    before = embedder.texts_embedded
    index.update(index.passages, params=IndexParams(index_type="hnsw", hnsw_m=8))
    assert embedder.texts_embedded == before
    manifest = KnowledgeIndex.read_manifest(tmp_path)
    assert manifest["index_type"] == "hnsw" and manifest["index_params"]["hnsw_m"] == 8
    assert KnowledgeIndex.load(tmp_path, embedder).vector_index.params.index_type == "hnsw"


def test_in_memory_index_writes_nothing(tmp_path: Path, embedder: HashingEmbedder) -> None:
    index = KnowledgeIndex.build(store(), embedder, None, index_type="flat")
    assert index.directory is None and len(index) == 13
    assert not list(tmp_path.iterdir())
