"""Tests for training/generator_data/phrasings.py: the phrasing tables read from qa_phrasings.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from training.generator_data.phrasings import PHRASINGS_FILE, load_phrasings
from training.generator_data.presets import PRODUCT_KINDS


def test_the_shipped_tables_load_once_and_keep_train_and_held_out_apart() -> None:
    phrasings = load_phrasings()
    assert load_phrasings() is phrasings  # read once per process
    assert tuple(phrasings.templates) == PRODUCT_KINDS
    for kind, templates in phrasings.templates.items():
        assert not set(templates.train) & set(templates.held_out), kind
        assert all("{name}" in t for t in templates.train + templates.held_out), kind
    assert not set(phrasings.question_injections) & set(phrasings.eval_question_injections)
    assert not set(phrasings.passage_injections) & set(phrasings.eval_passage_injections)
    assert set(phrasings.follow_ups) <= set(PRODUCT_KINDS)
    assert all(len(pair) == 2 for pair in phrasings.faq_rewrites + phrasings.held_out_faq_rewrites)
    assert "" in phrasings.faq_prefixes and phrasings.faq_prefixes.count("") == 2  # weighted draw
    assert phrasings.bitext_placeholders["Company Name"] == "our store"


def test_a_malformed_table_is_named_in_the_error(tmp_path: Path) -> None:
    data = yaml.safe_load(PHRASINGS_FILE.read_text(encoding="utf-8"))
    data["faq_rewrites"] = [["How can I"]]
    broken = tmp_path / "phrasings.yml"
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"faq_rewrites in .*phrasings\.yml.*\[from, to\]"):
        load_phrasings(broken)
    data = yaml.safe_load(PHRASINGS_FILE.read_text(encoding="utf-8"))
    data["templates"]["price"].pop("held_out")
    broken.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"templates\.price\.held_out .*Currently, it is None"):
        load_phrasings(broken)
