"""Greedy decoding of GPT-2 models without the framework's per-step overhead.

A small generator's decoding step is almost all Python around a few tiny matrix products: the
demo generator (4 layers, 128 wide) spends 1.4 ms a step in transformers' ``GPT2LMHeadModel``
(cache objects, mask building, hooks and output classes) for about 0.2 ms of arithmetic. The
action server decodes every generated answer this way, so under load those milliseconds are a
large share of a turn's CPU (issue 17).

:class:`LeanGpt2` runs the same weights (shared with the transformers model, nothing copied)
through the same operations — ``addmm`` for GPT-2's ``Conv1D``, ``layer_norm``, PyTorch's
scaled-dot-product attention, the model's own activation — with the keys and values in one preallocated tensor
per layer. With one prompt it computes what transformers computes, in the same order; with
several left-padded prompts each row attends to its own tokens only, as with transformers'
attention mask. Only the last position's logits are computed. Models it does not support
(another architecture, or GPT-2 options it does not implement) decode through transformers:
:func:`greedy_session` picks. Measured in ``docs/benchmarks/2026-12-06/lean-decoding/``.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["LeanGpt2", "LeanSession", "supports"]


def supports(model: Any) -> str:
    """Why ``model`` cannot decode with :class:`LeanGpt2` ("" when it can)."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) != "gpt2":
        return f"model type {getattr(config, 'model_type', None)!r} is not gpt2"
    for option in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"):
        if getattr(config, option, False):
            return f"{option} is set"
    if not getattr(config, "scale_attn_weights", True):
        return "unscaled attention"
    if getattr(config, "add_cross_attention", False):
        return "cross attention"
    if getattr(model, "lm_head", None) is None or getattr(model, "transformer", None) is None:
        return "not a GPT2LMHeadModel"
    return ""


class LeanGpt2:
    """The forward pass of a transformers ``GPT2LMHeadModel`` for greedy decoding.

    Args:
        model: The loaded model (eval mode); its parameters are used in place.

    Raises:
        ValueError: The model is not one :func:`supports` accepts.
    """

    def __init__(self, model: Any) -> None:
        reason = supports(model)
        if reason:
            raise ValueError(f"LeanGpt2 cannot run this model: {reason}.")
        config = model.config
        body = model.transformer
        self.n_head = int(config.n_head)
        self.width = int(config.n_embd)
        self.head_dim = self.width // self.n_head
        self.eps = float(config.layer_norm_epsilon)
        self.max_positions = int(config.n_positions)
        # The model's own activation function (its ``forward``, without the module call).
        self.act = body.h[0].mlp.act.forward
        self.wte = body.wte.weight.detach()
        self.wpe = body.wpe.weight.detach()
        self.head = model.lm_head.weight.detach()
        self.ln_f = (body.ln_f.weight.detach(), body.ln_f.bias.detach())
        self.layers = [
            (
                (block.ln_1.weight.detach(), block.ln_1.bias.detach()),
                (block.attn.c_attn.weight.detach(), block.attn.c_attn.bias.detach()),
                (block.attn.c_proj.weight.detach(), block.attn.c_proj.bias.detach()),
                (block.ln_2.weight.detach(), block.ln_2.bias.detach()),
                (block.mlp.c_fc.weight.detach(), block.mlp.c_fc.bias.detach()),
                (block.mlp.c_proj.weight.detach(), block.mlp.c_proj.bias.detach()),
            )
            for block in body.h
        ]
        self.device = self.wte.device

    def start(self, rows: list[list[int]], pad_id: int, max_new_tokens: int) -> LeanSession:
        """Run the prompts ``rows`` (left-padded with ``pad_id`` to one length) and return the
        session that decodes their continuations, its first tokens in ``first``."""
        return LeanSession(self, rows, pad_id, max_new_tokens)


class LeanSession:
    """The decoding of one batch of prompts: the key/value cache and each row's positions.

    ``first`` holds each row's first greedy token; :meth:`step` feeds one token per row and
    returns the next ones; :meth:`keep` drops the rows that have finished.
    """

    def __init__(
        self, model: LeanGpt2, rows: list[list[int]], pad_id: int, max_new_tokens: int
    ) -> None:
        import torch

        self.model = model
        width = max(len(row) for row in rows)
        # Each row stays within the model's positions (the generator cuts its prompt to fit); a
        # short prompt padded to a long one may need more cache than positions.
        self.capacity = width + max_new_tokens
        ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], device=model.device)
        valid = torch.tensor(
            [[False] * (width - len(r)) + [True] * len(r) for r in rows], device=model.device
        )
        positions = (valid.long().cumsum(-1) - 1).clamp(min=0)
        shape = (len(model.layers), 2, len(rows), model.n_head, self.capacity, model.head_dim)
        self.cache = torch.empty(shape, dtype=model.wte.dtype, device=model.device)
        self.length = 0
        self.next_position = positions[:, -1:] + 1
        self.padded = not bool(valid.all())
        # Keys a row may read: its own tokens (a padded row's pads are never read).
        self.key_mask = torch.zeros((len(rows), 1, 1, self.capacity), dtype=torch.bool)
        self.key_mask = self.key_mask.to(model.device)
        self.key_mask[:, 0, 0, :width] = valid
        self.key_mask[:, 0, 0, width:] = True
        mask = None
        if self.padded:
            causal = torch.ones((width, width), dtype=torch.bool, device=model.device).tril()
            # A pad attends to itself only, so its (unused) values stay finite.
            mask = (causal & valid[:, None, None, :]) | torch.eye(
                width, dtype=torch.bool, device=model.device
            )
        self.first = self._forward(ids, positions, mask, causal=not self.padded)

    def step(self, tokens: list[int]) -> list[int]:
        """Feed each remaining row its last token; return each row's next greedy token."""
        import torch

        ids = torch.tensor([[t] for t in tokens], device=self.model.device)
        positions = self.next_position
        self.next_position = positions + 1
        mask = self.key_mask[:, :, :, : self.length + 1] if self.padded else None
        return self._forward(ids, positions, mask, causal=False)

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (indices into the current batch), in that order."""
        import torch

        index = torch.tensor(rows, device=self.model.device)
        self.cache = self.cache.index_select(2, index)
        self.key_mask = self.key_mask.index_select(0, index)
        self.next_position = self.next_position.index_select(0, index)

    def _forward(self, ids: Any, positions: Any, mask: Any, causal: bool) -> list[int]:
        import torch
        import torch.nn.functional as F

        model = self.model
        if self.length + ids.shape[1] > self.capacity:
            raise ValueError(
                f"The decoding ran past its {self.capacity}-token cache; start it with a larger "
                "max_new_tokens."
            )
        batch, n = ids.shape
        start, end = self.length, self.length + n
        heads, head_dim, width = model.n_head, model.head_dim, model.width
        with torch.inference_mode():
            x = model.wte[ids] + model.wpe[positions]
            for layer, (ln_1, attn, proj, ln_2, fc, fc_proj) in enumerate(model.layers):
                h = F.layer_norm(x, (width,), ln_1[0], ln_1[1], model.eps)
                qkv = torch.addmm(attn[1], h.view(-1, width), attn[0]).view(batch, n, 3, heads, -1)
                q = qkv[:, :, 0].transpose(1, 2)
                cache = self.cache[layer]
                cache[0, :, :, start:end] = qkv[:, :, 1].transpose(1, 2)
                cache[1, :, :, start:end] = qkv[:, :, 2].transpose(1, 2)
                out = F.scaled_dot_product_attention(
                    q,
                    cache[0, :, :, :end],
                    cache[1, :, :, :end],
                    attn_mask=mask,
                    is_causal=causal and n > 1,
                )
                out = out.transpose(1, 2).reshape(-1, heads * head_dim)
                x = x + torch.addmm(proj[1], out, proj[0]).view(batch, n, width)
                h = F.layer_norm(x, (width,), ln_2[0], ln_2[1], model.eps)
                h = torch.addmm(fc[1], h.view(-1, width), fc[0])
                h = model.act(h)
                x = x + torch.addmm(fc_proj[1], h, fc_proj[0]).view(batch, n, width)
            last = F.layer_norm(x[:, -1], (width,), model.ln_f[0], model.ln_f[1], model.eps)
            logits = F.linear(last, model.head)
        self.length = end
        return [int(t) for t in logits.argmax(-1).tolist()]
