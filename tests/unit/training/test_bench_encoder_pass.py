"""The encoder-pass bench: the one-pass pipeline it trains, its scores, the model it unpacks."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from training.bench.encoder_pass import (
    INTENT_COMPONENT,
    _predict,
    extract_intent_classifier,
    sentiment_scores,
    shared_config,
)

ROOT = Path(__file__).resolve().parents[3]


def test_shared_config_is_config_yml_with_one_pass(tmp_path: Path) -> None:
    config = yaml.safe_load(shared_config(ROOT, tmp_path / "c.yml").read_text())
    served = yaml.safe_load((ROOT / "config.yml").read_text())
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in config["pipeline"]}
    assert by_name["BertIntentClassifier"]["sentiment_data"] == "var/sentiment/train.csv"
    assert by_name["BertSentimentAnalyzer"]["model_path"] == "shared"
    assert [c["name"] for c in config["pipeline"]] == [c["name"] for c in served["pipeline"]]
    assert config["policies"] == served["policies"]


def test_scores_and_restricted_predictions() -> None:
    gold = ["negative", "positive", "negative", "neutral"]
    scores = sentiment_scores(gold, ["negative", "positive", "neutral", "neutral"], "x")
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["negative_recall"] == pytest.approx(0.5)
    probs = np.array([[0.2, 0.5, 0.3], [0.1, 0.6, 0.3]])  # neutral wins both
    labels = ["negative", "neutral", "positive"]
    assert _predict(labels, probs, None) == ["neutral", "neutral"]
    assert _predict(labels, probs, ["negative", "positive"]) == ["positive", "positive"]


def test_extracts_the_intent_classifier_from_a_rasa_model(tmp_path: Path) -> None:
    component = tmp_path / "src" / "components" / f"{INTENT_COMPONENT}4"
    component.mkdir(parents=True)
    (component / "label_map.json").write_text("{}")
    (tmp_path / "src" / "components" / "other").mkdir()
    model = tmp_path / "model.tar.gz"
    with tarfile.open(model, "w:gz") as archive:
        archive.add(tmp_path / "src" / "components", arcname="components")
    found = extract_intent_classifier(model, tmp_path / "out")
    assert found.name == f"{INTENT_COMPONENT}4" and (found / "label_map.json").is_file()
    assert not (tmp_path / "out" / "components" / "other").exists()
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz") as archive:
        archive.add(tmp_path / "src" / "components" / "other", arcname="components/other")
    with pytest.raises(FileNotFoundError, match="BertIntentClassifier"):
        extract_intent_classifier(empty, tmp_path / "out2")
