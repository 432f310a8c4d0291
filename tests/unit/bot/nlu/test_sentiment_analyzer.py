"""BertSentimentAnalyzer: refuses a missing model, records its hash, adds entity + parse data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentiment import BertSentimentAnalyzer, SentimentModelError
from core.encoder_config import TrainConfig
from core.encoder_fit import fit_classifier
from training.labelled_csv import read_labelled_csv

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "sentiment"
CONTEXT = ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture(scope="module")
def sentiment_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sentiment model written like `shopbot train-sentiment` does."""
    data = read_labelled_csv(FIXTURES / "train.csv")
    config = TrainConfig.from_preset(
        "tiny", base={"oos_label": None, "detect_oos": False}, device="cpu"
    )
    result = fit_classifier(data.texts, data.labels, config, progress=False)
    out = tmp_path_factory.mktemp("sentiment") / "model"
    result.save(str(out))
    return out


def component(
    model_path: Path, storage: LocalModelStorage, resource: Resource
) -> BertSentimentAnalyzer:
    config = {
        **BertSentimentAnalyzer.get_default_config(),
        "model_path": str(model_path),
        "device": "cpu",
    }
    return BertSentimentAnalyzer.create(config, storage, resource, CONTEXT)


def test_missing_model_tells_how_to_train_one(tmp_path: Path) -> None:
    analyzer = component(tmp_path / "nope", LocalModelStorage(tmp_path), Resource("r"))
    with pytest.raises(SentimentModelError, match="shopbot train-sentiment"):
        analyzer.train(TrainingData())


def test_train_load_process(sentiment_dir: Path, tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("train_sentiment")
    config = {
        **BertSentimentAnalyzer.get_default_config(),
        "model_path": str(sentiment_dir),
        "device": "cpu",
    }
    component(sentiment_dir, storage, resource).train(TrainingData())
    analyzer = BertSentimentAnalyzer.load(config, storage, resource, CONTEXT)
    messages = [
        Message(data={"text": "This is awful, I hate it."}),
        Message(data={"text": "Love it!"}),
    ]
    analyzer.process(messages)
    for message in messages:
        sentiment = message.get("sentiment")
        assert sentiment["label"] in {"negative", "neutral", "positive"}
        assert abs(sum(sentiment["scores"].values()) - 1.0) < 1e-4
        assert len(sentiment["model"]) == 12
        (entity,) = [e for e in message.get("entities") if e["entity"] == "sentiment"]
        assert entity["value"] == sentiment["label"]
        assert entity["extractor"] == "BertSentimentAnalyzer"
        assert entity["confidence"] == pytest.approx(sentiment["confidence"])
        assert "sentiment" in message.as_dict(only_output_properties=True)
    assert BertSentimentAnalyzer.fingerprint_addon(config) == analyzer._manifest["sha256"]


def test_changed_model_is_refused(sentiment_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copied-model"
    shutil.copytree(sentiment_dir, copy)
    storage, resource = LocalModelStorage(tmp_path), Resource("train_sentiment")
    component(copy, storage, resource).train(TrainingData())
    (copy / "label_map.json").write_text((copy / "label_map.json").read_text() + "\n")
    config = {**BertSentimentAnalyzer.get_default_config(), "model_path": str(copy)}
    with pytest.raises(SentimentModelError, match="not the one this Rasa model was trained with"):
        BertSentimentAnalyzer.load(config, storage, resource, CONTEXT)
