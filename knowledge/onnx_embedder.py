"""The MiniLM embedder on ONNX Runtime (fp32 or int8), a drop-in for the sentence-transformers one.

Tokenisation, truncation (``max_seq_length`` from ``sentence_bert_config.json``), mean pooling
over the attention mask and L2 normalisation reproduce sentence-transformers' own; only the
transformer runs in ONNX Runtime. Texts are embedded in batches of similar length (sorted by
character length, longest first, as sentence-transformers does) so little compute goes to padding;
rows come back in the caller's order. Measured speed and agreement: docs/decisions/020-onnx-embedder.md.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from core.onnx_export import check_variant, cpu_session
from knowledge.embedder import (
    PROGRESS_BAR_MIN_TEXTS,
    LocalModelDir,
    check_batch_size,
    l2_normalize,
)
from knowledge.onnx_export import ensure_onnx_model

logger = logging.getLogger(__name__)

# Texts per batch. Small batches measured fastest with batches in parallel (int8, 128 tokens,
# 2,000 Myntra passages on 2 cores: 428 passages/s at 8, 387 at 16, 282 at 64; 4 about as 8):
# length-sorted batches of 8 carry almost no padding, and each one's activations stay in cache.
ONNX_BATCH_SIZE = 8


def length_sorted_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Split ``range(len(texts))`` into batches of similar length, longest texts first.

    The sort is stable, so equal lengths keep their input order; every index appears exactly once.
    """
    check_batch_size(batch_size)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the mask keeps, L2-normalised: (B, T, H), (B, T) -> (B, H).

    Same arithmetic as sentence-transformers' ``Pooling(mean)`` + ``Normalize``: the token count
    is clamped at 1e-9 and the norm at 1e-12.
    """
    mask = attention_mask.astype(np.float32)[:, :, None]  # (B, T, 1)
    summed = (hidden * mask).sum(axis=1)  # (B, H)
    counts = np.maximum(mask.sum(axis=1), 1e-9)  # (B, 1)
    return l2_normalize(summed / counts)


class OnnxEmbedder(LocalModelDir):
    """A sentence-transformers BERT model run by ONNX Runtime on the CPU, as an ``Embedder``.

    The ONNX file is exported from the local weights on first use (:func:`ensure_onnx_model`,
    cached under ``cache_dir``); it and the tokenizer load in :meth:`warm_up`, never in
    ``__init__``.

    Args:
        variant: ``onnx`` (fp32) or ``onnx-int8`` (dynamically quantized MatMuls).
        model_path: A local sentence-transformers directory; None uses the packaged MiniLM.
        cache_dir: Where exports are cached; None → ``Settings().embedder_cache_dir``
            (``models/embedders``).
        batch_size: Default batch size of :meth:`embed`.
        threads: CPU threads to use; None → one per core (``os.cpu_count()``, at most 8).
        batch_parallel: Run ``threads`` batches at once, each on one ONNX Runtime thread (True),
            instead of one batch at a time split over ``threads`` intra-op threads (False).
            MiniLM's matrices for a batch of short passages are too small to split well: the
            intra-op threads wait on each other at every operator, and on a shared machine a
            descheduled thread stalls the rest; whole batches in parallel need no such barrier
            (measured in the Indexing bench). A single query is one batch, on one thread.
        max_seq_length: Tokens kept per text; None → the model's ``max_seq_length`` (256 for
            MiniLM), as sentence-transformers does.
        name: Identity written into index manifests (as :class:`SentenceTransformerEmbedder`).
        sort_by_length: Batch texts of similar length together (True; False only to measure
            what it buys: the vectors are the same either way).
    """

    def __init__(
        self,
        variant: str = "onnx-int8",
        model_path: str | Path | None = None,
        cache_dir: str | Path | None = None,
        batch_size: int = ONNX_BATCH_SIZE,
        threads: int | None = None,
        max_seq_length: int | None = None,
        name: str | None = None,
        sort_by_length: bool = True,
        batch_parallel: bool = True,
    ) -> None:
        check_variant(variant)
        check_batch_size(batch_size)
        if threads is not None and threads <= 0:
            raise ValueError(f"threads must be greater than 0. Currently, threads is {threads}")
        if max_seq_length is not None and max_seq_length <= 0:
            raise ValueError(
                "max_seq_length must be greater than 0. "
                f"Currently, max_seq_length is {max_seq_length}"
            )
        self._set_model_dir(model_path, name, max_seq_length)
        self.variant = variant
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.batch_size = batch_size
        self.threads = threads or min(os.cpu_count() or 1, 8)
        self.batch_parallel = batch_parallel
        self.sort_by_length = sort_by_length
        self._session: Any = None
        self._tokenizer: Any = None
        self._input_names: list[str] = []
        self._dimension: int | None = None
        self.onnx_path: Path | None = None

    @property
    def cache_dir(self) -> Path:
        """The resolved export cache."""
        if self._cache_dir is None:
            from core.settings import Settings

            self._cache_dir = Settings().embedder_cache_dir
        return self._cache_dir

    @property
    def dimension(self) -> int:
        """Output dimension (the transformer's hidden size; mean pooling keeps it)."""
        if self._dimension is None:
            config = json.loads((self.model_path / "config.json").read_text(encoding="utf-8"))
            self._dimension = int(config["hidden_size"])
        return self._dimension

    @dimension.setter
    def dimension(self, value: int) -> None:
        # Settable only so the class satisfies the ``Embedder`` protocol's plain attribute.
        self._dimension = value

    def warm_up(self, progress: bool = True) -> None:
        """Export the ONNX model if it is not cached, then load it and the tokenizer (once)."""
        if self._session is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoTokenizer

        self.onnx_path = ensure_onnx_model(
            self.model_path, self.cache_dir, self.name, self.variant, progress=progress
        )
        # One thread per batch (batches run in parallel) or every thread on one batch.
        self._session = cpu_session(self.onnx_path, 1 if self.batch_parallel else self.threads)
        self._input_names = [i.name for i in self._session.get_inputs()]
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_path))
        logger.info(
            "Loaded embedder %s (%s, max_seq_length %d, %d threads, %s) from %s",
            self.name,
            self.variant,
            self.max_seq_length,
            self.threads,
            "batch-parallel" if self.batch_parallel else "intra-op",
            self.onnx_path,
        )

    def _tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self._tokenizer(
            texts,
            padding=True,
            truncation="longest_first",
            max_length=self.max_seq_length,
            return_tensors="np",
        )
        return {name: encoded[name].astype(np.int64) for name in self._input_names}

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        # InferenceSession.run is thread-safe and releases the GIL.
        (hidden,) = self._session.run(["last_hidden_state"], feeds)  # (B, T, H)
        return mean_pool(hidden, feeds["attention_mask"])

    def _vectors(self, texts: list[str], batches: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
        """Yield each batch's vectors, in order, running up to ``threads`` batches at once."""
        if not self.batch_parallel or self.threads == 1 or len(batches) == 1:
            for rows in batches:
                yield self._run(self._tokenize([texts[i] for i in rows]))
            return
        # The tokenizer stays on this thread (a fast tokenizer is not safe to share between
        # threads); a window of batches is tokenized ahead so the workers never wait for it.
        window = 4 * self.threads
        with ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed") as pool:
            for start in range(0, len(batches), window):
                feeds = [
                    self._tokenize([texts[i] for i in rows])
                    for rows in batches[start : start + window]
                ]
                yield from pool.map(self._run, feeds)

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Return an array (len(texts), dimension) of L2-normalised float32 embeddings."""
        batch_size = batch_size or self.batch_size
        check_batch_size(batch_size)
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        # sentence-transformers strips each text before tokenising; so do we (same vectors).
        clean = [str(t).strip() for t in texts]
        out = np.empty((len(clean), self.dimension), dtype=np.float32)
        if self.sort_by_length:
            batches = length_sorted_batches(clean, batch_size)
        else:
            batches = [
                np.arange(i, min(i + batch_size, len(clean)))
                for i in range(0, len(clean), batch_size)
            ]
        vectors = self._vectors(clean, batches)
        show = len(clean) >= PROGRESS_BAR_MIN_TEXTS and logger.getEffectiveLevel() <= logging.INFO
        if show:
            from tqdm.auto import tqdm

            vectors = tqdm(
                vectors, total=len(batches), desc=f"Embedding ({self.variant})", unit="batch"
            )
        for rows, batch_vectors in zip(batches, vectors, strict=True):
            out[rows] = batch_vectors
        return out
