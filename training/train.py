"""``shopbot train``: build every model and index of a preset, reusing whatever is up to date.

Layout (one folder per preset, so tests' ``tiny`` models never replace the demo's):

- ``models/<preset>/sentiment/``          BERT sentiment classifier (``shopbot train-sentiment``)
- ``models/<preset>/knowledge/index/``    FAISS + BM25 index over catalog and FAQ (``shopbot index``)
- ``models/<preset>/knowledge/faq_matcher/``  MiniLM fine-tuned on the FAQ's phrasings
  (``shopbot train-faq-matcher``)
- ``models/<preset>/knowledge/generator/``  GPT answer generator (``shopbot train-generator``)
- ``models/rasa/shopbot-<preset>.tar.gz``  the Rasa model (BERT intents, entities, sentiment, rules)
- ``models/<preset>/knowledge/faq_intents.json``  the intent that model gives each FAQ entry's
  phrasings (``shopbot faq-intents``; the action server tells misread FAQ questions by it)

Each step hashes its inputs and skips itself when nothing changed; ``--force`` rebuilds.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from core.artifacts import Stamp, hash_inputs
from core.settings import Settings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("tiny", "demo", "full")
STEPS = ("sentiment", "index", "faq-matcher", "generator", "rasa", "faq-intents")


def preset_dir(preset: str, root: Path = ROOT) -> Path:
    """The folder holding a preset's models (except the Rasa model)."""
    return root / "models" / preset


def _run_main(main: Callable[[list[str]], object], argv: list[str], what: str) -> None:
    result = main(argv)
    if isinstance(result, int) and result != 0:
        raise RuntimeError(f"{what} failed with exit code {result}; see the log above.")


def train_sentiment(preset: str, root: Path, force: bool) -> None:
    """Prepare the review data and fine-tune the sentiment classifier."""
    from training import prepare_sentiment, train_sentiment

    out = preset_dir(preset, root) / "sentiment"
    shopper = root / "var" / "nlu" / "train.csv"  # written by `shopbot prepare`
    inputs = [
        root / "data" / "demo" / "sentiment",
        shopper,
        root / "training" / "prepare_sentiment.py",
        root / "training" / "train_sentiment.py",
    ]
    inputs_hash = hash_inputs(inputs, extra={"preset": preset})
    stamp = Stamp(out / ".stamp")
    if not force and stamp.matches(inputs_hash, out / "metrics.json"):
        logger.info("Sentiment model %s is up to date", out.relative_to(root))
        return
    data = root / "var" / "sentiment"
    prepare_argv = ["--out", str(data), "--shopper", str(shopper)]
    _run_main(prepare_sentiment.main, prepare_argv, "prepare-sentiment")
    argv = [
        "--train", str(data / "train.csv"),
        "--eval", str(data / "eval_alexa.csv"),
        "--extra-eval", f"{data / 'eval_uci.csv'},{data / 'eval_shopper.csv'}",
        "--out", str(out),
        "--preset", preset,
    ]  # fmt: skip
    _run_main(train_sentiment.main, argv, "train-sentiment")
    stamp.write(inputs_hash)


def build_index(preset: str, root: Path, force: bool) -> None:
    """Build (or incrementally update) the retrieval index over the catalog and FAQ."""
    from training import build_index as build_index_module

    out = preset_dir(preset, root) / "knowledge" / "index"
    argv = [
        "--catalog", str(root / "var" / "store" / "catalog.jsonl"),
        "--faq", str(root / "var" / "store" / "faq.jsonl"),
        "--out", str(out),
    ]  # fmt: skip
    if force or _variant_changed(out):
        argv.append("--rebuild")
    _run_main(build_index_module.main, argv, "index")


def _variant_changed(index_dir: Path) -> bool:
    """Whether the index in ``index_dir`` was embedded otherwise than the configuration says.

    Compares the embedder variant and max_seq_length in the manifest with ``SHOPBOT_EMBEDDER_*``:
    ``make demo`` after a change of either (or of their defaults) then rebuilds the index instead
    of failing on the mismatch, which ``shopbot index`` alone reports.
    """
    from knowledge.index import LEGACY_EMBEDDER_VARIANT, MANIFEST_FILE

    manifest_path = index_dir / MANIFEST_FILE
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    settings = Settings()
    stored = (
        manifest.get("embedder_variant", LEGACY_EMBEDDER_VARIANT),
        manifest.get("embedder_max_seq_length"),
    )
    wanted = (settings.embedder_variant, settings.embedder_max_seq_length or None)
    # A configured length of 0 means the model's own, which only the model knows: not compared.
    changed = stored[0] != wanted[0] or (wanted[1] is not None and stored[1] != wanted[1])
    if changed:
        logger.info(
            "Index %s was embedded with variant %s, max_seq_length %s; the configuration says "
            "%s, %s: rebuilding",
            index_dir,
            *stored,
            *wanted,
        )
    return changed


def train_faq_matcher(preset: str, root: Path, force: bool) -> None:
    """Fine-tune the FAQ matcher on the FAQ's questions and phrasings, and export it in the
    configured embedder variant (so the action server does not export it at start)."""
    from knowledge.embedder import make_embedder
    from training import train_faq_matcher as train_faq_matcher_module

    out = preset_dir(preset, root) / "knowledge" / "faq_matcher"
    faq = root / "var" / "store" / "faq.jsonl"
    # The tiny preset exists for the test suite: one pass gives a working matcher.
    overrides = ["--epochs", "1"] if preset == "tiny" else []
    inputs = [faq, root / "training" / "train_faq_matcher.py"]
    inputs_hash = hash_inputs(inputs, extra={"preset": preset, "overrides": overrides})
    stamp = Stamp(out / ".stamp")
    if not force and stamp.matches(inputs_hash, out / train_faq_matcher_module.METRICS_FILE):
        logger.info("FAQ matcher %s is up to date", out.relative_to(root))
    else:
        argv = ["--faq", str(faq), "--out", str(out), *overrides]
        _run_main(train_faq_matcher_module.main, argv, "train-faq-matcher")
        stamp.write(inputs_hash)
    warm = getattr(make_embedder(model_path=out), "warm_up", None)
    if callable(warm):
        warm()


def train_generator(preset: str, root: Path, force: bool) -> None:
    """Prepare grounded Q/A data, train the tokenizer and the GPT generator."""
    from training import train_generator as train_generator_module

    out = preset_dir(preset, root) / "knowledge" / "generator"
    inputs = [
        root / "var" / "store" / "catalog.jsonl",
        root / "var" / "store" / "faq.jsonl",
        root / "training" / "prepare_generator.py",
        root / "training" / "generator_data",
        root / "training" / "train_generator.py",
        root / "training" / "generator_training",
        root / "training" / "counterfactual.py",
        # The prompt layout the generator learns (serving builds the same one).
        root / "knowledge" / "prompt.py",
    ]
    overrides = ["--finetune-steps", "60"] if preset == "tiny" else []
    inputs_hash = hash_inputs(inputs, extra={"preset": preset, "overrides": overrides})
    stamp = Stamp(out / ".stamp")
    if not force and stamp.matches(inputs_hash, out / "config.json"):
        logger.info("Generator %s is up to date", out.relative_to(root))
        return
    argv = [
        "--preset", preset,
        "--data-dir", str(root / "var" / "generator" / preset),
        "--out-dir", str(out),
        "--catalog", str(root / "var" / "store" / "catalog.jsonl"),
        "--faq", str(root / "var" / "store" / "faq.jsonl"),
    ]  # fmt: skip
    # The tiny preset exists for the test suite: on the whole demo catalog it only needs to produce
    # a loadable generator (answers fall back to verified passages), so it is kept short.
    argv += overrides
    _run_main(train_generator_module.main, argv, "train-generator")
    stamp.write(inputs_hash)


def train_rasa_model(preset: str, root: Path, force: bool) -> None:
    """Train the Rasa model (its BERT intent classifier trains inside ``rasa train``)."""
    from training.train_rasa import train_rasa

    train_rasa(preset, root=root, force=force)


def record_faq_intents(preset: str, root: Path, force: bool) -> None:
    """Parse each FAQ entry's question and phrasings with the Rasa model; keep the intents.

    Runs ``shopbot faq-intents`` in a process of its own, as ``rasa train`` runs: the Rasa model
    (TensorFlow included) is loaded there and gone when it ends, and training imports no Rasa.
    """
    from knowledge.faq_rank import FAQ_INTENTS_FILE

    model = root / "models" / "rasa" / f"shopbot-{preset}.tar.gz"
    faq = root / "var" / "store" / "faq.jsonl"
    out = preset_dir(preset, root) / "knowledge" / FAQ_INTENTS_FILE
    inputs = [faq, model, root / "training" / "faq_intents.py"]
    inputs_hash = hash_inputs(inputs, extra={"preset": preset})
    stamp = Stamp(out.with_name(out.name + ".stamp"))
    if not force and stamp.matches(inputs_hash, out):
        logger.info("FAQ intents %s are up to date", out.relative_to(root))
        return
    argv = ["--model", str(model), "--faq", str(faq), "--out", str(out)]
    subprocess.run([sys.executable, "-m", "bot.cli", "faq-intents", *argv], cwd=root, check=True)
    stamp.write(inputs_hash)


STEP_FUNCTIONS: dict[str, Callable[[str, Path, bool], None]] = {
    "sentiment": train_sentiment,
    "index": build_index,
    "faq-matcher": train_faq_matcher,
    "generator": train_generator,
    "rasa": train_rasa_model,
    "faq-intents": record_faq_intents,
}


def main(argv: list[str] | None = None) -> int:
    """Train every model of a preset (or only some steps)."""
    parser = argparse.ArgumentParser(
        prog="shopbot train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        default=Settings().preset,
        help="tiny (tests, seconds), demo (default, minutes on a CPU), full (a GPU)",
    )
    parser.add_argument("--only", nargs="+", choices=STEPS, help="run only these steps")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    for step in args.only or STEPS:
        started = time.monotonic()
        logger.info("== %s (preset %s)", step, args.preset)
        STEP_FUNCTIONS[step](args.preset, ROOT, args.force)
        logger.info("== %s done in %.0f s", step, time.monotonic() - started)
    return 0
