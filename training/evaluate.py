"""``shopbot eval``: evaluate the trained Rasa model.

- Dialogue: the test stories in ``tests/stories`` with ``--fail-on-prediction-errors`` (any wrong
  action fails the command).
- NLU: the held-out split written by ``shopbot prepare`` (``var/nlu/test.yml``); paraphrase groups
  never straddle train and test, so this measures generalisation, not memory.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from core.settings import Settings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]


def rasa_test_stories(model: Path, out: Path, root: Path = ROOT) -> None:
    """Run the test stories against ``model``; raises CalledProcessError on any prediction error.

    ``--e2e``: the stories carry the shopper's own text (``user:`` lines), and only in end-to-end
    mode does Rasa run the NLU on it, so a misread message fails the story.
    """
    command = [
        sys.executable, "-m", "rasa", "test", "core",
        "--model", str(model),
        "--stories", str(root / "tests" / "stories"),
        "--out", str(out / "core"),
        "--e2e",
        "--fail-on-prediction-errors",
    ]  # fmt: skip
    _run_rasa(command, root, "Running the test stories")


def rasa_test_nlu(model: Path, nlu_file: Path, out: Path, root: Path = ROOT) -> None:
    """Evaluate NLU of ``model`` on ``nlu_file`` (reports land in ``out/nlu``)."""
    if not nlu_file.exists():
        raise FileNotFoundError(f"No held-out NLU data at {nlu_file}. Run `shopbot prepare` first.")
    command = [
        sys.executable, "-m", "rasa", "test", "nlu",
        "--model", str(model),
        "--nlu", str(nlu_file),
        "--out", str(out / "nlu"),
    ]  # fmt: skip
    _run_rasa(command, root, "Evaluating NLU on the held-out split")


def _run_rasa(command: list[str], root: Path, what: str) -> None:
    """Log ``what`` with the command, then run it in ``root`` (quiet TensorFlow, no telemetry)."""
    logger.info("%s: %s", what, " ".join(command))
    subprocess.run(
        command,
        cwd=root,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "RASA_TELEMETRY_ENABLED": "false"},
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Evaluate the model of a preset."""
    parser = argparse.ArgumentParser(prog="shopbot eval", description=__doc__)
    parser.add_argument(
        "--preset",
        choices=("tiny", "demo", "full"),
        default=Settings().preset,
    )
    parser.add_argument("--stories-only", action="store_true", help="run only the test stories")
    parser.add_argument("--out", type=Path, default=ROOT / "results", help="folder for the reports")
    args = parser.parse_args(argv)
    model = ROOT / "models" / "rasa" / f"shopbot-{args.preset}.tar.gz"
    if not model.exists():
        logger.error("No model at %s. Run `shopbot train --preset %s` first.", model, args.preset)
        return 1
    try:
        rasa_test_stories(model, args.out)
        if not args.stories_only:
            rasa_test_nlu(model, ROOT / "var" / "nlu" / "test.yml", args.out)
    except subprocess.CalledProcessError as exc:
        logger.error(
            "Evaluation failed (exit code %d); reports are in %s", exc.returncode, args.out
        )
        return 1
    logger.info("Evaluation reports written to %s", args.out)
    return 0
