"""A freshly initialised GPT-2 (``transformers``) sized by the training arguments, with sinusoidal
initial position embeddings by default.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from knowledge.prompt import BOS
from training.generator_training.config import TrainGeneratorArgs


def build_model(args: TrainGeneratorArgs, tokenizer: Any, device: str) -> Any:
    """A freshly initialised GPT-2 sized by ``args`` for ``tokenizer``'s vocabulary."""
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=args.n_positions,
        n_embd=args.n_embd,
        n_layer=args.n_layer,
        n_head=args.n_head,
        bos_token_id=tokenizer.convert_tokens_to_ids(BOS),
        eos_token_id=int(tokenizer.eos_token_id),
        pad_token_id=int(tokenizer.pad_token_id),
        # No dropout: the model is small and sees each example about once.
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        # GPT-2's tanh GELU as one fused kernel instead of six element-wise ops ("gelu_new"):
        # the same formula, 16% of a training step on 2 cores.
        activation_function="gelu_pytorch_tanh",
    )
    model: Any = GPT2LMHeadModel(config)
    if args.position_init == "sinusoidal":
        # GPT-2 learns absolute position embeddings from random values; a few hundred steps are
        # not enough for the "look at the previous token" heads that copying relies on. Starting
        # from sinusoids (relative offsets are linear in them) makes those heads cheap to learn.
        # Scaled to the token embeddings' spread; they remain trainable.
        with torch.no_grad():
            table = sinusoidal_table(int(args.n_positions or 0), int(args.n_embd or 0))
            scale = config.initializer_range / float(table.std())
            model.transformer.wpe.weight.copy_(table * scale)
    return model.to(device)


def sinusoidal_table(n_positions: int, dim: int) -> torch.Tensor:
    """The sinusoidal position table of "Attention Is All You Need", shape (n_positions, dim)."""
    position = torch.arange(n_positions, dtype=torch.float32)[:, None]  # (T, 1)
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(n_positions, dim)
    table[:, 0::2] = torch.sin(position * freq)  # (T, dim/2)
    table[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return table
