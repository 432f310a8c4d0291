"""Stage 0 of generator training, the copy warm-up: random token sequences said twice, so the
"find the earlier occurrence and continue it" (induction) heads form before any store text.
"""

from __future__ import annotations

import torch

COPY_WARMUP_LENGTH = 64
"""Length of a copy warm-up sequence: 32 random tokens, then the same 32 again."""


def copy_warmup_batch(
    batch_size: int, token_ids: torch.Tensor, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """A batch of random token sequences, each said twice; only the repeat is scored.

    Natural text offers a small model many easier things to learn (word frequencies, templates)
    before copying: on the store's text a 1.1M-parameter GPT-2 showed no sign of copying after
    2,000 steps. On random tokens copying is the only thing to learn, and the "find the earlier
    occurrence, continue it" (induction) heads form within a few hundred steps (measured on
    2 CPU cores: loss on the repeat 7.3 → 0.3 between steps 200 and 400). The fine-tuned
    generator copies names, prices and specs from its sources with those heads.

    Args:
        batch_size: Sequences in the batch.
        token_ids: Ordinary (non-special) token ids to draw from.
        generator: Seeded random generator.

    Returns:
        ``input_ids`` (B, 64) and ``labels`` with -100 except on the predictable part of the repeat.
    """
    half = COPY_WARMUP_LENGTH // 2
    picks = torch.randint(len(token_ids), (batch_size, half), generator=generator)
    first = token_ids[picks]  # (B, 32)
    input_ids = torch.cat([first, first], dim=1)  # (B, 64)
    labels = input_ids.clone()
    # The repeat's first token is unpredictable (nothing says a repeat starts); the rest is not.
    labels[:, : half + 1] = -100
    return {"input_ids": input_ids, "labels": labels}
