"""Building the sentiment CSVs: star mapping, 0/1 mapping, duplicate groups never straddle."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from training.prepare_sentiment import PrepareSentimentArgs, prepare


def make_source(root: Path) -> Path:
    (root / "uci").mkdir(parents=True)
    rows = ["\ufeffrating\tdate\tvariation\tverified_reviews\tfeedback"]
    for i in range(40):
        stars = [1, 2, 3, 4, 5][i % 5]
        rows.append(f'{stars}\t31-Jul-18\tBlack\t"Review number {i // 2}, stars {stars}"\t1')
    rows.append("5\t31-Jul-18\tBlack\t\t1")  # empty review: dropped
    (root / "amazon_alexa.tsv").write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    for name in ("yelp", "imdb"):
        lines = [f"{name} sentence {i}  \t{i % 2}" for i in range(30)]
        lines.append(f"{name} sentence 0  \t0")  # an exact duplicate
        (root / "uci" / f"{name}_labelled.txt").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    return root


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def make_shopper_csv(path: Path) -> Path:
    """An NLU CSV: question intents (one message swears), a complaint, greetings."""
    rows = [["text", "label", "group"]]
    for g in range(6):
        for v in range(3):
            rows.append(
                [f"how much is the toy truck {g} variant {v}?", "product_question", f"pq/{g}"]
            )
    rows.append(["see purchase 774432 goddamn status", "track_order", "track_order/0003"])
    rows.append(["where is order 123456", "track_order", "track_order/0001"])
    rows.append(["I have to file a complaint against your company", "complaint", "complaint/0002"])
    rows.append(["hello there", "greet", "greet/0"])
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_prepare_writes_disjoint_splits(tmp_path: Path) -> None:
    source = make_source(tmp_path / "src")
    out = tmp_path / "out"
    manifest = prepare(
        PrepareSentimentArgs(source=str(source), out=str(out), eval_fraction=0.25, shopper="")
    )
    train, uci, alexa = (read(out / n) for n in ("train.csv", "eval_uci.csv", "eval_alexa.csv"))
    assert {r["label"] for r in uci} == {"negative", "positive"}
    assert {r["label"] for r in alexa} <= {"negative", "neutral", "positive"}
    assert {r["source"] for r in uci} == {"yelp", "imdb"}
    assert {r["group"] for r in train}.isdisjoint({r["group"] for r in uci + alexa})
    stars_3 = [r for r in train + alexa if "stars 3" in r["text"]]
    assert stars_3 and {r["label"] for r in stars_3} == {"neutral"}
    assert manifest["files"]["train.csv"]["rows"] == len(train)  # type: ignore[index]


def test_shopper_messages_are_neutral_unless_they_swear(tmp_path: Path) -> None:
    source = make_source(tmp_path / "src")
    shopper = make_shopper_csv(tmp_path / "nlu.csv")
    out = tmp_path / "out"
    args = PrepareSentimentArgs(
        source=str(source), out=str(out), eval_fraction=0.25, shopper=str(shopper)
    )
    manifest = prepare(args)
    train, held = read(out / "train.csv"), read(out / "eval_shopper.csv")
    rows = [r for r in train + held if r["source"] == "shopper"]
    labels = {r["text"]: r["label"] for r in rows}
    assert labels["see purchase 774432 goddamn status"] == "negative"
    assert labels["where is order 123456"] == "neutral"
    assert labels["hello there"] == "neutral"
    assert "I have to file a complaint against your company" not in labels  # tone varies
    assert sum(1 for label in labels.values() if label == "neutral") == 20
    # Paraphrases of one message stay on one side of the split.
    assert held and {r["group"] for r in held}.isdisjoint({r["group"] for r in train})
    assert manifest["files"]["eval_shopper.csv"]["rows"] == len(held)  # type: ignore[index]
    # The per-intent cap samples rows.
    capped = prepare(
        PrepareSentimentArgs(
            source=str(source), out=str(tmp_path / "o2"), shopper=str(shopper), shopper_per_intent=2
        )
    )
    shopper_rows = [
        r for n in ("train.csv", "eval_shopper.csv") for r in read(tmp_path / "o2" / n)
        if r["source"] == "shopper"
    ]  # fmt: skip
    assert len(shopper_rows) == 2 + 2 + 1 and capped


def test_prepare_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no amazon_alexa\.tsv"):
        prepare(PrepareSentimentArgs(source=str(tmp_path), out=str(tmp_path / "o")))
    source = make_source(tmp_path / "src")
    (source / "uci" / "imdb_labelled.txt").write_text("no label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1 is not 'sentence<TAB>0\|1'"):
        prepare(PrepareSentimentArgs(source=str(source), out=str(tmp_path / "o")))
    with pytest.raises(ValueError, match=r"does not exist; run `shopbot prepare` first"):
        prepare(
            PrepareSentimentArgs(
                source=str(make_source(tmp_path / "s2")), shopper=str(tmp_path / "none.csv")
            )
        )
    with pytest.raises(ValueError, match=r"--eval-fraction is 0\.0"):
        PrepareSentimentArgs(eval_fraction=0.0)
