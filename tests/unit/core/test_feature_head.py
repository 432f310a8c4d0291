"""A second task on a classifier's encoder: trained alongside, read from the same pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.encoder_config import TrainConfig
from core.encoder_fit import FitResult, fit_classifier
from core.feature_head import AuxiliaryTask, FeatureHead, LabelledTexts
from training.labelled_csv import read_labelled_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def tiny_fit(auxiliary: AuxiliaryTask | None) -> FitResult:
    train = read_labelled_csv(FIXTURES / "nlu" / "intent_train.csv")
    config = TrainConfig.from_preset(
        "tiny", base={"oos_label": None, "detect_oos": False}, device="cpu"
    )
    return fit_classifier(
        train.texts, train.labels, config, train.groups, progress=False, auxiliary=auxiliary
    )


@pytest.fixture(scope="module")
def intent_fit() -> FitResult:
    """A tiny intent classifier fine-tuned with sentiment as its second task."""
    data = LabelledTexts.read_csv(FIXTURES / "sentiment" / "train.csv")
    return tiny_fit(AuxiliaryTask(data, (3, 6)))


@pytest.fixture(scope="module")
def sentiment_head(intent_fit: FitResult) -> FeatureHead:
    assert intent_fit.auxiliary_head is not None
    return intent_fit.auxiliary_head


def test_one_pass_gives_the_same_logits_and_the_layers(intent_fit: FitResult) -> None:
    classifier = intent_fit.classifier
    texts = ["where is my package", "I want my money back", "hi"]
    logits, features = classifier.logits_and_layers(texts, (3, 6))
    np.testing.assert_allclose(logits, classifier.logits(texts), atol=1e-5)
    assert features.shape == (3, 2 * classifier.hidden_size)
    alone, _ = classifier.logits_and_layers(texts, ())
    np.testing.assert_allclose(alone, logits, atol=1e-5)
    assert [p.label for p in classifier.decide(logits)] == [
        p.label for p in classifier.classify(texts)
    ]


def test_the_encoder_learns_sentiment_alongside_intents(
    intent_fit: FitResult, sentiment_head: FeatureHead
) -> None:
    """Held-out sentiment beats the majority class, the intents are still learned, and the
    training records the second task."""
    eval_data = read_labelled_csv(FIXTURES / "sentiment" / "eval.csv")
    classifier = intent_fit.classifier
    _, features = classifier.logits_and_layers(eval_data.texts, sentiment_head.layers)
    probs = sentiment_head.predict_proba(features)
    predicted = [sentiment_head.labels[i] for i in probs.argmax(axis=1)]
    accuracy = np.mean([p == g for p, g in zip(predicted, eval_data.labels, strict=True)])
    majority = max(eval_data.labels.count(label) for label in set(eval_data.labels))
    assert accuracy > majority / len(eval_data.labels)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert sentiment_head.meta["data_sha256"] and sentiment_head.meta["heldout"]["n"] > 0
    assert [p.label for p in classifier.classify(["where is my package", "I want a refund"])] == [
        "track_order",
        "get_refund",
    ]
    assert intent_fit.train_args["auxiliary"]["layers"] == [3, 6]


def test_save_load_round_trip(sentiment_head: FeatureHead, tmp_path: Path) -> None:
    loaded = FeatureHead.load(sentiment_head.save(tmp_path / "head"))
    features = np.random.default_rng(0).normal(size=(4, sentiment_head.weight.shape[1]))
    np.testing.assert_allclose(
        loaded.predict_proba(features), sentiment_head.predict_proba(features), atol=1e-5
    )
    assert (loaded.labels, loaded.layers) == (sentiment_head.labels, sentiment_head.layers)
    assert loaded.model_id == sentiment_head.model_id
    with pytest.raises(ValueError, match="holds no feature head"):
        FeatureHead.load(tmp_path)


def test_a_fit_without_a_second_task_has_no_head(intent_fit: FitResult) -> None:
    plain = tiny_fit(None)
    assert plain.auxiliary_head is None and plain.train_args["auxiliary"] is None


@pytest.mark.parametrize("layers", [(), (7,), (-1,)])
def test_layers_outside_the_encoder_are_refused(layers: tuple) -> None:
    data = LabelledTexts.read_csv(FIXTURES / "sentiment" / "train.csv")
    with pytest.raises(ValueError, match=r"hidden states 0\.\.6"):
        tiny_fit(AuxiliaryTask(data, layers))


def test_a_csv_without_labels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,mood\nhello,happy\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'text' and 'label' columns"):
        LabelledTexts.read_csv(path)
