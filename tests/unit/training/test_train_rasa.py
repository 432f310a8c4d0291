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
