"""Tests for training/generator_training/copy_warmup.py: the batches, and that the stage teaches copying."""

from __future__ import annotations

from collections.abc import Iterator

from training.generator_training import copy_warmup
from training.generator_training.config import TrainGeneratorArgs
from training.generator_training.loop import run_stage


def test_copy_warmup_batch_repeats_and_scores_only_the_repeat() -> None:
    import torch

    ordinary = torch.arange(8, 200)
    batch = copy_warmup.copy_warmup_batch(4, ordinary, torch.Generator().manual_seed(0))
    ids, labels = batch["input_ids"], batch["labels"]
    assert ids.shape == labels.shape == (4, copy_warmup.COPY_WARMUP_LENGTH)
    half = copy_warmup.COPY_WARMUP_LENGTH // 2
    assert torch.equal(ids[:, :half], ids[:, half:])
    assert int(ids.min()) >= 8  # never a special token
    assert bool((labels[:, : half + 1] == -100).all())
    assert torch.equal(labels[:, half + 1 :], ids[:, half + 1 :])


def test_copy_warmup_teaches_a_fresh_model_to_copy() -> None:
    """The stage the demo preset starts with: a GPT-2 that has never seen text learns to continue
    a sequence it saw earlier in its context (loss on the repeat from ln(vocab) to near 0)."""
    import math

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    vocab = 256
    config = GPT2Config(
        vocab_size=vocab, n_positions=64, n_embd=64, n_layer=2, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    model = GPT2LMHeadModel(config)
    args = TrainGeneratorArgs(preset="tiny", learning_rate=3e-3)
    generator = torch.Generator().manual_seed(0)
    ordinary = torch.arange(8, vocab)

    def batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            yield copy_warmup.copy_warmup_batch(32, ordinary, generator)

    curve: list[tuple[int, float]] = []
    run_stage("copy warm-up", model, batches(), 400, args, "cpu", curve)
    first = curve[0][1]
    last = sum(v for _, v in curve[-20:]) / 20
    assert first > 0.8 * math.log(vocab - 8)
    assert last < 0.5, f"the repeat is still not copied: loss {last:.2f} after 400 steps"
