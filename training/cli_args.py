"""Command-line parsers built from typed argument dataclasses (help text on every field).

A field ``index_type: str = field(default="auto", metadata={"help": "...", "choices": [...]})``
becomes ``--index-type``; ``bool`` fields become on/off switches; ``X | None`` fields accept X.
Cross-field checks stay in the dataclass's ``__post_init__`` and surface as argparse errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any, TypeVar

T = TypeVar("T")


def _base_type(annotation: Any) -> Any:
    """``int | None`` → ``int``; plain types pass through."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


def build_parser(cls: type[Any], prog: str, description: str | None) -> argparse.ArgumentParser:
    """Return an ``ArgumentParser`` with one ``--flag`` per field of dataclass ``cls``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        kind = _base_type(hints[f.name])
        if kind is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                help=help_text,
            )  # fmt: skip
            continue
        parser.add_argument(
            flag,
            dest=f.name,
            type=kind if kind in (int, float, str) else str,
            default=default,
            choices=f.metadata.get("choices"),
            required=f.default is dataclasses.MISSING,
            help=help_text,
        )
    return parser


def parse_args(cls: type[T], argv: Sequence[str] | None, prog: str, description: str | None) -> T:
    """Parse ``argv`` into an instance of dataclass ``cls`` (exits with a usage error if invalid)."""
    parser = build_parser(cls, prog, description)
    namespace = parser.parse_args(None if argv is None else list(argv))
    try:
        return cls(**vars(namespace))
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


def exit_code(
    run: Callable[[T], object],
    args: T,
    log: logging.Logger,
    errors: tuple[type[Exception], ...] = (FileNotFoundError, ValueError),
) -> int:
    """Call ``run(args)``; return 0, or 1 after logging (on ``log``) one of ``errors``."""
    try:
        run(args)
    except errors as exc:
        log.error("%s", exc)
        return 1
    return 0


# Flags of the commands that embed text with the MiniLM embedder; one definition so ``--model``/
# ``--variant``/``--device``/``--batch-size`` mean the same in ``shopbot index`` and
# ``shopbot eval-retrieval``.


def embedder_model_field() -> Any:
    """``--model``: a sentence-transformers directory (default: the packaged MiniLM)."""
    return field(
        default=None,
        metadata={"help": "sentence-transformers directory; default: the packaged MiniLM."},
    )


def embedder_device_field() -> Any:
    """``--device``: where to embed (default: cuda when available)."""
    return field(default=None, metadata={"help": "cuda or cpu; default cuda when available."})


def embedder_variant_field() -> Any:
    """``--variant``: torch, onnx or onnx-int8 (default: ``SHOPBOT_EMBEDDER_VARIANT``)."""
    from core.settings import EMBEDDER_VARIANTS

    return field(
        default=None,
        metadata={
            "help": "Embedder variant: torch (sentence-transformers fp32), onnx (ONNX Runtime "
            "fp32) or onnx-int8; default SHOPBOT_EMBEDDER_VARIANT (onnx-int8).",
            "choices": list(EMBEDDER_VARIANTS),
        },
    )


def embedder_max_seq_length_field() -> Any:
    """``--max-seq-length``: tokens kept per text (default: the model's own)."""
    return field(
        default=None,
        metadata={
            "help": "Tokens kept per text; default SHOPBOT_EMBEDDER_MAX_SEQ_LENGTH (128; 0 = "
            "the model's own, 256 for MiniLM)."
        },
    )


def embed_batch_size_field() -> Any:
    """``--batch-size``: texts per embedding batch (default: the variant's own)."""
    return field(
        default=None,
        metadata={"help": "Embedding batch size; default the variant's own (torch 64, ONNX 8)."},
    )
