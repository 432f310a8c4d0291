"""Model size and training budget presets of the GPT generator, and the arguments of
``shopbot train-generator`` (``None`` fields take the preset's value).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from knowledge.prompt import PromptBudget
from training.generator_data.presets import PROMPT_BUDGETS


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
