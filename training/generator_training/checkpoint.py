"""The generator checkpoint: a Hugging Face causal-LM directory plus what serving and a reader need
(``generator_config.json``, ``train_args.json``, ``metrics.json``, ``training_curves.png``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from knowledge.generator import GENERATOR_CONFIG
from knowledge.prompt import PROMPT_FORMAT
from training.generator_training.config import TrainGeneratorArgs
from training.generator_training.loop import Curves
from training.generator_training.plots import plot_curves


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
