"""Greedy decoding of several answers at once: one thread, one batch, every answer streamed.

The action server answers each shopper's question in a thread of its own. With a small local
model each decoding step is almost all framework overhead (1.3 ms for one sequence of the demo
generator on one core, 2.5 ms for eight), and several threads decoding side by side mostly wait
for each other's interpreter lock: at 50 shoppers a generated answer cost 55 ms of CPU against
19 ms alone (py-spy and /proc, 2026-12-06). :class:`BatchDecoder` gives the model to one thread:
the prompts waiting when a batch starts are decoded together (left-padded, with their attention
mask and their own positions, so each sequence sees exactly its own tokens), a sequence leaves the
batch when it stops, and each caller reads its own tokens as they come. Questions that arrive
while a batch runs wait for the next one (at most one answer's length).

A batch of one is the plain decoding loop: with one shopper at a time the answers are the same
tokens as without the decoder. In a batch, padding changes the shapes of the matrix products, so
the floating-point sums can differ in the last bits; greedy decoding then picks the same tokens
unless two candidates tie that closely (measured on the generator evaluation set:
``docs/benchmarks/2026-12-06/generator-batching/``). The pipeline verifies every answer either way.

The model runs through a :class:`Decoding`: :class:`knowledge.lean_gpt2.LeanGpt2` for GPT-2 models
(the same arithmetic without transformers' per-step overhead), :class:`TransformersDecoding` for
any other causal LM; :func:`greedy_decoding` picks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

logger = logging.getLogger(__name__)

DONE = None  # what a request's queue gets after its last token


@dataclass
class _Request:
    ids: list[int]
    max_new_tokens: int
    tokens: queue.SimpleQueue[Any] = field(default_factory=queue.SimpleQueue)
    produced: int = 0


class Session(Protocol):
    """The greedy decoding of one batch of prompts: ``first`` holds each row's first token."""

    first: list[int]

    def step(self, tokens: list[int]) -> list[int]:
        """Feed each row its last token; return each row's next greedy token."""

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (indices into the current batch), in that order."""


class Decoding(Protocol):
    """A causal LM ready for greedy decoding."""

    def start(self, rows: list[list[int]], pad_id: int, max_new_tokens: int) -> Session:
        """Run the prompts ``rows`` and return their session."""


class TransformersDecoding:
    """Greedy decoding through a transformers model's own forward pass (any causal LM that honours
    ``attention_mask``, ``position_ids`` and its KV cache, as every decoder-only model in
    transformers does).

    Args:
        model: The model, in eval mode.
        device: Where the model's tensors live.
    """

    def __init__(self, model: Any, device: str) -> None:
        self.model = model
        self.device = device

    def start(self, rows: list[list[int]], pad_id: int, max_new_tokens: int) -> Session:
        """Left-pad ``rows`` and run them; the session holds the model's cache."""
        return _TransformersSession(self.model, self.device, rows, pad_id)


class _TransformersSession:
    def __init__(self, model: Any, device: str, rows: list[list[int]], pad_id: int) -> None:
        import torch

        self.model = model
        self.device = device
        width = max(len(r) for r in rows)
        ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], device=device)
        self.mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
        self.mask = self.mask.to(device)
        self.positions = (self.mask.cumsum(-1) - 1).clamp(min=0)
        self.past: Any = None
        self.first = self._forward(ids)

    def _forward(self, ids: Any) -> list[int]:
        import torch

        with torch.inference_mode():
            out = self.model(
                input_ids=ids,
                attention_mask=self.mask,
                position_ids=self.positions,
                past_key_values=self.past,
                use_cache=True,
            )
        self.past = out.past_key_values
        return [int(t) for t in out.logits[:, -1].argmax(-1).tolist()]

    def step(self, tokens: list[int]) -> list[int]:
        import torch

        self.mask = torch.cat([self.mask, self.mask.new_ones((len(tokens), 1))], dim=1)
        self.positions = self.positions[:, -1:] + 1
        return self._forward(torch.tensor([[t] for t in tokens], device=self.device))

    def keep(self, rows: list[int]) -> None:
        import torch

        index = torch.tensor(rows, device=self.device)
        self.past.batch_select_indices(index)
        self.mask, self.positions = self.mask[index], self.positions[index]


def greedy_decoding(model: Any, device: str, decoder: str = "lean") -> Decoding:
    """The way to decode ``model``: :class:`knowledge.lean_gpt2.LeanGpt2` when ``decoder`` is
    ``lean`` and the model is a GPT-2 it supports, else :class:`TransformersDecoding`."""
    from knowledge.lean_gpt2 import LeanGpt2, supports

    if decoder == "lean":
        reason = supports(model)
        if not reason:
            return LeanGpt2(model)
        logger.info("The generator decodes through transformers: %s", reason)
    return TransformersDecoding(model, device)


class BatchDecoder:
    """Greedy decoding of every waiting prompt together, on one thread that owns the model.

    Args:
        decoding: The model, ready to decode (:func:`greedy_decoding`).
        stop_ids: Token ids that end a sequence (not yielded).
        pad_id: Any token id, used under a zero attention mask for left padding.
        max_batch: At most this many sequences decoded together.
    """

    def __init__(
        self, decoding: Decoding, stop_ids: set[int], pad_id: int, max_batch: int = 8
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1. Currently, max_batch is {max_batch}.")
        self.decoding = decoding
        self.stop_ids = set(stop_ids)
        self.pad_id = pad_id
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # how many batches ran (tests and logs)
        self.largest_batch = 0

    def tokens(self, ids: list[int], max_new_tokens: int) -> Iterator[int]:
        """Decode ``ids``' continuation; yield its token ids as the batch produces them."""
        if max_new_tokens <= 0:
            raise ValueError(
                f"max_new_tokens must be greater than 0. Currently, it is {max_new_tokens}."
            )
        request = _Request(list(ids), max_new_tokens)
        self._ensure_thread()
        self._waiting.put(request)
        while True:
            item = request.tokens.get()
            if item is DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield int(item)

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="shopbot-batch-decoder", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        while True:
            batch = [self._waiting.get()]  # sleeps until a prompt comes
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self.batches += 1
            self.largest_batch = max(self.largest_batch, len(batch))
            try:
                self._decode(batch)
            except Exception as exc:  # the callers raise it; this thread goes on
                logger.exception("Decoding a batch of %d failed", len(batch))
                for request in batch:
                    request.tokens.put(exc)

    def _decode(self, batch: list[_Request]) -> None:
        rows = [r.ids for r in batch]
        session = self.decoding.start(rows, self.pad_id, max(r.max_new_tokens for r in batch))
        active = list(batch)
        chosen = session.first
        while True:
            keep: list[int] = []
            for row, (request, token) in enumerate(zip(active, chosen, strict=True)):
                if token in self.stop_ids:
                    request.tokens.put(DONE)
                    continue
                request.tokens.put(token)
                request.produced += 1
                if request.produced >= request.max_new_tokens:
                    request.tokens.put(DONE)
                    continue
                keep.append(row)
            if not keep:
                return
            if len(keep) < len(active):
                session.keep(keep)
                chosen = [chosen[i] for i in keep]
                active = [active[i] for i in keep]
            chosen = session.step(chosen)
