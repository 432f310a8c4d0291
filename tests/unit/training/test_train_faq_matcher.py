"""Tests for training/train_faq_matcher.py: the FAQ matcher's pairs, arguments and a real run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedder import make_embedder
from knowledge.faq import FaqEntry, write_faq_jsonl
from training.train_faq_matcher import METRICS_FILE, FaqMatcherArgs, main, training_pairs

ASKED = {
    "faq-returns": ["How do I return an item?", "send it back?", "can i return my jacket"],
    "faq-shipping": ["How long does shipping take?", "when will it arrive"],
    "faq-hours": ["When are you open?"],
}


def test_one_pair_per_way_of_asking_an_entry_asked_two_ways_or_more() -> None:
    pairs = training_pairs(ASKED, random.Random(0))
    assert sorted((entry, text) for entry, text, _ in pairs) == sorted(
        (entry, text) for entry, texts in ASKED.items() if len(texts) > 1 for text in texts
    )
    for entry, text, other in pairs:
        assert other != text and other in ASKED[entry]
    # The same seed pairs and orders them the same way.
    assert training_pairs(ASKED, random.Random(0)) == pairs


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("epochs", 0, "epochs"), ("batch_size", 1, "batch_size"), ("learning_rate", 0.0, "rate")],
)
def test_arguments_are_checked(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FaqMatcherArgs(**{field: value})  # type: ignore[arg-type]


def test_an_faq_without_phrasings_is_refused_with_the_fix(tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    write_faq_jsonl([FaqEntry("faq-1", "How do I return an item?", "Within 30 days.")], faq)
    assert main(["--faq", str(faq), "--out", str(tmp_path / "m"), "--device", "cpu"]) == 1
    assert not (tmp_path / "m").exists()


def test_a_short_run_saves_a_model_that_brings_an_entrys_phrasings_closer(tmp_path: Path) -> None:
    """The real packaged MiniLM, fine-tuned for a few steps: the saved model loads as an
    embedder, and the phrasings it trained on are closer to their entry's question than the
    packaged model put them."""
    entries = [
        FaqEntry(entry_id, texts[0], "An answer.", tuple(texts[1:]))
        for entry_id, texts in ASKED.items()
    ]
    faq = tmp_path / "faq.jsonl"
    write_faq_jsonl(entries, faq)
    out = tmp_path / "matcher"
    argv = ["--faq", str(faq), "--out", str(out), "--device", "cpu", "--epochs", "8"]
    argv += ["--batch-size", "4", "--learning-rate", "1e-4"]
    assert main(argv) == 0
    metrics = json.loads((out / METRICS_FILE).read_text())
    assert metrics["configuration"]["entries"] == 3 and len(metrics["loss_per_epoch"]) == 8

    def gap(embedder: object) -> float:
        """Mean cosine of each phrasing with its own entry's question minus with the other's."""
        q = embedder.embed([ASKED["faq-returns"][0], ASKED["faq-shipping"][0]])  # type: ignore[attr-defined]
        p = embedder.embed(["send it back?", "when will it arrive"])  # type: ignore[attr-defined]
        sims = p @ q.T
        return float(np.mean(np.diag(sims)) - np.mean(sims[~np.eye(2, dtype=bool)]))

    before = gap(make_embedder("torch", device="cpu"))
    after = gap(make_embedder("torch", model_path=out, device="cpu"))
    assert after > before
