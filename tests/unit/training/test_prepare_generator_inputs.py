"""Prepared generator data is reused only while everything it was built from is unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

from training.prepare_generator import PrepareGeneratorArgs, inputs_fingerprint

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "generator"


def test_the_fingerprint_follows_the_store_and_the_arguments(tmp_path: Path) -> None:
    catalog, faq = tmp_path / "catalog.jsonl", tmp_path / "faq.jsonl"
    shutil.copy(FIXTURES / "catalog.jsonl", catalog)
    shutil.copy(FIXTURES / "faq.jsonl", faq)
    args = PrepareGeneratorArgs(preset="tiny", catalog=str(catalog), faq=str(faq), bitext="")
    first = inputs_fingerprint(args)
    moved = PrepareGeneratorArgs(
        preset="tiny", catalog=str(catalog), faq=str(faq), bitext="", out_dir="elsewhere"
    )
    assert inputs_fingerprint(moved) == first  # where the data goes does not change it
    assert inputs_fingerprint(PrepareGeneratorArgs(**{**vars(args), "seed": 14})) != first
    # A catalog re-exported without stock counts (as the demo's now is) makes the data stale.
    catalog.write_text(catalog.read_text().replace('"stock": 12', '"stock": null'))
    assert inputs_fingerprint(args) != first
