"""Evaluation of the generator during training: the answer-token loss on validation examples, the
share of greedy answers that match exactly, and the tail mean of a loss curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from knowledge.prompt import clean_completion
from training.generator_training.data import EncodedExample, collate
from training.generator_training.loop import scored_logits


@torch.no_grad()
def mean_loss(
    model: Any, examples: Sequence[EncodedExample], pad_id: int, device: str, batch_size: int
) -> float:
    """Mean answer-token loss over ``examples``."""
    model.eval()
    total, tokens = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = collate(examples[start : start + batch_size], pad_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        logits, targets, _ = scored_logits(model, batch)
        total += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
        tokens += int(targets.numel())
    return total / max(1, tokens)


@torch.no_grad()
def exact_match(
    model: Any, tokenizer: Any, examples: Sequence[EncodedExample], device: str, max_new_tokens: int
) -> float:
    """Share of examples whose greedy answer equals the target answer exactly."""
    model.eval()
    end_id = tokenizer.eos_token_id
    hits = 0
    for ex in examples:
        prompt = torch.tensor([ex.ids[: ex.prompt_len]], device=device)
        out = model.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=end_id,
            pad_token_id=tokenizer.pad_token_id,
        )
        got = clean_completion(tokenizer.decode(out[0, ex.prompt_len :], skip_special_tokens=False))
        want = clean_completion(
            tokenizer.decode(ex.ids[ex.prompt_len :], skip_special_tokens=False)
        )
        hits += int(got == want)
    return hits / max(1, len(examples))


def tail_mean(points: list[tuple[int, float]], n: int = 20) -> float | None:
    """The mean of the last ``n`` values of a ``(step, value)`` curve (``None`` when empty)."""
    if not points:
        return None
    return float(np.mean([v for _, v in points[-n:]]))
