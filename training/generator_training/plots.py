"""The training curves of the generator (copy warm-up, pre-training, fine-tuning, validation) as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.generator_training.loop import Curves


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
