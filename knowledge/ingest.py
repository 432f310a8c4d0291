"""Ingestion: the store's normalised catalog and FAQ files → an up-to-date knowledge index.

Re-running on unchanged data embeds nothing; after a catalog edit only the changed passages are
embedded (see :meth:`knowledge.index.KnowledgeIndex.update`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from knowledge.bm25 import BM25Config
from knowledge.index import MANIFEST_FILE, IndexParams, KnowledgeIndex
from knowledge.passages import ChunkConfig, build_passages
from knowledge.types import Embedder, Passage

logger = logging.getLogger(__name__)


def load_store_passages(
    catalog_jsonl: Path | str,
    faq_jsonl: Path | str | None,
    chunking: ChunkConfig | None = None,
) -> list[Passage]:
    """Read ``catalog.jsonl`` (and ``faq.jsonl`` when given) and return their passages.

    Raises:
        FileNotFoundError: A file is missing (the message says how to create it).
    """
    from knowledge.catalog.jsonl import read_catalog_jsonl
    from knowledge.faq import read_faq_jsonl

    products = read_catalog_jsonl(catalog_jsonl)
    faqs = read_faq_jsonl(faq_jsonl) if faq_jsonl is not None else []
    passages = build_passages(products, faqs, chunking)
    logger.info(
        "Read %d products and %d FAQ entries → %d passages", len(products), len(faqs), len(passages)
    )
    return passages


def build_knowledge_index(
    catalog_jsonl: Path | str,
    faq_jsonl: Path | str | None,
    out_dir: Path | str,
    embedder: Embedder,
    index_type: str = "auto",
    *,
    rebuild: bool = False,
    params: IndexParams | None = None,
    bm25_config: BM25Config | None = None,
    chunking: ChunkConfig | None = None,
    batch_size: int | None = None,
) -> KnowledgeIndex:
    """Build or incrementally update the knowledge index in ``out_dir``.

    An existing index made with the same embedder is updated in place (only new passages are
    embedded); ``rebuild=True`` starts from scratch, which is required after changing the embedder.

    Args:
        catalog_jsonl: The normalised catalog (``var/store/catalog.jsonl``).
        faq_jsonl: The normalised FAQ (``var/store/faq.jsonl``), or None for products only.
        out_dir: The index directory (``models/knowledge/index``).
        embedder: Embeds passages (and later queries).
        index_type: ``auto``, ``flat``, ``hnsw`` or ``ivf`` (ignored when ``params`` is given).
        rebuild: Ignore any existing index and embed everything again.
        params: Full FAISS parameters.
        bm25_config: BM25 k1/b.
        chunking: Description chunk sizes.
        batch_size: Embedding batch size (None: the embedder's own).

    Returns:
        The loaded, up-to-date index.

    Raises:
        IndexMismatchError: An existing index was built with another embedder (use ``rebuild``).
    """
    out_dir = Path(out_dir)
    params = params or IndexParams(index_type=index_type)
    start = time.perf_counter()
    passages = load_store_passages(catalog_jsonl, faq_jsonl, chunking)
    if (out_dir / MANIFEST_FILE).exists() and not rebuild:
        index = KnowledgeIndex.load(out_dir, embedder)
        stats = index.update(
            passages, params=params, bm25_config=bm25_config, batch_size=batch_size
        )
        action = "updated"
    else:
        index = KnowledgeIndex.build(
            passages,
            embedder,
            out_dir,
            params=params,
            bm25_config=bm25_config,
            batch_size=batch_size,
        )
        stats = None
        action = "built"
    logger.info(
        "Knowledge index %s in %.1fs: %s (%d passages, %s)%s",
        action,
        time.perf_counter() - start,
        out_dir,
        len(index),
        index.vector_index.params.index_type,
        f"; {stats.new} new, {stats.removed} removed" if stats else "",
    )
    return index
