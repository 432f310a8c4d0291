"""The on-disk knowledge index: passages + vectors + FAISS (:mod:`knowledge.vector_index`) + BM25 + manifest.

A knowledge index directory holds ``manifest.json`` (embedder, its variant and max_seq_length,
dimension, counts, index type and parameters, data hash, file names, created_at, shopbot
version), ``passages.jsonl`` (the passage store, one passage and its content hash per line), ``vectors.npy`` (row i embeds passage i),
``faiss.index`` and ``bm25.npz``/``bm25.json``. Because vectors are stored,
:meth:`KnowledgeIndex.update` compares passages by content hash, embeds only texts it has never
embedded, and rebuilds the FAISS structure from stored rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.artifacts import sha256_chunks
from knowledge.bm25 import BM25Config, BM25Index
from knowledge.passages import content_hash, passage_from_dict, passage_to_dict
from knowledge.types import Embedder, Passage
from knowledge.vector_index import INDEX_TYPES, IndexParams, VectorIndex

__all__ = [  # IndexParams and VectorIndex live in knowledge.vector_index
    "INDEX_TYPES",
    "IndexMismatchError",
    "IndexParams",
    "KnowledgeIndex",
    "VectorIndex",
]

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
PASSAGES_FILE = "passages.jsonl"
VECTORS_FILE = "vectors.npy"
FAISS_FILE = "faiss.index"
REBUILD_HINT = "Rebuild the index: shopbot index --rebuild"


class IndexMismatchError(ValueError):
    """A stored index does not match the embedder or its own files."""


# Indexes written before the manifest named the variant were embedded by sentence-transformers.
LEGACY_EMBEDDER_VARIANT = "torch"


def embedder_identity(embedder: Embedder) -> dict[str, Any]:
    """What besides the name identifies an embedder's vectors: its variant and max_seq_length.

    Test doubles without these attributes give ``None`` (and are checked by name alone).
    """
    return {
        "embedder_variant": getattr(embedder, "variant", None),
        "embedder_max_seq_length": getattr(embedder, "max_seq_length", None),
    }


def check_embedder(manifest: dict[str, Any], embedder: Embedder, where: str) -> None:
    """Raise :class:`IndexMismatchError` unless ``embedder`` made the vectors of ``manifest``."""
    if manifest["embedder"] != embedder.name:
        raise IndexMismatchError(
            f"{where} was built with embedder {manifest['embedder']!r}, but the configured "
            f"embedder is {embedder.name!r}. {REBUILD_HINT} (or configure the embedder "
            f"{manifest['embedder']!r})."
        )
    if int(manifest["dimension"]) != embedder.dimension:
        raise IndexMismatchError(
            f"{where} has dimension {manifest['dimension']}, but embedder {embedder.name!r} "
            f"produces dimension {embedder.dimension}. {REBUILD_HINT}"
        )
    identity = embedder_identity(embedder)
    variant = identity["embedder_variant"]
    stored = manifest.get("embedder_variant", LEGACY_EMBEDDER_VARIANT)
    if variant is not None and stored is not None and stored != variant:
        raise IndexMismatchError(
            f"{where} was embedded with embedder variant {stored!r}, but the serving embedder "
            f"variant is {variant!r}: query vectors would not match the passage vectors. "
            f"Set SHOPBOT_EMBEDDER_VARIANT={stored} or {REBUILD_HINT.lower()} "
            f"(SHOPBOT_EMBEDDER_VARIANT={variant})."
        )
    length = identity["embedder_max_seq_length"]
    stored_length = manifest.get("embedder_max_seq_length")
    if length is not None and stored_length is not None and int(stored_length) != length:
        raise IndexMismatchError(
            f"{where} was embedded with max_seq_length {stored_length}, but the serving embedder "
            f"keeps {length} tokens. {REBUILD_HINT}"
        )


def shopbot_version() -> str:
    """Return the installed shopbot version ("unknown" when not installed)."""
    try:
        return importlib_metadata.version("shopbot")
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class UpdateStats:
    """What an ingestion changed: passage counts by content hash, texts embedded, timings."""

    new: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0
    embed_seconds: float = 0.0
    build_seconds: float = 0.0


def text_hash(text: str) -> str:
    """Return the sha256 of a passage text (the key under which its vector is reused)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_hash(hashes: Sequence[str]) -> str:
    """Return the sha256 over the ordered passage content hashes (the index's data fingerprint)."""
    return sha256_chunks(hashes)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class KnowledgeIndex:
    """Passages with their vectors, a FAISS index and a BM25 index, stored in one directory.

    Create with :meth:`build` or :meth:`load`; refresh with :meth:`update`. Row ``i`` of
    :attr:`vectors`, FAISS id ``i`` and BM25 row ``i`` all belong to ``passages[i]``.

    Args:
        passages: The passages, in row order.
        hashes: Their content hashes.
        vectors: (n, dimension) float32, L2-normalised (may be a read-only memory map).
        vector_index: The FAISS index over ``vectors``.
        bm25: The BM25 index over the passage texts.
        embedder: The embedder that produced ``vectors`` (used for queries and updates).
        params: Requested index parameters (``index_type`` may be ``auto``).
        directory: Where the index lives on disk (None: in memory only).
        manifest: The manifest as last written or read.
    """

    def __init__(
        self,
        passages: list[Passage],
        hashes: list[str],
        vectors: np.ndarray,
        vector_index: VectorIndex,
        bm25: BM25Index,
        embedder: Embedder,
        params: IndexParams,
        directory: Path | None = None,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.passages = passages
        self.hashes = hashes
        self.vectors = vectors
        self.vector_index = vector_index
        self.bm25 = bm25
        self.embedder = embedder
        self.params = params
        self.directory = directory
        self.manifest: dict[str, Any] = manifest or {}

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def dimension(self) -> int:
        """Vector dimension."""
        return int(self.vectors.shape[1])

    # ----------------------------------------------------------------------------------- build

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        embedder: Embedder,
        out_dir: Path | None = None,
        index_type: str = "auto",
        *,
        params: IndexParams | None = None,
        bm25_config: BM25Config | None = None,
        batch_size: int | None = None,
    ) -> KnowledgeIndex:
        """Embed ``passages`` and build every structure from scratch.

        Args:
            passages: What to index (ids must be unique).
            embedder: Embeds passages now and queries later.
            out_dir: Directory to write (created; existing index files are replaced); None keeps
                the index in memory only.
            index_type: ``auto``, ``flat``, ``hnsw`` or ``ivf`` (ignored when ``params`` is given).
            params: Full index parameters.
            bm25_config: BM25 k1/b.
            batch_size: Embedding batch size (None: the embedder's own).
        """
        params = params or IndexParams(index_type=index_type)
        empty = cls(
            passages=[],
            hashes=[],
            vectors=np.zeros((0, embedder.dimension), dtype=np.float32),
            vector_index=VectorIndex.build(
                np.zeros((0, embedder.dimension), np.float32), params, progress=False
            ),
            bm25=BM25Index.build([], bm25_config),
            embedder=embedder,
            params=params,
            directory=out_dir,
        )
        empty.update(passages, batch_size=batch_size, force=True, bm25_config=bm25_config)
        return empty

    def update(
        self,
        passages: Sequence[Passage],
        *,
        params: IndexParams | None = None,
        batch_size: int | None = None,
        force: bool = False,
        bm25_config: BM25Config | None = None,
    ) -> UpdateStats:
        """Make the index hold exactly ``passages``, embedding only content it has not seen.

        Passages are compared by content hash (text + metadata). Only texts never embedded before
        are embedded (a metadata-only change such as a new URL reuses the stored vector); removed
        passages are dropped; FAISS and BM25 are rebuilt from the stored vectors and texts. With
        the same data nothing is embedded or written ("0 new, 0 removed").

        Args:
            passages: The full, current set of passages (order is kept).
            params: New index parameters (None keeps the current ones).
            batch_size: Embedding batch size (None: the embedder's own).
            force: Rebuild and write even when nothing changed.
            bm25_config: BM25 k1/b (None keeps the current ones).

        Returns:
            Counts of new/removed/unchanged passages, texts embedded, and timings.
        """
        _check_unique_ids(passages)
        params = params or self.params
        bm25_config = bm25_config or self.bm25.config
        new_hashes = [content_hash(p) for p in passages]
        old_set = set(self.hashes)
        new_set = set(new_hashes)
        # A vector depends on the text alone: reuse it whenever the same text was embedded before,
        # even if the passage's metadata (price in a chunk, URL, title) changed.
        old_rows = {text_hash(p.text): i for i, p in enumerate(self.passages)}
        text_keys = [text_hash(p.text) for p in passages]
        missing = list(dict.fromkeys(k for k in text_keys if k not in old_rows))
        stats = UpdateStats(
            new=sum(1 for h in new_hashes if h not in old_set),
            removed=sum(1 for h in self.hashes if h not in new_set),
            unchanged=sum(1 for h in new_hashes if h in old_set),
            embedded=len(missing),
        )
        unchanged = (
            new_hashes == self.hashes
            and _same_structure(params.resolve(len(passages)), self.vector_index.params)
            and bm25_config == self.bm25.config
        )
        logger.info(
            "Ingestion: %d new, %d removed, %d unchanged passages (%d texts to embed)",
            stats.new,
            stats.removed,
            stats.unchanged,
            stats.embedded,
        )
        if unchanged and not force:
            # Search-time knobs need no rebuild.
            self.vector_index.set_search_params(params.ef_search, params.nprobe)
            self.params = params
            return stats

        start = time.perf_counter()
        fresh: dict[str, np.ndarray] = {}
        if missing:
            text_of = {k: p.text for k, p in zip(text_keys, passages, strict=True)}
            texts = [text_of[k] for k in missing]
            logger.info("Embedding %d passages with %s", len(texts), self.embedder.name)
            embedded = self.embedder.embed(texts, batch_size)
            if embedded.shape != (len(texts), self.embedder.dimension):
                raise IndexMismatchError(
                    f"Embedder {self.embedder.name!r} returned shape {embedded.shape}, expected "
                    f"({len(texts)}, {self.embedder.dimension}). Check the embedder's dimension."
                )
            fresh = dict(zip(missing, embedded, strict=True))
        vectors = np.empty((len(passages), self.embedder.dimension), dtype=np.float32)
        source = np.fromiter(
            (old_rows.get(k, -1) for k in text_keys), dtype=np.int64, count=len(text_keys)
        )
        reuse = source >= 0
        if reuse.any():
            vectors[reuse] = self.vectors[source[reuse]]
        for i in np.flatnonzero(~reuse):
            vectors[i] = fresh[text_keys[i]]
        stats.embed_seconds = time.perf_counter() - start

        start = time.perf_counter()
        self.vector_index = VectorIndex.build(vectors, params)
        self.bm25 = BM25Index.build([p.text for p in passages], bm25_config)
        stats.build_seconds = time.perf_counter() - start
        self.passages = list(passages)
        self.hashes = new_hashes
        self.vectors = vectors
        self.params = params
        logger.info(
            "Index rebuilt: %d passages, %s, embed %.1fs, build %.1fs",
            len(passages),
            self.vector_index.params.index_type,
            stats.embed_seconds,
            stats.build_seconds,
        )
        if self.directory is not None:
            self.save(self.directory, stats)
        return stats

    # ------------------------------------------------------------------------------------ disk

    def _manifest(self, stats: UpdateStats | None) -> dict[str, Any]:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        kinds: dict[str, int] = {}
        for p in self.passages:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        return {
            "format_version": FORMAT_VERSION,
            "embedder": self.embedder.name,
            **embedder_identity(self.embedder),
            "dimension": self.embedder.dimension,
            "passage_count": len(self.passages),
            "document_count": len({p.doc_id for p in self.passages}),
            "kinds": kinds,
            "index_type": self.vector_index.params.index_type,
            "index_params": asdict(self.vector_index.params),
            "requested_index_type": self.params.index_type,
            "bm25": asdict(self.bm25.config),
            "data_hash": data_hash(self.hashes),
            "passage_store": PASSAGES_FILE,
            "vectors_file": VECTORS_FILE,
            "faiss_file": FAISS_FILE,
            "created_at": self.manifest.get("created_at", now),
            "updated_at": now,
            "shopbot_version": shopbot_version(),
            "faiss_version": faiss.__version__,
            "last_update": asdict(stats) if stats else self.manifest.get("last_update", {}),
        }

    def save(self, directory: Path, stats: UpdateStats | None = None) -> None:
        """Write every file of the index into ``directory`` (the manifest last)."""
        directory.mkdir(parents=True, exist_ok=True)
        lines = [
            json.dumps({**passage_to_dict(p), "hash": h}, ensure_ascii=False)
            for p, h in zip(self.passages, self.hashes, strict=True)
        ]
        _atomic_write_text(directory / PASSAGES_FILE, "".join(line + "\n" for line in lines))
        tmp = directory / (VECTORS_FILE + ".tmp.npy")
        np.save(tmp, np.ascontiguousarray(self.vectors, dtype=np.float32))
        os.replace(tmp, directory / VECTORS_FILE)
        self.vector_index.save(directory / FAISS_FILE)
        self.bm25.save(directory)
        self.manifest = self._manifest(stats)
        _atomic_write_text(directory / MANIFEST_FILE, json.dumps(self.manifest, indent=2) + "\n")
        self.directory = directory
        logger.info("Knowledge index written to %s", directory)

    @staticmethod
    def read_manifest(directory: Path) -> dict[str, Any]:
        """Return the manifest of the index in ``directory``."""
        path = directory / MANIFEST_FILE
        if not path.exists():
            raise FileNotFoundError(
                f"No knowledge index in {directory} (missing {MANIFEST_FILE}). "
                "Build it: shopbot index"
            )
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return manifest

    @classmethod
    def load(cls, directory: Path | str, embedder: Embedder) -> KnowledgeIndex:
        """Open an index read-only (vectors memory-mapped), refusing one that does not match.

        Args:
            directory: The index directory.
            embedder: The embedder queries will use; its name, dimension, variant (``torch``,
                ``onnx``, ``onnx-int8``) and max_seq_length must match the manifest.

        Raises:
            FileNotFoundError: No manifest in ``directory``.
            IndexMismatchError: Embedder name, dimension, variant or max_seq_length differ from
                the manifest, or the stored files disagree with the manifest's counts.
        """
        directory = Path(directory)
        manifest = cls.read_manifest(directory)
        where = f"Knowledge index at {directory}"
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"{where} has format_version {manifest.get('format_version')!r}, this shopbot "
                f"reads {FORMAT_VERSION}. {REBUILD_HINT}"
            )
        check_embedder(manifest, embedder, where)
        passages: list[Passage] = []
        hashes: list[str] = []
        with open(directory / manifest.get("passage_store", PASSAGES_FILE), encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    passages.append(passage_from_dict(record))
                    hashes.append(str(record["hash"]))
        expected = int(manifest["passage_count"])
        if len(passages) != expected:
            raise IndexMismatchError(
                f"{where}: the manifest counts {expected} passages but the passage store holds "
                f"{len(passages)}. {REBUILD_HINT}"
            )
        vectors = np.load(directory / manifest.get("vectors_file", VECTORS_FILE), mmap_mode="r")
        if vectors.shape != (expected, embedder.dimension):
            raise IndexMismatchError(
                f"{where}: vectors have shape {vectors.shape}, the manifest says "
                f"({expected}, {embedder.dimension}). {REBUILD_HINT}"
            )
        params_dict = dict(manifest["index_params"])
        resolved = IndexParams(**params_dict)
        vector_index = VectorIndex.load(
            directory / manifest.get("faiss_file", FAISS_FILE), resolved
        )
        if vector_index.ntotal != expected:
            raise IndexMismatchError(
                f"{where}: the FAISS index holds {vector_index.ntotal} vectors, the manifest says "
                f"{expected}. {REBUILD_HINT}"
            )
        bm25 = BM25Index.load(directory)
        if bm25.num_docs != expected:
            raise IndexMismatchError(
                f"{where}: the BM25 index holds {bm25.num_docs} documents, the manifest says "
                f"{expected}. {REBUILD_HINT}"
            )
        requested = replace(resolved, index_type=manifest.get("requested_index_type", "auto"))
        logger.info(
            "Loaded knowledge index %s: %d passages, %s, embedder %s",
            directory,
            expected,
            resolved.index_type,
            embedder.name,
        )
        return cls(
            passages, hashes, vectors, vector_index, bm25, embedder, requested, directory, manifest
        )


def _same_structure(a: IndexParams, b: IndexParams) -> bool:
    """Whether two resolved parameter sets build the same FAISS structure (search knobs aside)."""
    keys = ("index_type", "hnsw_m", "ef_construction", "nlist")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def _check_unique_ids(passages: Sequence[Passage]) -> None:
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise ValueError(f"Duplicate passage id {p.id!r}. Passage ids must be unique.")
        seen.add(p.id)
