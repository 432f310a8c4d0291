"""The training loop of every stage: AdamW with linear warm-up and cosine decay, gradient clipping,
the (optionally per-token weighted) causal LM loss, loss curves and periodic validation.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from training.generator_training.config import TrainGeneratorArgs

logger = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cosine_lr(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up to ``peak`` then cosine decay to 10% of it."""
    if step < warmup:
        return peak * (step + 1) / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.45 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def scored_logits(
    model: Any, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Next-token logits at the positions the loss scores, their targets, and their weights
    (``None`` unless the batch carries ``weights``).

    The LM head and the softmax run on those positions only: fine-tuning scores the answer
    (20-40 tokens) of a 250-token prompt, and the head over every position was a third of a step
    (measured on 2 cores: 190 → 154 ms a step). The loss is the same as over all positions.
    """
    hidden = model.transformer(
        input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"), use_cache=False
    )[0][:, :-1]
    targets = batch["labels"][:, 1:]
    weights = batch.get("weights")
    keep = targets != -100  # padding, and the prompt unless it is weighted (``collate``)
    logits = model.lm_head(hidden[keep]).float()
    return logits, targets[keep], (weights[:, 1:][keep] if weights is not None else None)


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Causal LM loss of a batch; per-token weighted when the batch carries ``weights``."""
    logits, targets, weights = scored_logits(model, batch)
    if weights is None:
        return torch.nn.functional.cross_entropy(logits, targets)
    ce = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
    return (ce * weights).sum() / weights.sum().clamp_min(1e-6)


@dataclass
class Curves:
    """Loss curves of both stages, for metrics.json and the PNG."""

    copy_loss: list[tuple[int, float]] = field(default_factory=list)
    pretrain_loss: list[tuple[int, float]] = field(default_factory=list)
    finetune_loss: list[tuple[int, float]] = field(default_factory=list)
    valid_loss: list[tuple[int, float]] = field(default_factory=list)


def _optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=lr,
        betas=(0.9, 0.95),
    )


def run_stage(
    name: str,
    model: Any,
    batches: Iterator[dict[str, torch.Tensor]],
    steps: int,
    args: TrainGeneratorArgs,
    device: str,
    curve: list[tuple[int, float]],
    evaluate: Callable[[], float] | None = None,
    valid_curve: list[tuple[int, float]] | None = None,
) -> None:
    """Run ``steps`` AdamW steps over ``batches`` with warm-up + cosine decay."""
    if steps <= 0:
        return
    peak = float(args.learning_rate or 0.0)
    optimizer = _optimizer(model, peak, args.weight_decay)
    warmup = max(1, int(steps * args.warmup_ratio))
    model.train()
    smoothed: float | None = None
    bar = tqdm(range(steps), desc=name, unit="step")
    for step in bar:
        lr = cosine_lr(step, steps, peak, warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = {k: v.to(device) for k, v in next(batches).items()}
        loss = batch_loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        value = float(loss.item())
        smoothed = value if smoothed is None else 0.9 * smoothed + 0.1 * value
        curve.append((step, value))
        bar.set_postfix(loss=f"{smoothed:.3f}", lr=f"{lr:.1e}")
        last = step == steps - 1
        if (
            evaluate is not None
            and valid_curve is not None
            and ((step + 1) % args.eval_every == 0 or last)
        ):
            valid_curve.append((step, evaluate()))
            model.train()
            logger.info(
                "%s step %d: train loss %.4f, valid loss %.4f",
                name,
                step + 1,
                smoothed,
                valid_curve[-1][1],
            )
