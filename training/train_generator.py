"""``shopbot train-generator``: train the GPT answer generator (tokenizer included) from scratch.

Stages (GPT-2 architecture from ``transformers``, AdamW + warm-up + cosine decay in each stage):

1. pre-training on the store's own text (``var/generator/pretrain.jsonl``: catalog, FAQ, support
   responses), packed into fixed-length blocks;
2. fine-tuning on grounded question → answer examples (``finetune_train.jsonl``), each rendered with
   the serving prompt format (``knowledge.prompt.build_prompt``); the loss covers answer tokens only.

The data is prepared first (``training.prepare_generator``) when ``--data-dir`` has none for the
preset. The output directory is a Hugging Face causal-LM directory (``config.json``, weights,
tokenizer) plus ``generator_config.json`` (the prompt budget serving must use), ``train_args.json``,
``metrics.json`` (losses, held-in exact match, timings, the data hash) and ``training_curves.png``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from core.device import resolve_device_name, set_torch_threads
from knowledge.prompt import BOS, PROMPT_FORMAT, PromptBudget, build_prompt, clean_completion
from knowledge.prompt import format_target as prompt_target
from training.cli_args import parse_args
from training.counterfactual import counterfactual_copies
from training.prepare_generator import (
    PROMPT_BUDGETS,
    PrepareGeneratorArgs,
    QAExample,
    read_examples,
    read_passages,
    read_pretrain,
)
from training.prepare_generator import run as prepare_data

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
GENERATOR_CONFIG = "generator_config.json"


@dataclass(frozen=True)
class GeneratorPreset:
    """Model size and training budget of a preset."""

    vocab_size: int
    n_layer: int
    n_head: int
    n_embd: int
    n_positions: int
    copy_warmup_steps: int
    pretrain_steps: int
    finetune_steps: int
    batch_size: int
    block_size: int
    learning_rate: float
    max_new_tokens: int
    counterfactual_fraction: float


PRESETS: dict[str, GeneratorPreset] = {
    # Seconds on a laptop CPU: for tests and smoke runs.
    "tiny": GeneratorPreset(
        vocab_size=768,
        n_layer=2,
        n_head=4,
        n_embd=96,
        n_positions=224,
        copy_warmup_steps=0,
        pretrain_steps=20,
        finetune_steps=400,
        batch_size=16,
        block_size=128,
        learning_rate=3e-3,
        max_new_tokens=48,
        counterfactual_fraction=0.0,
    ),
    # A few minutes on 2 CPU cores (~1.1M parameters, 352-token context).
    "demo": GeneratorPreset(
        vocab_size=2048,
        n_layer=4,
        n_head=4,
        n_embd=128,
        n_positions=352,
        copy_warmup_steps=500,
        pretrain_steps=600,
        finetune_steps=2000,
        batch_size=12,
        block_size=128,
        learning_rate=3e-3,
        max_new_tokens=64,
        counterfactual_fraction=1.0,
    ),
    # A GPU: a bigger model, longer context, more steps.
    "full": GeneratorPreset(
        vocab_size=16384,
        n_layer=8,
        n_head=8,
        n_embd=512,
        n_positions=1024,
        copy_warmup_steps=500,
        pretrain_steps=3000,
        finetune_steps=6000,
        batch_size=32,
        block_size=512,
        learning_rate=6e-4,
        max_new_tokens=96,
        counterfactual_fraction=0.5,
    ),
}


@dataclass
class TrainGeneratorArgs:
    """Arguments of ``shopbot train-generator`` (``None`` means: the preset's value)."""

    preset: str = field(
        default="demo",
        metadata={"help": "Model size and budget preset.", "choices": list(PRESETS)},
    )
    data_dir: str = field(
        default="var/generator",
        metadata={"help": "Prepared data (built here with prepare_generator when missing)."},
    )
    out_dir: str = field(
        default="models/knowledge/generator",
        metadata={"help": "Output model directory (Hugging Face format)."},
    )
    catalog: str = field(
        default="var/store/catalog.jsonl",
        metadata={"help": "Catalog used when the data must be prepared first."},
    )
    faq: str = field(
        default="var/store/faq.jsonl",
        metadata={"help": "FAQ used when the data must be prepared first."},
    )
    vocab_size: int | None = field(default=None, metadata={"help": "Tokenizer vocabulary size."})
    n_layer: int | None = field(default=None, metadata={"help": "Transformer layers."})
    n_head: int | None = field(default=None, metadata={"help": "Attention heads per layer."})
    n_embd: int | None = field(default=None, metadata={"help": "Hidden size."})
    n_positions: int | None = field(default=None, metadata={"help": "Context length (tokens)."})
    copy_warmup_steps: int | None = field(
        default=None,
        metadata={
            "help": "Stage 0 optimiser steps on repeated random token sequences, which teach "
            "copying from context before any store text (0 skips it)."
        },
    )
    pretrain_steps: int | None = field(
        default=None, metadata={"help": "Stage 1 optimiser steps (0 skips pre-training)."}
    )
    finetune_steps: int | None = field(default=None, metadata={"help": "Stage 2 optimiser steps."})
    batch_size: int | None = field(default=None, metadata={"help": "Sequences per step."})
    block_size: int | None = field(
        default=None, metadata={"help": "Stage 1 sequence length (packed text)."}
    )
    learning_rate: float | None = field(default=None, metadata={"help": "Peak AdamW rate."})
    max_new_tokens: int | None = field(
        default=None, metadata={"help": "Answer length limit stored for serving."}
    )
    counterfactual_fraction: float | None = field(
        default=None,
        metadata={
            "help": "Share of product-fact examples that also get a counterfactual copy (product "
            "renamed, new prices and stock counts), so answers must be copied, not memorised."
        },
    )
    copy_fraction: float = field(
        default=0.5,
        metadata={
            "help": "Share of pre-training blocks whose second half repeats the first (teaches "
            "copying from context; 0 disables)."
        },
    )
    prompt_loss_weight: float = field(
        default=0.0,
        metadata={
            "help": "Fine-tuning loss weight of prompt tokens relative to answer tokens "
            "(0: answer tokens only)."
        },
    )
    position_init: str = field(
        default="sinusoidal",
        metadata={
            "help": "Initial position embeddings: sinusoidal (learns copying faster) or learned "
            "(GPT-2's random init).",
            "choices": ["sinusoidal", "learned"],
        },
    )
    warmup_ratio: float = field(default=0.05, metadata={"help": "Warm-up share of each stage."})
    weight_decay: float = field(default=0.05, metadata={"help": "AdamW weight decay."})
    eval_every: int = field(default=100, metadata={"help": "Steps between validation losses."})
    exact_match_samples: int = field(
        default=60, metadata={"help": "Validation examples decoded for the exact-match metric."}
    )
    seed: int = field(default=13, metadata={"help": "Random seed."})
    device: str | None = field(
        default=None, metadata={"help": "cuda or cpu; default: cuda when available."}
    )
    threads: int | None = field(
        default=None,
        metadata={
            "help": "CPU threads for torch (default: every core, or 1 when the machine is "
            "already busy)."
        },
    )

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(
                f"preset must be one of {sorted(PRESETS)}. Currently, preset is {self.preset!r}."
            )
        preset = PRESETS[self.preset]
        for f in fields(preset):
            if getattr(self, f.name) is None:
                setattr(self, f.name, getattr(preset, f.name))
        for name in ("n_layer", "n_head", "n_embd", "n_positions", "batch_size", "block_size"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(
                    f"{name} must be greater than 0. Currently, {name} is {getattr(self, name)}."
                )
        if not 0.0 <= float(self.counterfactual_fraction or 0.0) <= 1.0:
            raise ValueError(
                "--counterfactual-fraction must be between 0 and 1. Currently, "
                f"counterfactual_fraction is {self.counterfactual_fraction}."
            )
        if not 0.0 <= self.copy_fraction <= 1.0:
            raise ValueError(
                f"--copy-fraction must be between 0 and 1. Currently, copy_fraction is "
                f"{self.copy_fraction}."
            )
        if not 0.0 <= self.prompt_loss_weight <= 1.0:
            raise ValueError(
                "--prompt-loss-weight must be between 0 and 1. Currently, prompt_loss_weight is "
                f"{self.prompt_loss_weight}."
            )
        if int(self.n_embd or 0) % int(self.n_head or 1):
            raise ValueError(
                f"--n-embd ({self.n_embd}) must be divisible by --n-head ({self.n_head}); "
                "change one of them."
            )
        if int(self.block_size or 0) > int(self.n_positions or 0):
            raise ValueError(
                f"--block-size ({self.block_size}) must not exceed --n-positions "
                f"({self.n_positions})."
            )
        budget = PROMPT_BUDGETS[self.preset]
        if budget.max_prompt_tokens + int(self.max_new_tokens or 0) > int(self.n_positions or 0):
            raise ValueError(
                f"The {self.preset} prompt budget ({budget.max_prompt_tokens} tokens) plus "
                f"--max-new-tokens ({self.max_new_tokens}) exceeds --n-positions "
                f"({self.n_positions}); raise --n-positions or lower --max-new-tokens."
            )
        if self.device not in (None, "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise ValueError(
                f"device must be cpu, cuda or cuda:N. Currently, device is {self.device!r}."
            )

    @property
    def budget(self) -> PromptBudget:
        """The prompt budget of this preset (stored with the checkpoint)."""
        return PROMPT_BUDGETS[self.preset]


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


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


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

    Examples whose prompt + answer do not fit ``max_len``, or whose fact (``expected``) the
    budget cut out of the prompt, are skipped (and counted in the log).
    """
    count = token_counter(tokenizer)
    out: list[EncodedExample] = []
    skipped = ungrounded = 0
    for ex in tqdm(examples, desc=desc, unit="ex", mininterval=2.0):
        prompt = build_prompt(
            ex.question,
            [passages[pid] for pid in ex.passage_ids],
            [(s, t) for s, t in ex.history],
            budget=budget,
            count_tokens=count,
        )
        if ex.expected and " ".join(ex.expected.split()) not in " ".join(prompt.text.split()):
            # The budget cut the fact out of the prompt: training on it would teach the model to
            # state facts it cannot see.
            ungrounded += 1
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


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Causal LM loss of a batch; per-token weighted when the batch carries ``weights``."""
    if "weights" not in batch:
        return model(**batch).loss
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shift_logits = logits[:, :-1].reshape(-1, logits.size(-1))  # (B*(T-1), V)
    targets = batch["labels"][:, 1:].reshape(-1)
    weights = batch["weights"][:, 1:].reshape(-1)
    ce = torch.nn.functional.cross_entropy(
        shift_logits.float(), targets, ignore_index=-100, reduction="none"
    )
    return (ce * weights).sum() / weights.sum().clamp_min(1e-6)


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


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------


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
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        shift_logits = logits[:, :-1].reshape(-1, logits.size(-1))  # (B*(T-1), V)
        shift_labels = batch["labels"][:, 1:].reshape(-1)
        loss = torch.nn.functional.cross_entropy(
            shift_logits.float(), shift_labels, ignore_index=-100, reduction="sum"
        )
        total += float(loss)
        tokens += int((shift_labels != -100).sum())
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


def plot_curves(curves: Curves, path: Path, title: str, prompt_weight: float = 0.0) -> None:
    """Write the training curves (both stages, validation loss) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, points, label in (
        (axes[0], curves.copy_loss, "copy warm-up (repeated random tokens)"),
        (axes[1], curves.pretrain_loss, "pre-training (all tokens)"),
        (
            axes[2],
            curves.finetune_loss,
            "fine-tuning (answer tokens"
            + (f" + {prompt_weight:g} x prompt tokens)" if prompt_weight else ")"),
        ),
    ):
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, alpha=0.35, label="train (per step)")
            window = max(1, len(values) // 30)
            smooth = np.convolve(values, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1 :], smooth, label=f"train (mean of {window})")
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
    if curves.valid_loss:
        steps, values = zip(*curves.valid_loss, strict=True)
        axes[2].plot(steps, values, "o-", label="validation (answer tokens)")
    for ax in axes:
        if ax.lines:
            ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ensure_data(args: TrainGeneratorArgs) -> Path:
    """Return the prepared data folder, preparing it for the preset when missing or stale."""
    data_dir = ROOT / args.data_dir
    manifest_path = data_dir / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("preset") == args.preset:
            return data_dir
        logger.info(
            "Data in %s is for preset %r; preparing it for %r",
            data_dir,
            manifest.get("preset"),
            args.preset,
        )
    prepare_data(
        PrepareGeneratorArgs(
            preset=args.preset,
            catalog=args.catalog,
            faq=args.faq,
            out_dir=str(data_dir),
            seed=args.seed,
        )
    )
    return data_dir


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


def save_checkpoint(
    out_dir: Path,
    model: Any,
    tokenizer: Any,
    args: TrainGeneratorArgs,
    resolved: dict[str, Any],
    curves: Curves,
    metrics: dict[str, Any],
) -> None:
    """Write weights, tokenizer, ``generator_config.json`` (what serving needs), the resolved
    arguments, the metrics and the training curves into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    generator_config = {
        "prompt_format": PROMPT_FORMAT,
        "prompt_budget": asdict(args.budget),
        "max_new_tokens": args.max_new_tokens,
        "preset": args.preset,
    }
    (out_dir / GENERATOR_CONFIG).write_text(json.dumps(generator_config, indent=2), "utf-8")
    (out_dir / "train_args.json").write_text(json.dumps(resolved, indent=2), "utf-8")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), "utf-8")
    title = f"ShopBot generator ({args.preset}, {metrics['parameters'] / 1e6:.2f}M params)"
    plot_curves(curves, out_dir / "training_curves.png", title, args.prompt_loss_weight)


def train(args: TrainGeneratorArgs) -> dict[str, Any]:
    """Train tokenizer and model as ``args`` describe; returns the metrics written."""
    from training.train_tokenizer import train_tokenizer

    started = time.perf_counter()
    # Explicit, so a preceding step in the same process (``shopbot train``) cannot leave torch on
    # fewer threads than this machine has.
    set_torch_threads(args.threads or 0)
    device = resolve_device_name(args.device)
    set_seed(args.seed)
    data_dir = ensure_data(args)
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    resolved = {**asdict(args), "device": device, "prompt_budget": asdict(args.budget)}
    logger.info("train-generator configuration: %s", json.dumps(resolved))

    pretrain = read_pretrain(data_dir / "pretrain.jsonl")
    passages = read_passages(data_dir / "passages.jsonl")
    train_examples = read_examples(data_dir / "finetune_train.jsonl")
    valid_examples = read_examples(data_dir / "finetune_valid.jsonl")

    t0 = time.perf_counter()
    corpus = pretrain + [f"{ex.question}\n{ex.answer}" for ex in train_examples]
    tokenizer = train_tokenizer(corpus, int(args.vocab_size or 0))
    tokenizer_s = time.perf_counter() - t0
    if args.counterfactual_fraction:
        extra, extra_passages = counterfactual_copies(
            train_examples, passages, random.Random(args.seed), float(args.counterfactual_fraction)
        )
        passages = {**passages, **extra_passages}
        train_examples = train_examples + extra
        logger.info("Added %d counterfactual copies of product-fact examples", len(extra))
    pad_id = int(tokenizer.pad_token_id)
    n_positions = int(args.n_positions or 0)
    train_enc = encode_examples(
        train_examples, passages, tokenizer, args.budget, n_positions, "encode train"
    )
    valid_enc = encode_examples(
        valid_examples, passages, tokenizer, args.budget, n_positions, "encode valid"
    )
    if not train_enc:
        raise ValueError(
            f"No fine-tuning example fits --n-positions {n_positions}; raise it or lower the budget."
        )
    pre_docs = [
        tokenizer.encode(text, add_special_tokens=False)
        for text in tqdm(pretrain, desc="encode pretrain", unit="doc", mininterval=2.0)
    ]
    blocks = pack_blocks(pre_docs, int(args.block_size or 0), tokenizer.convert_tokens_to_ids(BOS))

    model = build_model(args, tokenizer, device)
    n_params = sum(p.numel() for p in model.parameters())
    logger.info(
        "GPT-2 generator: %.2fM parameters, vocab %d, %d pre-training blocks, %d/%d fine-tuning "
        "examples, mean example length %.0f tokens",
        n_params / 1e6,
        len(tokenizer),
        len(blocks),
        len(train_enc),
        len(valid_enc),
        float(np.mean([len(e.ids) for e in train_enc])),
    )

    rng = random.Random(args.seed)
    batch_size = int(args.batch_size or 0)

    def pretrain_batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            x = blocks[torch.tensor([rng.randrange(len(blocks)) for _ in range(batch_size)])]
            x = repeat_halves(x, args.copy_fraction, rng)
            yield {"input_ids": x, "labels": x}

    def finetune_batches() -> Iterator[dict[str, torch.Tensor]]:
        for batch in length_batches(train_enc, batch_size, rng):
            yield collate(batch, pad_id, args.prompt_loss_weight)

    curves = Curves()
    t0 = time.perf_counter()
    special = set(tokenizer.all_special_ids)
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    copy_rng = torch.Generator().manual_seed(args.seed)

    def copy_batches() -> Iterator[dict[str, torch.Tensor]]:
        while True:
            yield copy_warmup_batch(max(batch_size, 32), ordinary, copy_rng)

    run_stage(
        "copy warm-up",
        model,
        copy_batches(),
        int(args.copy_warmup_steps or 0),
        args,
        device,
        curves.copy_loss,
    )
    copy_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pretrain_steps = int(args.pretrain_steps or 0)
    run_stage(
        "pre-train", model, pretrain_batches(), pretrain_steps, args, device, curves.pretrain_loss
    )
    pretrain_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    probe = valid_enc[:256]
    run_stage(
        "fine-tune",
        model,
        finetune_batches(),
        int(args.finetune_steps or 0),
        args,
        device,
        curves.finetune_loss,
        evaluate=(lambda: mean_loss(model, probe, pad_id, device, batch_size)) if probe else None,
        valid_curve=curves.valid_loss,
    )
    finetune_s = time.perf_counter() - t0
    sample = valid_enc[: args.exact_match_samples]
    em = (
        exact_match(model, tokenizer, sample, device, int(args.max_new_tokens or 0))
        if sample
        else 0.0
    )

    metrics = {
        "parameters": n_params,
        "vocab_size": len(tokenizer),
        "device": device,
        "threads": torch.get_num_threads(),
        "train_examples": len(train_enc),
        "valid_examples": len(valid_enc),
        "pretrain_blocks": len(blocks),
        "final_copy_loss": _tail_mean(curves.copy_loss),
        "final_pretrain_loss": _tail_mean(curves.pretrain_loss),
        "final_finetune_loss": _tail_mean(curves.finetune_loss),
        "valid_loss": curves.valid_loss[-1][1] if curves.valid_loss else None,
        "valid_exact_match": em,
        "valid_exact_match_samples": len(sample),
        "tokenizer_seconds": round(tokenizer_s, 2),
        "copy_warmup_seconds": round(copy_s, 2),
        "pretrain_seconds": round(pretrain_s, 2),
        "finetune_seconds": round(finetune_s, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
        "data_hash": manifest.get("data_hash"),
        "curves": asdict(curves),
    }
    out_dir = ROOT / args.out_dir
    save_checkpoint(out_dir, model, tokenizer, args, resolved, curves, metrics)
    logger.info(
        "Generator saved to %s: valid loss %s, exact match %.1f%% (%d samples), %.0fs in all",
        out_dir,
        f"{metrics['valid_loss']:.4f}" if metrics["valid_loss"] is not None else "n/a",
        100 * em,
        len(sample),
        metrics["total_seconds"],
    )
    return metrics


def _tail_mean(points: list[tuple[int, float]], n: int = 20) -> float | None:
    if not points:
        return None
    return float(np.mean([v for _, v in points[-n:]]))


def main(argv: Sequence[str] | None = None) -> int:
    """Train the generator; returns an exit code."""
    args = parse_args(TrainGeneratorArgs, argv, "shopbot train-generator", __doc__)
    try:
        train(args)
    except (FileNotFoundError, ValueError) as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    from core.logging_setup import configure_logging

    configure_logging()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raise SystemExit(main())
