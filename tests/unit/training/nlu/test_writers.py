"""Tests for training/nlu/writers.py: Rasa NLU files per topic, capped by preset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.unit.training.nlu.nlu_helpers import many, rasa_read
from training.nlu.writers import write_rasa_nlu


@pytest.mark.parametrize(("preset", "cap"), [("tiny", 25), ("demo", 150), ("full", 200)])
def test_presets_cap_rasa_examples(tmp_path: Path, preset: str, cap: int) -> None:
    examples = many("greet", 200) + many("track_order", 10)
    files = write_rasa_nlu(examples, tmp_path, preset)
    assert [f.name for f in files] == ["chitchat.yml", "orders.yml"]
    read = [row for f in files for row in rasa_read(f.read_text())]
    counts = Counter(intent for _, intent, _ in read)
    assert counts == {"greet": cap, "track_order": 10}


def test_write_rasa_nlu_rejects_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset must be one of"):
        write_rasa_nlu(many("greet", 3), tmp_path, "huge")
