"""``shopbot train-faq-matcher``: fine-tune MiniLM so the ways shoppers ask one FAQ entry lie close.

The answer pipeline finds the FAQ entry a shopper's question asks by comparing the question with
every entry's question and its ``also_asked`` phrasings (``knowledge.faq_rank``). The packaged
MiniLM was trained for general sentence similarity; on the development sets of shoppers' own FAQ
questions it put the right entry first for 92–95% of them, and its similarities left little room
between a question the FAQ answers and one it does not. Fine-tuning it on the store's own
phrasings (the SetFit recipe's first stage: contrastive pairs of two ways to ask the same entry,
every other entry in the batch a negative) pulls each entry's phrasings together and the entries
apart. Measured in ``docs/benchmarks/2026-12-07/faq-matcher/``.

The model is saved as a sentence-transformers directory (``models/<preset>/knowledge/
faq_matcher/``) with ``metrics.json`` (the resolved configuration, the loss per epoch, the time).
The answer pipeline loads it when the folder exists, in the configured embedder variant (the ONNX
variants export it once into ``models/embedders/``); the retrieval index keeps the packaged
MiniLM. Runs on the GPU when there is one.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.cli_args import exit_code, parse_args

logger = logging.getLogger(__name__)

__all__ = ["FaqMatcherArgs", "main", "train_faq_matcher", "training_pairs"]

# The cosine similarities are scaled before the softmax over the batch (sentence-transformers'
# MultipleNegativesRankingLoss default).
SIMILARITY_SCALE = 20.0
METRICS_FILE = "metrics.json"


@dataclass
class FaqMatcherArgs:
    """Arguments of ``shopbot train-faq-matcher``."""

    faq: str = field(
        default="var/store/faq.jsonl",
        metadata={"help": "Normalised FAQ (JSON lines) with each entry's also_asked phrasings."},
    )
    out: str = field(
        default="models/knowledge/faq_matcher",
        metadata={"help": "Folder to write the fine-tuned sentence-transformers model to."},
    )
    model: str | None = field(
        default=None, metadata={"help": "Starting model; default: the packaged MiniLM."}
    )
    epochs: int = field(default=2, metadata={"help": "Passes over the phrasings."})
    batch_size: int = field(default=32, metadata={"help": "Pairs per step (in-batch negatives)."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate."})
    seed: int = field(default=13, metadata={"help": "Seed of the pairing and the shuffling."})
    device: str = field(default="auto", metadata={"help": "auto (cuda when present), cpu, cuda"})

    def __post_init__(self) -> None:
        if self.epochs <= 0:
            raise ValueError(f"epochs must be greater than 0. Currently, epochs is {self.epochs}.")
        if self.batch_size < 2:
            raise ValueError(
                f"batch_size must be at least 2 (in-batch negatives). Currently, batch_size is "
                f"{self.batch_size}."
            )
        if self.learning_rate <= 0:
            raise ValueError(
                f"learning_rate must be greater than 0. Currently, it is {self.learning_rate}."
            )


def training_pairs(asked: dict[str, list[str]], rng: random.Random) -> list[tuple[str, str, str]]:
    """One pair per way of asking an entry: ``(entry id, text, another way of asking it)``.

    Entries asked only one way teach nothing by themselves (they are still other pairs'
    negatives through the batch) and give no pair.
    """
    pairs = []
    for entry_id, texts in asked.items():
        if len(texts) < 2:
            continue
        for i, text in enumerate(texts):
            other = rng.choice([t for j, t in enumerate(texts) if j != i])
            pairs.append((entry_id, text, other))
    rng.shuffle(pairs)
    return pairs


def _batch_loss(model: Any, batch: Sequence[tuple[str, str, str]]) -> Any:
    """In-batch softmax loss: each text must be closest to its own pair, not to the batch's
    other pairs (pairs of the same entry are not counted as negatives)."""
    import torch
    import torch.nn.functional as F

    device = model.device
    # sentence-transformers 5 renamed ``tokenize`` to ``preprocess`` (the old name warns).
    tokenize = getattr(model, "preprocess", None) or model.tokenize

    def encode(texts: list[str]) -> Any:
        features = {
            k: v.to(device) if isinstance(v, torch.Tensor) else v
            for k, v in tokenize(texts).items()
        }
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    anchors = encode([b[1] for b in batch])
    positives = encode([b[2] for b in batch])
    logits = SIMILARITY_SCALE * anchors @ positives.T
    ids = [b[0] for b in batch]
    same = torch.tensor([[a == b for b in ids] for a in ids], device=device)
    eye = torch.eye(len(batch), dtype=torch.bool, device=device)
    logits = logits.masked_fill(same & ~eye, float("-inf"))
    return F.cross_entropy(logits, torch.arange(len(batch), device=device))


def train_faq_matcher(args: FaqMatcherArgs) -> dict[str, Any]:
    """Fine-tune and save the matcher; returns what ``metrics.json`` records."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tqdm import tqdm

    from core.device import resolve_device_name
    from knowledge.embedder import default_model_path
    from knowledge.faq import read_faq_jsonl

    entries = read_faq_jsonl(args.faq)
    if not entries:
        raise ValueError(
            f"{args.faq} holds no FAQ entries; build the store with `shopbot prepare`."
        )
    asked = {e.id: list(dict.fromkeys([e.question, *e.also_asked])) for e in entries}
    device = resolve_device_name(args.device)
    resolved = {**asdict(args), "device": device, "entries": len(entries)}
    resolved["texts"] = sum(len(t) for t in asked.values())
    logger.info("train-faq-matcher configuration: %s", json.dumps(resolved))
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = SentenceTransformer(str(args.model or default_model_path()), device=device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    started = time.perf_counter()
    losses: list[float] = []
    for epoch in range(args.epochs):
        pairs = training_pairs(asked, rng)
        if not pairs:
            raise ValueError(
                f"{args.faq}: no entry is asked two ways; add also_asked phrasings "
                "(<faq name>_phrasings.csv beside the FAQ CSV) to train a matcher."
            )
        model.train()
        total, steps = 0.0, 0
        batches = range(0, len(pairs), args.batch_size)
        for start in tqdm(batches, desc=f"faq matcher epoch {epoch + 1}", unit="batch"):
            batch = pairs[start : start + args.batch_size]
            if len(batch) < 2:
                continue
            loss = _batch_loss(model, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, steps = total + float(loss.detach()), steps + 1
        losses.append(round(total / max(steps, 1), 4))
        logger.info("FAQ matcher epoch %d: mean loss %.4f", epoch + 1, losses[-1])
    model.eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    metrics = {
        "configuration": resolved,
        "pairs_per_epoch": len(pairs),
        "loss_per_epoch": losses,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    logger.info(
        "FAQ matcher written to %s: %d entries, %d pairs per epoch, loss %s, %.0f s",
        out,
        len(entries),
        len(pairs),
        losses,
        metrics["train_seconds"],
    )
    return metrics


def main(argv: Sequence[str] | None = None) -> int:
    """Train the FAQ matcher; returns an exit code."""
    args = parse_args(FaqMatcherArgs, argv, "shopbot train-faq-matcher", __doc__)
    return exit_code(train_faq_matcher, args, logger)


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
