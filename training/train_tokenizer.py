"""Train the generator's byte-level BPE tokenizer on the store's own text.

The tokenizer knows the prompt delimiters of ``knowledge/prompt.py`` as single special tokens and
splits every digit on its own, so a price such as ``$28.91`` is always the same five symbols: the
generator learns to copy digits from a source rather than memorise one token per price.

Usage: ``python -m training.train_tokenizer --preset demo`` (normally called by
``training.train_generator``). Reads ``var/generator/pretrain.jsonl`` (``training.prepare_generator``)
and writes a Hugging Face tokenizer directory loadable with ``AutoTokenizer.from_pretrained``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.prompt import BOS, END, PAD, SPECIAL_TOKENS
from training.cli_args import parse_args

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
VOCAB_SIZES = {"tiny": 512, "demo": 4096, "full": 16384}


@dataclass
class TokenizerArgs:
    """Arguments of ``train_tokenizer``."""

    preset: str = field(
        default="demo",
        metadata={"help": "Vocabulary size preset.", "choices": list(VOCAB_SIZES)},
    )
    vocab_size: int | None = field(
        default=None,
        metadata={"help": "Vocabulary size incl. special tokens; default: the preset's."},
    )
    corpus: str = field(
        default="var/generator/pretrain.jsonl",
        metadata={"help": "Pre-training text (JSON lines with 'text'), from prepare_generator."},
    )
    out_dir: str = field(
        default="var/generator/tokenizer", metadata={"help": "Output tokenizer directory."}
    )
    min_frequency: int = field(default=2, metadata={"help": "Minimum pair frequency to merge."})

    def __post_init__(self) -> None:
        if self.preset not in VOCAB_SIZES:
            raise ValueError(
                f"preset must be one of {sorted(VOCAB_SIZES)}. Currently, preset is {self.preset!r}."
            )
        if self.vocab_size is None:
            self.vocab_size = VOCAB_SIZES[self.preset]
        if self.vocab_size < 300:
            raise ValueError(
                "vocab_size must be at least 300 (256 bytes + special tokens + merges). "
                f"Currently, vocab_size is {self.vocab_size}."
            )


def read_texts(path: Path) -> Iterator[str]:
    """Yield the ``text`` field of every JSON line in ``path``."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield str(json.loads(line)["text"])


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Any:
    """Train a byte-level BPE tokenizer and wrap it as a ``PreTrainedTokenizerFast``.

    Args:
        texts: Training text.
        vocab_size: Vocabulary size including the special tokens.
        min_frequency: Minimum pair frequency for a merge.

    Returns:
        A ``transformers.PreTrainedTokenizerFast`` with BOS/EOS/PAD set (EOS is ``<|end|>``).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=logger.isEnabledFor(logging.INFO),
    )
    tokenizer.train_from_iterator(texts, trainer)
    others = [t for t in SPECIAL_TOKENS if t not in (BOS, END, PAD)]
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=END,
        pad_token=PAD,
        additional_special_tokens=others,
        model_max_length=1_000_000,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Train the tokenizer from the command line; returns an exit code."""
    args = parse_args(TokenizerArgs, argv, "train_tokenizer", __doc__)
    corpus, out_dir = ROOT / args.corpus, ROOT / args.out_dir
    if not corpus.exists():
        logger.error(
            "No pre-training corpus at %s. Run `python -m training.prepare_generator` first.",
            corpus,
        )
        return 1
    logger.info("Tokenizer configuration: %s", json.dumps(asdict(args)))
    tokenizer = train_tokenizer(read_texts(corpus), int(args.vocab_size or 0), args.min_frequency)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out_dir))
    logger.info("Tokenizer with %d tokens written to %s", len(tokenizer), out_dir)
    return 0


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    raise SystemExit(main())
