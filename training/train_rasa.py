"""Train the Rasa model (NLU pipeline + dialogue policies) for a preset.

``config.yml`` holds the pipeline; a preset only scales training budgets (epochs and the like), so
the rendered config for ``tiny``/``demo``/``full`` differs from ``config.yml`` only in those keys.
The model is rebuilt only when the config, domain, training data or preset changed.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from core.artifacts import Stamp, hash_inputs
from core.settings import Settings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("tiny", "demo", "full")

# Per preset, per component name: keys overriding config.yml. Components not listed keep their
# config.yml values (which are the `full` budgets).
PRESET_OVERRIDES: dict[str, dict[str, dict[str, Any]]] = {
    "tiny": {
        # Tests need the canonical phrasings right, not the last point of accuracy: a few more
        # epochs than the encoder's bare tiny preset, still about a minute on 2 CPU cores.
        "BertIntentClassifier": {"preset": "tiny", "epochs": 4},
    },
    "demo": {
        "BertIntentClassifier": {"preset": "demo"},
    },
    "full": {"BertIntentClassifier": {"preset": "full"}},
}


def preset_overrides(preset: str) -> dict[str, dict[str, Any]]:
    """The preset's budget overrides plus the paths of the preset's own pre-trained models."""
    overrides = copy.deepcopy(PRESET_OVERRIDES[preset])
    overrides.setdefault("BertSentimentAnalyzer", {})["model_path"] = f"models/{preset}/sentiment"
    return overrides


def _override(component: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that apply to ``component``: a sentiment analyzer reporting the intent
    encoder's shared head (``model_path: shared``) keeps it; it has no model of its own."""
    if component.get("model_path") == "shared":
        return {k: v for k, v in overrides.items() if k != "model_path"}
    return overrides


def render_config(base: Path, preset: str, out: Path) -> Path:
    """Write ``base`` with the preset's overrides applied to ``out`` and return ``out``."""
    if preset not in PRESETS:
        raise ValueError(
            f"preset must be one of {', '.join(PRESETS)}. Currently, preset is {preset!r}."
        )
    config = yaml.safe_load(base.read_text(encoding="utf-8"))
    rendered = copy.deepcopy(config)
    overrides = preset_overrides(preset)
    for section in ("pipeline", "policies"):
        for component in rendered.get(section) or []:
            # Custom components are named by import path; overrides use the class name.
            short_name = str(component.get("name", "")).rsplit(".", 1)[-1]
            component.update(_override(component, overrides.get(short_name, {})))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"# Rendered from {base.name} for preset {preset!r}; edit {base.name}, not this file.\n"
        + yaml.safe_dump(rendered, sort_keys=False),
        encoding="utf-8",
    )
    return out


def rasa_inputs(root: Path = ROOT) -> list[Path]:
    """Everything the Rasa model is trained from."""
    return [
        root / "config.yml",
        root / "bot" / "domain",
        root / "bot" / "data",
        root / "bot" / "nlu",
    ]


def corrections_file() -> Path | None:
    """The NLU examples exported from agents' corrections (``shopbot corrections export``), when
    there are any: every Rasa model of every preset trains on them."""
    path = Settings().corrections_path / "nlu_corrections.yml"
    return path if path.exists() else None


def train_rasa(
    preset: str,
    root: Path = ROOT,
    force: bool = False,
    out: Path | None = None,
    corrections: Path | None = None,
    config: Path | None = None,
) -> Path:
    """Train (or reuse) the Rasa model and return its path.

    Args:
        preset: ``tiny``, ``demo`` or ``full``.
        root: The project root.
        force: Retrain even when the stamp says nothing changed.
        out: Where the model goes (default: the served ``models/rasa/shopbot-<preset>.tar.gz``;
            ``shopbot retrain`` writes a candidate elsewhere first).
        corrections: Extra NLU data from agents' corrections (default: :func:`corrections_file`).
        config: The pipeline to render (default: ``config.yml``; the benchmark trains variants).
    """
    model = out or root / "models" / "rasa" / f"shopbot-{preset}.tar.gz"
    base_config = config or root / "config.yml"
    corrections = corrections or corrections_file()
    data = [root / "bot" / "data", *([corrections] if corrections else [])]
    stamp = Stamp(model.with_suffix("").with_suffix(".stamp"))
    inputs_hash = hash_inputs(
        [
            *rasa_inputs(root),
            *data[1:],
            root / "models" / preset / "sentiment" / ".stamp",
            root / "var" / "sentiment" / "train.csv",  # the shared sentiment head's data
            base_config,
            # The presets' training budgets and the fine-tuning itself (a change retrains).
            root / "core" / "encoder_config.py",
            root / "core" / "encoder_fit.py",
        ],
        extra={"preset": preset, "overrides": preset_overrides(preset)},
    )
    if not force and stamp.matches(inputs_hash, model):
        logger.info("Rasa model %s is up to date; not retraining", model)
        return model
    rendered = render_config(
        base_config, preset, root / "var" / "rasa" / f"{base_config.stem}.{preset}.yml"
    )
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(rendered),
        "--domain", str(root / "bot" / "domain"),
        "--data", *[str(path) for path in data],
        "--out", str(model.parent),
        "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    logger.info("Training the Rasa model (preset %s): %s", preset, " ".join(command))
    started = time.monotonic()
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
    }
    subprocess.run(command, cwd=root, env=env, check=True)
    logger.info("Rasa model trained in %.0f s: %s", time.monotonic() - started, model)
    stamp.write(inputs_hash)
    return model


def main(argv: list[str] | None = None) -> int:
    """``shopbot train-rasa``: train the Rasa model for a preset."""
    parser = argparse.ArgumentParser(prog="shopbot train-rasa", description=__doc__)
    parser.add_argument("--preset", choices=PRESETS, default=Settings().preset)
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    args = parser.parse_args(argv)
    train_rasa(args.preset, force=args.force)
    return 0
