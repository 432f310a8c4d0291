from pathlib import Path

import pytest
import yaml

from core.artifacts import Stamp, hash_inputs
from training.train_rasa import PRESET_OVERRIDES, render_config

ROOT = Path(__file__).resolve().parents[3]


def test_render_config_applies_only_preset_budgets(tmp_path: Path) -> None:
    base = yaml.safe_load((ROOT / "config.yml").read_text())
    rendered = yaml.safe_load(
        render_config(ROOT / "config.yml", "tiny", tmp_path / "c.yml").read_text()
    )
    assert [c["name"] for c in rendered["pipeline"]] == [c["name"] for c in base["pipeline"]]
    for section in ("pipeline", "policies"):
        for component in rendered[section]:
            short_name = component["name"].rsplit(".", 1)[-1]
            for key, value in PRESET_OVERRIDES["tiny"].get(short_name, {}).items():
                assert component[key] == value


def test_render_config_rejects_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset must be one of"):
        render_config(ROOT / "config.yml", "huge", tmp_path / "c.yml")


def test_stamp_tracks_inputs(tmp_path: Path) -> None:
    source = tmp_path / "data"
    source.mkdir()
    (source / "a.yml").write_text("one")
    output = tmp_path / "model.tar.gz"
    output.write_text("model")
    stamp = Stamp(tmp_path / "model.stamp")
    first = hash_inputs([source], extra={"preset": "tiny"})
    assert not stamp.matches(first, output)
    stamp.write(first)
    assert stamp.matches(first, output)
    (source / "a.yml").write_text("two")
    assert not stamp.matches(hash_inputs([source], extra={"preset": "tiny"}), output)
    assert hash_inputs([source], extra={"preset": "demo"}) != hash_inputs(
        [source], extra={"preset": "tiny"}
    )
    output.unlink()
    assert not stamp.matches(first, output)


def test_render_config_points_sentiment_at_the_presets_model(tmp_path: Path) -> None:
    """config.yml's sentiment model becomes the preset's; a pipeline sharing the intent encoder
    (model_path: shared) keeps `shared`, since it has no model of its own."""
    rendered = yaml.safe_load(
        render_config(ROOT / "config.yml", "tiny", tmp_path / "c.yml").read_text()
    )
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in rendered["pipeline"]}
    assert by_name["BertSentimentAnalyzer"]["model_path"] == "models/tiny/sentiment"
    assert by_name["BertIntentClassifier"]["preset"] == "tiny"
    shared = yaml.safe_load((ROOT / "config.yml").read_text())
    for component in shared["pipeline"]:
        if component["name"].endswith("BertSentimentAnalyzer"):
            component["model_path"] = "shared"
        if component["name"].endswith("BertIntentClassifier"):
            component["sentiment_data"] = "var/sentiment/train.csv"
    (tmp_path / "shared.yml").write_text(yaml.safe_dump(shared))
    rendered = yaml.safe_load(
        render_config(tmp_path / "shared.yml", "tiny", tmp_path / "c2.yml").read_text()
    )
    by_name = {c["name"].rsplit(".", 1)[-1]: c for c in rendered["pipeline"]}
    assert by_name["BertSentimentAnalyzer"]["model_path"] == "shared"
    assert by_name["BertIntentClassifier"]["sentiment_data"] == "var/sentiment/train.csv"


def test_a_change_to_the_presets_budgets_retrains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo preset's epochs live in core/encoder_config.py: changing them must retrain on the
    next `shopbot train` / `make demo` (it used to say the model was up to date)."""
    import training.train_rasa as train_rasa_module

    for name in ("config.yml", "core/encoder_config.py", "core/encoder_fit.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((ROOT / name).read_text())
    runs: list[list[str]] = []

    def fake_rasa_train(command: list[str], **kwargs: object) -> None:
        runs.append(command)
        (tmp_path / "models" / "rasa" / "shopbot-demo.tar.gz").write_text("model")

    monkeypatch.setattr(train_rasa_module.subprocess, "run", fake_rasa_train)
    monkeypatch.setattr(train_rasa_module, "corrections_file", lambda: None)
    (tmp_path / "models" / "rasa").mkdir(parents=True)
    train_rasa_module.train_rasa("demo", tmp_path)
    train_rasa_module.train_rasa("demo", tmp_path)
    assert len(runs) == 1  # nothing changed: reused
    budgets = tmp_path / "core" / "encoder_config.py"
    budgets.write_text(budgets.read_text() + "\n# six epochs\n")
    train_rasa_module.train_rasa("demo", tmp_path)
    assert len(runs) == 2
