"""The encoder classifier: presets, splits, a tiny fine-tune, out-of-scope logic, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.encoder import TextClassifier, directory_sha256
from core.encoder_config import TrainConfig
from core.encoder_fit import FitResult, cap_per_label, fit_classifier, heldout_split
from training.labelled_csv import read_labelled_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nlu"


@pytest.fixture(scope="module")
def tiny_fit() -> FitResult:
    """One tiny fine-tune on the 4-intent fixture (+ a trained out_of_scope class)."""
    train = read_labelled_csv(FIXTURES / "intent_train.csv")
    oos = read_labelled_csv(FIXTURES / "oos_train.csv")
    config = TrainConfig.from_preset("tiny", device="cpu")
    return fit_classifier(
        train.texts + oos.texts,
        train.labels + oos.labels,
        config,
        train.groups + (oos.groups or []) if train.groups else None,
        train.sha256(),
        progress=False,
    )


def test_presets_and_overrides() -> None:
    tiny = TrainConfig.from_preset("tiny", epochs=1, seed=None)
    assert (tiny.preset, tiny.epochs, tiny.max_examples_per_label, tiny.seed) == ("tiny", 1, 30, 42)
    assert TrainConfig.from_preset("full").freeze_layers == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be at least 1. Currently, epochs is 0"),
        ({"eval_fraction": 0.95}, "eval_fraction must be in"),
        ({"colour": "red"}, "Unknown TrainConfig field"),
    ],
)
def test_config_errors_quote_the_value(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_preset("tiny", **kwargs)
    with pytest.raises(ValueError, match="preset is 'huge'"):
        TrainConfig.from_preset("huge")


def test_heldout_split_keeps_groups_whole() -> None:
    labels = ["a"] * 20 + ["b"] * 20
    groups = [f"g{i // 4}" for i in range(40)]
    train, held = heldout_split(labels, groups, 0.25, seed=1)
    assert sorted(train + held) == list(range(40))
    assert {groups[i] for i in train}.isdisjoint({groups[i] for i in held})
    assert {labels[i] for i in held} == {"a", "b"}
    assert len(cap_per_label(train, labels, 3, seed=1)) == 6


def test_tiny_fine_tune_predicts_the_right_intents(tiny_fit: FitResult) -> None:
    test = read_labelled_csv(FIXTURES / "intent_test.csv")
    in_scope = [(t, y) for t, y in zip(test.texts, test.labels, strict=True) if y != "oos"]
    predictions = tiny_fit.classifier.classify([t for t, _ in in_scope])
    accuracy = np.mean([p.top_label == y for p, (_, y) in zip(predictions, in_scope, strict=True)])
    assert accuracy >= 0.9
    assert tiny_fit.classifier.oos_threshold is not None
    assert 0.0 < tiny_fit.classifier.temperature < 20.0
    assert tiny_fit.train_args["data_sha256"] and tiny_fit.train_args["n_heldout"] > 0


def test_out_of_scope_decision(tiny_fit: FitResult, monkeypatch: pytest.MonkeyPatch) -> None:
    classifier = tiny_fit.classifier
    rows = np.zeros((3, len(classifier.labels)))
    track, oos = classifier.labels.index("track_order"), classifier.labels.index("out_of_scope")
    rows[0, track] = 0.99  # confident in-scope
    rows[0, oos] = 0.01
    rows[1, oos] = 0.9  # the trained out-of-scope class wins
    rows[1, track] = 0.1
    rows[2, :] = 1.0 / len(classifier.labels)  # nothing stands out: below the threshold
    monkeypatch.setattr(classifier, "predict_proba", lambda texts, batch_size=64: rows)
    confident, trained, flat = classifier.classify(["a", "b", "c"])
    assert (confident.label, confident.is_oos) == ("track_order", False)
    assert (trained.label, trained.is_oos, trained.top_label) == (
        "out_of_scope",
        True,
        "track_order",
    )
    assert trained.confidence == pytest.approx(0.9)
    assert flat.is_oos and flat.ranking[0][1] == pytest.approx(1.0 / len(classifier.labels))


def test_save_load_round_trip(tiny_fit: FitResult, tmp_path: Path) -> None:
    tiny_fit.save(str(tmp_path / "clf"))
    for name in ("encoder/config.json", "head.safetensors", "label_map.json", "train_args.json",
                 "calibration.json", "metrics.json"):  # fmt: skip
        assert (tmp_path / "clf" / name).is_file(), name
    loaded = TextClassifier.load(tmp_path / "clf", device="cpu", quantize=False)
    texts = ["where is my package", "I want my money back", "tell me a joke"]
    np.testing.assert_allclose(
        loaded.predict_proba(texts), tiny_fit.classifier.predict_proba(texts), atol=1e-5
    )
    assert loaded.labels == tiny_fit.classifier.labels
    assert loaded.oos_threshold == pytest.approx(tiny_fit.classifier.oos_threshold)
    assert loaded.meta["train_args"]["config"]["preset"] == "tiny"
    quantized = TextClassifier.load(tmp_path / "clf", device="cpu", quantize=True)
    assert [p.top_label for p in quantized.classify(texts[:2])] == [
        p.top_label for p in loaded.classify(texts[:2])
    ]
    assert len(directory_sha256(tmp_path / "clf")) == 64


def test_load_refuses_a_non_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"is not a classifier directory.*shopbot train-intent"):
        TextClassifier.load(tmp_path)


def test_onnx_runtimes_give_the_torch_models_logits(tiny_fit: FitResult, tmp_path: Path) -> None:
    tiny_fit.save(str(tmp_path / "clf"))
    texts = ["where is my package", "I want my money back", "tell me a joke", "hi"]
    torch_fp32 = TextClassifier.load(tmp_path / "clf", device="cpu", quantize=False)
    cache = tmp_path / "onnx"
    fp32 = TextClassifier.load(
        tmp_path / "clf", device="cpu", quantize=False, runtime="onnx", onnx_cache_dir=cache
    )
    assert fp32.onnx is not None and fp32.meta["runtime"] == "onnx"
    # Batches of different lengths (padding) and a single text: the same logits as PyTorch.
    np.testing.assert_allclose(fp32.logits(texts), torch_fp32.logits(texts), atol=1e-4)
    np.testing.assert_allclose(fp32.logits(texts[:1]), torch_fp32.logits(texts[:1]), atol=1e-4)
    int8 = TextClassifier.load(
        tmp_path / "clf", device="cpu", runtime="onnx-int8", onnx_cache_dir=cache
    )
    assert [p.label for p in int8.classify(texts)] == [p.label for p in torch_fp32.classify(texts)]
    # A message gets the same int8 logits in any batch as alone (dynamic quantization scales a
    # tensor by its own range: batched, the other rows and the padding would move them).
    alone = np.concatenate([int8.logits([t]) for t in texts])
    assert np.array_equal(int8.logits(texts), alone)
    assert np.array_equal(int8.logits(texts[::-1]), alone[::-1])
    # Hidden layers (the shared-sentiment head) still come from the torch model.
    _, features = int8.logits_and_layers(texts, (1,))
    assert features.shape == (4, int8.hidden_size) and np.abs(features).sum() > 0
    # The export is cached by the directory's content: loading again exports nothing.
    exported = sorted(p.stat().st_mtime_ns for p in cache.rglob("model.onnx"))
    TextClassifier.load(tmp_path / "clf", device="cpu", runtime="onnx-int8", onnx_cache_dir=cache)
    assert sorted(p.stat().st_mtime_ns for p in cache.rglob("model.onnx")) == exported
    assert len(exported) == 2
    with pytest.raises(ValueError, match="onnx_cache_dir"):
        TextClassifier.load(tmp_path / "clf", device="cpu", runtime="onnx")
