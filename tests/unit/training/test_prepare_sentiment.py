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


def test_prepare_writes_disjoint_splits(tmp_path: Path) -> None:
    source = make_source(tmp_path / "src")
    out = tmp_path / "out"
    manifest = prepare(PrepareSentimentArgs(source=str(source), out=str(out), eval_fraction=0.25))
    train, uci, alexa = (read(out / n) for n in ("train.csv", "eval_uci.csv", "eval_alexa.csv"))
    assert {r["label"] for r in uci} == {"negative", "positive"}
    assert {r["label"] for r in alexa} <= {"negative", "neutral", "positive"}
    assert {r["source"] for r in uci} == {"yelp", "imdb"}
    assert {r["group"] for r in train}.isdisjoint({r["group"] for r in uci + alexa})
    stars_3 = [r for r in train + alexa if "stars 3" in r["text"]]
    assert stars_3 and {r["label"] for r in stars_3} == {"neutral"}
    assert manifest["files"]["train.csv"]["rows"] == len(train)  # type: ignore[index]


def test_prepare_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"has no amazon_alexa\.tsv"):
        prepare(PrepareSentimentArgs(source=str(tmp_path), out=str(tmp_path / "o")))
    source = make_source(tmp_path / "src")
    (source / "uci" / "imdb_labelled.txt").write_text("no label here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1 is not 'sentence<TAB>0\|1'"):
        prepare(PrepareSentimentArgs(source=str(source), out=str(tmp_path / "o")))
    with pytest.raises(ValueError, match=r"--eval-fraction is 0\.0"):
        PrepareSentimentArgs(eval_fraction=0.0)
