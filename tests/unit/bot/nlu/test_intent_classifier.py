"""BertIntentClassifier as a Rasa graph component: train, persist, load, process, fallback, and
the shared sentiment head that BertSentimentAnalyzer (model_path: shared) reports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder_component import SHARED_SENTIMENT_KEY
from bot.nlu.intent_classifier import SENTIMENT_HEAD_DIR, BertIntentClassifier
from bot.nlu.sentiment import BertSentimentAnalyzer, SentimentModelError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "nlu"
SENTIMENT_CSV = FIXTURES.parent / "sentiment" / "train.csv"
CONFIG = {"preset": "tiny", "device": "cpu", "sentiment_data": str(SENTIMENT_CSV)}
CONTEXT = ExecutionContext(GraphSchema({}), "test-model")


def training_data() -> TrainingData:
    examples = []
    for name, label in (("intent_train.csv", None), ("oos_train.csv", "out_of_scope")):
        with (FIXTURES / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                examples.append(
                    Message(
                        data={
                            "text": row["text"],
                            "intent": label or row["label"],
                            "metadata": {"example": {"group": row["group"]}},
                        }
                    )
                )
    return TrainingData(training_examples=examples)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalModelStorage, Resource]:
    """Train once into a model storage; tests load from it."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("train_BertIntentClassifier")
    context = ExecutionContext(GraphSchema({}), "test-model")
    component = BertIntentClassifier.create(
        {**BertIntentClassifier.get_default_config(), **CONFIG}, storage, resource, context
    )
    assert component.train(training_data()) == resource
    return storage, resource


def load(trained: tuple[LocalModelStorage, Resource], **config: object) -> BertIntentClassifier:
    storage, resource = trained
    return BertIntentClassifier.load(
        {**BertIntentClassifier.get_default_config(), **CONFIG, **config},
        storage,
        resource,
        ExecutionContext(GraphSchema({}), "test-model"),
    )


def test_load_and_predict_in_a_batch(trained: tuple[LocalModelStorage, Resource]) -> None:
    component = load(trained)
    messages = [Message(data={"text": t}) for t in ("where is my order", "I want a refund", "")]
    component.process(messages)
    first, second, empty = messages
    assert first.get("intent")["name"] in {"track_order", "out_of_scope"}
    assert second.get("intent")["name"] in {"get_refund", "out_of_scope"}
    assert first.get("oos")["top_intent"] == "track_order"
    assert second.get("oos")["top_intent"] == "get_refund"
    ranking = first.get("intent_ranking")
    assert 1 < len(ranking) <= 10
    assert abs(sum(r["confidence"] for r in ranking if r["name"] != "out_of_scope") - 1.0) < 0.2
    assert empty.get("intent") == {"name": None, "confidence": 0.0}  # as DIET: no intent
    assert empty.get("intent_ranking") == [] and empty.get("oos") is None
    assert "intent" in first.as_dict(only_output_properties=True)
    assert "oos" in first.as_dict(only_output_properties=True)


def test_threshold_marks_out_of_scope_and_keeps_the_original(
    trained: tuple[LocalModelStorage, Resource],
) -> None:
    component = load(trained, oos_threshold=0.9999)
    message = Message(data={"text": "can you tell me about cancelling my purchase"})
    component.process([message])
    intent, ranking, oos = message.get("intent"), message.get("intent_ranking"), message.get("oos")
    if oos["top_confidence"] < 0.9999:
        assert intent["name"] == "out_of_scope" and oos["is_oos"]
        assert ranking[0]["name"] == "out_of_scope"
        assert ranking[1]["name"] == oos["top_intent"] == "cancel_order"
        assert intent["confidence"] == pytest.approx(1.0 - oos["top_confidence"])


def test_fallback_classifier_after_it(trained: tuple[LocalModelStorage, Resource]) -> None:
    component = load(trained)
    fallback = FallbackClassifier.create(
        {
            **FallbackClassifier.get_default_config(),
            "threshold": 0.999999,
            "ambiguity_threshold": 0.0,
        },
        LocalModelStorage(Path("/nonexistent")),
        Resource("fb"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )
    message = Message(data={"text": "where is my order"})
    empty = Message(data={"text": ""})  # POST /model/parse {"text": ""} was a 500 here
    fallback.process(component.process([message, empty]))
    assert message.get("intent")["name"] == "nlu_fallback"
    assert message.get("intent_ranking")[1]["name"] in {"track_order", "out_of_scope"}
    assert empty.get("intent")["name"] == "nlu_fallback"


def test_bad_threshold_config_is_rejected() -> None:
    def create(**config: object) -> BertIntentClassifier:
        return BertIntentClassifier.create(
            {**BertIntentClassifier.get_default_config(), **config},
            LocalModelStorage(Path("/nonexistent")),
            Resource("x"),
            ExecutionContext(GraphSchema({}), "m"),
        )

    with pytest.raises(ValueError, match="oos_threshold is 'sometimes'"):
        create(oos_threshold="sometimes")
    with pytest.raises(ValueError, match="preset is 'huge'"):
        create(preset="huge")


def test_fingerprint_follows_what_the_preset_means(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's cache key must change when a preset's values change, not only its name."""
    from core import encoder_config

    config = {"preset": "demo"}
    before = BertIntentClassifier.fingerprint_addon(config)
    assert before == BertIntentClassifier.fingerprint_addon(dict(config))
    assert before != BertIntentClassifier.fingerprint_addon({"preset": "demo", "epochs": 3})
    presets = encoder_config.PRESETS
    changed = {**presets, "demo": {**presets["demo"], "freeze_layers": 5}}
    monkeypatch.setattr(encoder_config, "PRESETS", changed)
    assert BertIntentClassifier.fingerprint_addon(config) != before


def shared_analyzer(
    storage: LocalModelStorage, resource: Resource, model_path: str = "shared"
) -> BertSentimentAnalyzer:
    config = {**BertSentimentAnalyzer.get_default_config(), "model_path": model_path}
    BertSentimentAnalyzer.create(config, storage, resource, CONTEXT).train(TrainingData())
    return BertSentimentAnalyzer.load(config, storage, resource, CONTEXT)


def test_one_encoder_pass_scores_intent_and_sentiment(
    trained: tuple[LocalModelStorage, Resource], tmp_path: Path
) -> None:
    """The head is stored in the model, the intents are the classifier's own, and the sentiment
    analyzer in shared mode reports the head's scores as parse data and entity."""
    storage, resource = trained
    with storage.read_from(resource) as model_dir:
        assert (Path(model_dir) / SENTIMENT_HEAD_DIR / "feature_head.json").is_file()
    component = load(trained)
    texts = ["where is my order", "this is awful, I hate it", "Love it!", ""]
    messages = [Message(data={"text": t}) for t in texts]
    component.process(messages)
    assert component._classifier is not None
    alone = component._classifier.classify(texts[:3])
    assert [m.get("intent")["name"] for m in messages[:3]] == [p.label for p in alone]
    assert messages[3].get(SHARED_SENTIMENT_KEY) is None
    assert SHARED_SENTIMENT_KEY not in messages[0].as_dict(only_output_properties=True)

    analyzer = shared_analyzer(LocalModelStorage(tmp_path), Resource("train_sentiment"))
    analyzer.process(messages)
    for message in messages[:3]:
        sentiment = message.get("sentiment")
        shared = message.get(SHARED_SENTIMENT_KEY)
        assert sentiment["scores"] == dict(zip(shared["labels"], shared["scores"], strict=True))
        assert sentiment["label"] == max(sentiment["scores"], key=sentiment["scores"].get)
        assert sentiment["model"].startswith("shared-")
        (entity,) = [e for e in message.get("entities") if e["entity"] == "sentiment"]
        assert entity["value"] == sentiment["label"]
        assert entity["extractor"] == "BertSentimentAnalyzer"
    assert messages[3].get("sentiment") is None


def test_shared_mode_without_scores_warns_and_adds_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    analyzer = shared_analyzer(LocalModelStorage(tmp_path), Resource("train_sentiment"))
    message = Message(data={"text": "hello"})
    with caplog.at_level("WARNING"):
        analyzer.process([message])
    assert message.get("sentiment") is None
    assert "configure BertIntentClassifier with sentiment_data" in caplog.text
    assert BertSentimentAnalyzer.fingerprint_addon({"model_path": "shared"}) == "shared"


def test_a_model_trained_in_the_other_mode_is_refused(tmp_path: Path) -> None:
    storage, resource = LocalModelStorage(tmp_path), Resource("train_sentiment")
    shared_analyzer(storage, resource)
    config = {**BertSentimentAnalyzer.get_default_config(), "model_path": "models/tiny/sentiment"}
    with pytest.raises(SentimentModelError, match="was trained with 'shared'"):
        BertSentimentAnalyzer.load(config, storage, resource, CONTEXT)


def test_missing_sentiment_data_is_refused_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"sentiment_data .* does not exist"):
        BertIntentClassifier.create(
            {**BertIntentClassifier.get_default_config(), **CONFIG,
             "sentiment_data": str(tmp_path / "none.csv")},
            LocalModelStorage(tmp_path), Resource("x"), CONTEXT,
        )  # fmt: skip
    assert BertIntentClassifier.fingerprint_addon(
        {"sentiment_data": str(SENTIMENT_CSV)}
    ) != BertIntentClassifier.fingerprint_addon({"sentiment_data": ""})
