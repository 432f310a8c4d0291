"""The FAISS vector index: inner-product search over L2-normalised vectors.

Index types (``IndexParams.index_type``):

- ``flat``: exact inner-product search (``IndexFlatIP``). Recall 1.0, no build cost, nothing to
  tune; a query scans every vector, so latency grows linearly with the collection.
- ``hnsw``: graph ANN (``IndexHNSWFlat``, inner product). Sub-linear queries at high recall; costs
  a slower build (~700 CPU-seconds for 1M vectors at M=32, efConstruction=64) and ``M * 2 * 4``
  bytes of links per vector on top of the vectors.
- ``ivf``: inverted lists (``IndexIVFFlat``); needs k-means training, recall depends on ``nprobe``.
  The only type whose lists FAISS can memory-map (``IO_FLAG_MMAP``).
- ``auto``: ``flat`` below :data:`AUTO_FLAT_MAX_VECTORS` vectors, ``hnsw`` above. Exact search
  over 50k 384-d vectors is a ~19M-multiply scan, a few milliseconds on one core, which is below
  the query embedding time, so an approximate index buys nothing there and costs recall and build
  time. Past that the scan grows linearly (measured on a busy 2-core machine: 11 ms at 25k, 31 ms
  at 100k, 390 ms at 1M) while HNSW (M=32, efConstruction=64, efSearch=128) answered in 0.6 ms at
  recall@10 0.96 at 1M (see the "Knowledge retrieval" benchmark section). HNSW needs no training;
  IVF needed nprobe 8 on real MiniLM vectors where HNSW reached the same recall at efSearch 16.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from tqdm.auto import tqdm

INDEX_TYPES: tuple[str, ...] = ("auto", "flat", "hnsw", "ivf")
AUTO_FLAT_MAX_VECTORS = 50_000
ADD_BATCH = 20_000  # vectors per FAISS add() call, so the progress bar moves


@dataclass(frozen=True)
class IndexParams:
    """FAISS index type and parameters.

    Args:
        index_type: ``auto``, ``flat``, ``hnsw`` or ``ivf`` (see the module docstring).
        hnsw_m: HNSW graph degree M (links per node; memory ``2*M*4`` bytes per vector).
        ef_construction: HNSW candidate list size while building (quality vs build time).
        ef_search: HNSW candidate list size while searching (recall vs latency).
        nlist: IVF number of lists; None means ``4*sqrt(n)`` (at most n/39 so k-means has data).
        nprobe: IVF lists visited per query (recall vs latency).
    """

    index_type: str = "auto"
    hnsw_m: int = 32
    ef_construction: int = 64
    ef_search: int = 128
    nlist: int | None = None
    nprobe: int = 16

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ValueError(
                f"index_type must be one of {', '.join(INDEX_TYPES)}. "
                f"Currently, index_type is {self.index_type!r}"
            )
        for name in ("hnsw_m", "ef_construction", "ef_search", "nprobe"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"{name} must be greater than 0. Currently, {name} is {value}")
        if self.nlist is not None and self.nlist <= 0:
            raise ValueError(f"nlist must be greater than 0. Currently, nlist is {self.nlist}")

    def resolve(self, n_vectors: int) -> IndexParams:
        """Return a copy with ``auto`` and ``nlist=None`` replaced by concrete choices for n vectors."""
        index_type = self.index_type
        if index_type == "auto":
            index_type = "flat" if n_vectors < AUTO_FLAT_MAX_VECTORS else "hnsw"
        nlist = self.nlist
        if index_type == "ivf" and nlist is None:
            nlist = max(1, min(int(4 * math.sqrt(max(n_vectors, 1))), n_vectors // 39))
        return replace(self, index_type=index_type, nlist=nlist)


class VectorIndex:
    """Inner-product search over L2-normalised vectors with one of the FAISS index types.

    Args:
        index: A built FAISS index.
        params: Its resolved parameters (``index_type`` is never ``auto`` here).
    """

    def __init__(self, index: Any, params: IndexParams) -> None:
        self.index = index
        self.params = params
        self.set_search_params(params.ef_search, params.nprobe)

    @property
    def ntotal(self) -> int:
        """Number of vectors in the index."""
        return int(self.index.ntotal)

    def set_search_params(self, ef_search: int | None = None, nprobe: int | None = None) -> None:
        """Change HNSW ``efSearch`` / IVF ``nprobe`` (other types ignore them)."""
        if ef_search is not None and self.params.index_type == "hnsw":
            self.index.hnsw.efSearch = int(ef_search)
            self.params = replace(self.params, ef_search=int(ef_search))
        if nprobe is not None and self.params.index_type == "ivf":
            self.index.nprobe = int(nprobe)
            self.params = replace(self.params, nprobe=int(nprobe))

    @classmethod
    def build(
        cls, vectors: np.ndarray, params: IndexParams | None = None, *, progress: bool = True
    ) -> VectorIndex:
        """Build an index over ``vectors`` (n, d), float32, L2-normalised.

        Args:
            vectors: The rows to index; row i gets id i.
            params: Index type and parameters (``auto`` resolves by size).
            progress: Show a tqdm bar while adding to HNSW/IVF.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D (n, d). Currently, its shape is {vectors.shape}")
        n, d = vectors.shape
        params = (params or IndexParams()).resolve(n)
        index: Any
        if params.index_type == "flat":
            index = faiss.IndexFlatIP(d)
        elif params.index_type == "hnsw":
            index = faiss.IndexHNSWFlat(d, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = params.ef_construction
        else:
            assert params.nlist is not None
            quantizer = faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quantizer, d, params.nlist, faiss.METRIC_INNER_PRODUCT)
            # k-means on at most 64 points per list: enough for stable centroids, bounded time.
            sample = vectors
            if n > 64 * params.nlist:
                rows = np.random.default_rng(0).choice(n, 64 * params.nlist, replace=False)
                sample = vectors[np.sort(rows)]
            if n:
                index.train(sample)
        if n and params.index_type == "flat":
            index.add(vectors)
        elif n:
            steps = range(0, n, ADD_BATCH)
            bar = tqdm(
                steps, desc=f"faiss {params.index_type} add", unit="batch", disable=not progress
            )
            for start in bar:
                index.add(vectors[start : start + ADD_BATCH])
        return cls(index, params)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, rows)``, each (n_queries, k); missing results have row -1."""
        if k <= 0:
            raise ValueError(f"k must be greater than 0. Currently, k is {k}")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if self.ntotal == 0:
            empty = np.full((queries.shape[0], k), -1, dtype=np.int64)
            return np.full(empty.shape, -np.inf, dtype=np.float32), empty
        scores, rows = self.index.search(queries, min(k, self.ntotal))
        return scores, rows

    def save(self, path: Path) -> None:
        """Write the FAISS index to ``path`` (through a temporary file, then an atomic rename)."""
        tmp = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, params: IndexParams) -> VectorIndex:
        """Read an index written by :meth:`save`, memory-mapped and read-only where FAISS supports it."""
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError:  # an index type that cannot be mapped: read it normally
            index = faiss.read_index(str(path))
        return cls(index, params)
