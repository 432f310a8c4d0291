"""``shopbot index``: build or update the FAISS + BM25 knowledge index over the catalog and FAQ.

Re-running with unchanged data embeds nothing ("0 new, 0 removed"); ``--rebuild`` starts over
(needed after changing ``--model``, ``--variant`` or ``--max-seq-length``). The ONNX variants
export the model from the installed weights into ``models/embedders/`` first (once, cached).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from knowledge.types import Embedder
from knowledge.vector_index import INDEX_TYPES, IndexParams
from training.cli_args import (
    embed_batch_size_field,
    embedder_device_field,
    embedder_max_seq_length_field,
    embedder_model_field,
    embedder_variant_field,
    parse_args,
)

logger = logging.getLogger(__name__)


@dataclass
class BuildIndexArgs:
    """Arguments of ``shopbot index``."""

    catalog: str = field(
        default="var/store/catalog.jsonl",
        metadata={"help": "Normalised catalog (JSON lines), written by the store preparation."},
    )
    faq: str = field(
        default="var/store/faq.jsonl",
        metadata={"help": "Normalised FAQ (JSON lines); pass an empty string for none."},
    )
    out: str = field(
        default="models/knowledge/index", metadata={"help": "Index directory to build or update."}
    )
    index_type: str = field(
        default="auto",
        metadata={
            "help": "FAISS index: flat (exact), hnsw, ivf, or auto (flat below 50k passages).",
            "choices": list(INDEX_TYPES),
        },
    )
    model: str | None = embedder_model_field()
    variant: str | None = embedder_variant_field()
    max_seq_length: int | None = embedder_max_seq_length_field()
    device: str | None = embedder_device_field()
    batch_size: int | None = embed_batch_size_field()
    hnsw_m: int = field(default=32, metadata={"help": "HNSW links per vector (M)."})
    ef_construction: int = field(default=64, metadata={"help": "HNSW efConstruction."})
    ef_search: int = field(default=128, metadata={"help": "HNSW efSearch."})
    nlist: int | None = field(default=None, metadata={"help": "IVF lists; default 4*sqrt(n)."})
    nprobe: int = field(default=16, metadata={"help": "IVF lists probed per query."})
    rebuild: bool = field(
        default=False, metadata={"help": "Embed everything again instead of updating."}
    )

    def __post_init__(self) -> None:
        if self.variant is None:
            from core.settings import Settings

            self.variant = Settings().embedder_variant
        if self.batch_size is not None and self.batch_size <= 0:
            raise ValueError(
                f"--batch-size must be greater than 0. Currently, batch_size is {self.batch_size}"
            )

    def index_params(self) -> IndexParams:
        """The FAISS parameters these arguments describe."""
        return IndexParams(
            index_type=self.index_type,
            hnsw_m=self.hnsw_m,
            ef_construction=self.ef_construction,
            ef_search=self.ef_search,
            nlist=self.nlist,
            nprobe=self.nprobe,
        )


def _make_embedder(args: BuildIndexArgs) -> Embedder:
    from knowledge.embedder import make_embedder

    return make_embedder(
        args.variant, args.model, args.device, args.batch_size, args.max_seq_length
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build or update the knowledge index; returns 0 on success, 1 on a data error."""
    args = parse_args(BuildIndexArgs, argv, "shopbot index", __doc__)
    logger.info("shopbot index configuration: %s", json.dumps(asdict(args)))
    from knowledge.index import IndexMismatchError
    from knowledge.ingest import build_knowledge_index

    start = time.perf_counter()
    try:
        embedder = _make_embedder(args)
        warm_up = getattr(embedder, "warm_up", None)
        if callable(warm_up):
            warm_up()  # the ONNX variants export the model here (once), with a progress bar
        index = build_knowledge_index(
            args.catalog,
            args.faq or None,
            Path(args.out),
            embedder,
            rebuild=args.rebuild,
            params=args.index_params(),
            batch_size=args.batch_size,
        )
    except (FileNotFoundError, IndexMismatchError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    logger.info(
        "Done in %.1fs: %d passages (%s) in %s",
        time.perf_counter() - start,
        len(index),
        index.manifest.get("index_type"),
        args.out,
    )
    return 0


if __name__ == "__main__":
    import sys

    from core.logging_setup import configure_logging

    configure_logging()
    sys.exit(main())
