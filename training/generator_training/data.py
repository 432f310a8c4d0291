"""The generator's training data as tensors: packed pre-training blocks, fine-tuning examples
rendered with the serving prompt format and tokenized, padded batches of similar length.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from tqdm import tqdm

from knowledge.describe import DESCRIBE_INSTRUCTION, describe_budget
from knowledge.prompt import PromptBudget, build_prompt
from knowledge.prompt import format_target as prompt_target
from knowledge.references import PromptSources, ReferenceError, has_references
from training.generator_data.records import QAExample

logger = logging.getLogger(__name__)


def repeat_halves(blocks: torch.Tensor, fraction: float, rng: random.Random) -> torch.Tensor:
    """Replace the second half of a ``fraction`` of the rows with a copy of their first half.

    Store text said twice: the second copy can only be predicted by looking back, so the
    "find the earlier occurrence and continue it" (induction) heads that grounded answers need
    form within a few hundred steps instead of a few thousand.
    """
    out = blocks.clone()
    half = blocks.size(1) // 2
    for row in range(out.size(0)):
        if rng.random() < fraction:
            out[row, half : 2 * half] = out[row, :half]
    return out


def pack_blocks(token_docs: Sequence[list[int]], block_size: int, bos_id: int) -> torch.Tensor:
    """Concatenate documents (each preceded by BOS) and cut the stream into blocks."""
    stream: list[int] = []
    for ids in token_docs:
        stream.append(bos_id)
        stream.extend(ids)
    n_blocks = max(1, len(stream) // block_size)
    stream = (stream + [bos_id] * block_size)[: n_blocks * block_size]
    return torch.tensor(stream, dtype=torch.long).view(n_blocks, block_size)


@dataclass
class EncodedExample:
    """A fine-tuning sequence: prompt + answer ids, and how many leading ids are prompt."""

    ids: list[int]
    prompt_len: int


def encode_examples(
    examples: Sequence[QAExample],
    passages: dict[str, Any],
    tokenizer: Any,
    budget: PromptBudget,
    max_len: int,
    desc: str = "encode",
) -> list[EncodedExample]:
    """Render every example with the serving prompt format and tokenize it.

    Examples whose prompt + answer do not fit ``max_len``, or whose fact (``expected``) or
    referenced field (``knowledge.references``) the budget cut out of the prompt, are skipped
    (and counted in the log).
    """
    count = token_counter(tokenizer)
    out: list[EncodedExample] = []
    skipped = ungrounded = 0
    for ex in tqdm(examples, desc=desc, unit="ex", mininterval=2.0):
        prompt = build_prompt(
            ex.question,
            [passages[pid] for pid in ex.passage_ids],
            [(s, t) for s, t in ex.history],
            # A description prompt's one source gets the whole prompt, as when serving.
            budget=describe_budget(budget) if ex.question == DESCRIBE_INSTRUCTION else budget,
            count_tokens=count,
        )
        if ex.expected and " ".join(ex.expected.split()) not in " ".join(prompt.text.split()):
            # The budget cut the fact out of the prompt: training on it would teach the model to
            # state facts it cannot see.
            ungrounded += 1
            continue
        if has_references(ex.answer):
            try:
                PromptSources.of(prompt).expand(ex.answer)
            except ReferenceError:
                ungrounded += 1  # a referenced field the budget cut out of the prompt
                continue
        prompt_ids = tokenizer.encode(prompt.text, add_special_tokens=False)
        answer_ids = tokenizer.encode(prompt_target(ex.answer), add_special_tokens=False)
        if len(prompt_ids) + len(answer_ids) > max_len:
            skipped += 1
            continue
        out.append(EncodedExample(prompt_ids + answer_ids, len(prompt_ids)))
    if skipped or ungrounded:
        logger.info(
            "%s: skipped %d of %d examples (%d longer than %d tokens, %d whose fact the prompt "
            "budget cut off)",
            desc,
            skipped + ungrounded,
            len(examples),
            skipped,
            max_len,
            ungrounded,
        )
    return out


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """A function counting the tokens of a text with ``tokenizer``."""

    @functools.lru_cache(maxsize=200_000)
    def count(text: str) -> int:
        # Cached: the same passages and headers recur in many examples.
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count


def collate(
    batch: Sequence[EncodedExample], pad_id: int, prompt_weight: float = 0.0
) -> dict[str, torch.Tensor]:
    """Right-pad a batch. Labels are -100 on padding and — with ``prompt_weight`` 0, the
    default — on prompt tokens (answer-only loss); otherwise ``weights`` (1 for answer tokens,
    ``prompt_weight`` for prompt tokens, 0 for padding) go with the batch."""
    width = max(len(ex.ids) for ex in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    weights = torch.zeros((len(batch), width), dtype=torch.float32)
    for row, ex in enumerate(batch):
        n = len(ex.ids)
        ids = torch.tensor(ex.ids)
        input_ids[row, :n] = ids
        attention[row, :n] = 1
        start = 0 if prompt_weight > 0 else ex.prompt_len
        labels[row, start:n] = ids[start:]
        weights[row, : ex.prompt_len] = prompt_weight
        weights[row, ex.prompt_len : n] = 1.0
    out = {"input_ids": input_ids, "labels": labels, "attention_mask": attention}
    if prompt_weight > 0:
        out["weights"] = weights
    return out


def length_batches(
    examples: Sequence[EncodedExample], batch_size: int, rng: random.Random
) -> Iterator[list[EncodedExample]]:
    """Endless batches of similar length (less padding): shuffle, sort in windows, cut, shuffle."""
    while True:
        order = list(range(len(examples)))
        rng.shuffle(order)
        window = batch_size * 32
        batches: list[list[EncodedExample]] = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start : start + window], key=lambda i: len(examples[i].ids))
            batches += [
                [examples[i] for i in chunk[b : b + batch_size]]
                for b in range(0, len(chunk), batch_size)
            ]
        rng.shuffle(batches)
        yield from batches
