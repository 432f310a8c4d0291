"""The training loss scores only the positions it should, and equals the loss over every position."""

from __future__ import annotations

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from training.generator_training.data import EncodedExample, collate
from training.generator_training.loop import batch_loss

EXAMPLES = [EncodedExample(list(range(5, 17)), 9), EncodedExample(list(range(20, 27)), 4)]


def tiny_model() -> GPT2LMHeadModel:
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2)
    return GPT2LMHeadModel(config).eval()


def full_sequence_loss(model: GPT2LMHeadModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The loss over every position's logits, weighted by ``weights`` where the batch has them."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.size(-1)),
        batch["labels"][:, 1:].reshape(-1),
        ignore_index=-100,
        reduction="none",
    )
    if "weights" not in batch:
        return ce.sum() / (batch["labels"][:, 1:] != -100).sum()
    weights = batch["weights"][:, 1:].reshape(-1)
    return (ce * weights).sum() / weights.sum()


def test_answer_only_loss_equals_the_models_own_loss() -> None:
    model = tiny_model()
    batch = collate(EXAMPLES, pad_id=0)
    assert torch.allclose(batch_loss(model, batch), model(**batch).loss, atol=1e-6)
    assert torch.allclose(batch_loss(model, batch), full_sequence_loss(model, batch), atol=1e-6)


def test_weighted_loss_counts_prompt_tokens_at_their_weight() -> None:
    model = tiny_model()
    batch = collate(EXAMPLES, pad_id=0, prompt_weight=0.25)
    assert "weights" in batch
    assert torch.allclose(batch_loss(model, batch), full_sequence_loss(model, batch), atol=1e-6)
    assert not torch.allclose(
        batch_loss(model, batch), batch_loss(model, collate(EXAMPLES, pad_id=0)), atol=1e-4
    )


def test_gradients_equal_those_of_the_full_sequence_loss() -> None:
    model = tiny_model()
    batch = collate(EXAMPLES, pad_id=0)
    batch_loss(model, batch).backward()
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    full_sequence_loss(model, batch).backward()
    for mine, theirs in zip(ours, (p.grad for p in model.parameters()), strict=True):
        assert torch.allclose(mine, theirs, atol=1e-6)
