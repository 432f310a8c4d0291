"""Tests for training/prepare_nlu.py: the arguments and the whole run (deterministic, honest split).

The steps have their own tests in tests/unit/training/nlu/.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from tests.unit.training.nlu.nlu_helpers import BITEXT, DEMO_CATALOG, EXTRA_INTENTS, rasa_read
from training.nlu.readers import read_handwritten
from training.prepare_nlu import BITEXT_INTENTS, PrepareNluArgs, run_prepare_nlu


def test_args_validation_names_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"preset must be one of.*'huge'"):
        PrepareNluArgs(preset="huge")
    with pytest.raises(ValueError, match="test_fraction must be in"):
        PrepareNluArgs(test_fraction=0)
    with pytest.raises(ValueError, match="bitext_csv="):
        PrepareNluArgs(bitext_csv=tmp_path / "missing.csv")


@pytest.fixture()
def small_bitext(tmp_path: Path) -> Path:
    """The first 20 rows of every Bitext intent (keeps the end-to-end test to seconds)."""
    taken: Counter[str] = Counter()
    path = tmp_path / "bitext.csv"
    with BITEXT.open(encoding="utf-8", newline="") as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(("text", "category"))
        for row in csv.DictReader(src):
            if taken[row["category"]] < 20:
                taken[row["category"]] += 1
                writer.writerow((row["text"], row["category"]))
    return path


def _run(small_bitext: Path, out: Path, preset: str = "tiny") -> dict[str, object]:
    args = PrepareNluArgs(
        bitext_csv=small_bitext,
        catalog=DEMO_CATALOG,
        rasa_out_dir=out / "generated",
        csv_out_dir=out / "var",
        preset=preset,
        product_examples=60,
    )
    return run_prepare_nlu(args)


def test_end_to_end_is_deterministic_and_honest(small_bitext: Path, tmp_path: Path) -> None:
    first = _run(small_bitext, tmp_path / "a")
    snapshot = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert len(snapshot) >= 15
    assert _run(small_bitext, tmp_path / "a") == first  # a re-run is byte-identical
    assert {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()} == snapshot
    second = _run(small_bitext, tmp_path / "b")  # so is a run elsewhere (bar the paths in stats)
    for path, content in snapshot.items():
        if path.name != "stats.json":
            assert (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes() == content
    ignore = ("config", "files")
    assert {k: v for k, v in first.items() if k not in ignore} == {
        k: v for k, v in second.items() if k not in ignore
    }

    def read_csv(name: str) -> list[dict[str, str]]:
        with (tmp_path / "a/var" / name).open(newline="") as handle:
            return list(csv.DictReader(handle))

    train, test, oos = read_csv("train.csv"), read_csv("test.csv"), read_csv("oos_train.csv")
    assert list(train[0]) == ["text", "label", "group"]
    assert not any(r["label"] in ("oos", "out_of_scope") for r in train)
    assert {r["label"] for r in oos} == {"oos"}
    assert any(r["label"] == "oos" for r in test)
    assert not {r["group"] for r in train + oos} & {r["group"] for r in test}
    assert {r["label"] for r in train} == (set(BITEXT_INTENTS) | EXTRA_INTENTS) - {"out_of_scope"}
    # Rasa trains on the train split only, capped by the preset; test.yml is the test split.
    rasa_train = [
        row
        for f in sorted((tmp_path / "a/generated").glob("*.yml"))
        for row in rasa_read(f.read_text())
    ]
    # The tiny cap is 25 per intent; seed phrasings (shopper_phrasings.yml) come on top, uncapped.
    from training.prepare_nlu import SEED_FILES

    seeds = Counter(
        e.intent
        for name in SEED_FILES
        for e in read_handwritten(
            Path(__file__).resolve().parents[3] / "bot" / "data" / "nlu" / name
        )
    )
    counts = Counter(i for _, i, _ in rasa_train)
    assert max(count - seeds[intent] for intent, count in counts.items()) <= 25
    test_texts = {r["text"] for r in test}
    assert not test_texts & {text for text, _, _ in rasa_train}
    rasa_test = rasa_read((tmp_path / "a/var/test.yml").read_text())
    assert {text for text, _, _ in rasa_test} == test_texts
    assert first["train_size"] + first["test_size"] == first["examples"]  # type: ignore[operator]


@pytest.mark.slow
def test_entities_align_with_rasa_tokens(small_bitext: Path, tmp_path: Path) -> None:
    """Every annotation starts and ends on a WhitespaceTokenizer token (imports TensorFlow: slow)."""
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.loading import load_data

    _run(small_bitext, tmp_path, preset="full")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    for path in [*sorted((tmp_path / "generated").glob("*.yml")), tmp_path / "var/test.yml"]:
        for message in load_data(str(path)).training_examples:
            tokens = tokenizer.tokenize(message, "text")
            starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
            for entity in message.get("entities") or []:
                assert entity["start"] in starts and entity["end"] in ends, (
                    message.get("text"),
                    entity,
                )


def test_the_demo_and_full_presets_also_train_on_the_shoppers_phrasings() -> None:
    from training.prepare_nlu import MORE_SEED_FILES, SEED_FILES, seed_files

    assert seed_files("tiny") == SEED_FILES
    for preset in ("demo", "full"):
        assert set(seed_files(preset)) == {*SEED_FILES, *MORE_SEED_FILES}
    sources = Path(__file__).resolve().parents[3] / "bot" / "data" / "nlu"
    more = Counter(e.intent for e in read_handwritten(sources / MORE_SEED_FILES[0]))
    assert len(more) >= 35 and min(more.values()) >= 20  # every intent but inform/fallback/oos
