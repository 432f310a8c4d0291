from pathlib import Path

import pytest

from bot.runtime_config import lock_store_config, render_runtime_config, tracker_store_config
from core.settings import Settings


def test_defaults_are_loopback_and_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPBOT_TRACKER_STORE_URL", raising=False)
    settings = Settings(root=tmp_path)
    assert settings.host == "127.0.0.1"
    assert settings.tracker_store_url.startswith("sqlite:///")
    assert settings.rasa_model == tmp_path / "models" / "rasa" / "shopbot-demo.tar.gz"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPBOT_RASA_PORT", "6000")
    monkeypatch.setenv("SHOPBOT_PRESET", "tiny")
    settings = Settings(root=tmp_path)
    assert settings.rasa_port == 6000
    assert settings.rasa_model.name == "shopbot-tiny.tar.gz"


def test_bad_values_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_RASA_PORT", "fivethousand")
    with pytest.raises(ValueError, match="SHOPBOT_RASA_PORT must be an integer"):
        Settings()
    monkeypatch.delenv("SHOPBOT_RASA_PORT")
    with pytest.raises(ValueError, match="preset must be one of"):
        Settings(preset="huge")
    with pytest.raises(ValueError, match="must differ"):
        Settings(rasa_port=5000, actions_port=5000)


def test_api_token_is_generated_once_and_persisted(tmp_path: Path) -> None:
    first = Settings(root=tmp_path, api_token="").ensure_api_token()
    second = Settings(root=tmp_path, api_token="").ensure_api_token()
    assert first == second and len(first) >= 20
    assert Settings(root=tmp_path, api_token="fixed").ensure_api_token() == "fixed"


def test_describe_masks_secrets(tmp_path: Path) -> None:
    settings = Settings(
        root=tmp_path, api_token="s3cret", tracker_store_url="postgresql://u:pw@h:5432/db"
    )
    described = settings.describe()
    assert described["api_token"] == "***"
    assert "pw" not in described["tracker_store_url"]


def test_tracker_store_urls(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path)
    sqlite = tracker_store_config("sqlite:///var/tracker.db", settings)
    assert sqlite == {
        "type": "bot.storage.tracker_store.ShopSQLTrackerStore",
        "dialect": "sqlite",
        "db": str(tmp_path / "var" / "tracker.db"),
    }
    baseline = Settings(root=tmp_path, tracker_streaming="rasa")
    assert tracker_store_config("sqlite:///var/tracker.db", baseline)["type"] == "SQL"
    with pytest.raises(ValueError, match="SHOPBOT_TRACKER_STREAMING"):
        Settings(root=tmp_path, tracker_streaming="replay")
    pg = tracker_store_config("postgresql://rasa:p%40ss@db.local:5433/tracker", settings)
    assert pg["url"] == "db.local" and pg["port"] == 5433 and pg["db"] == "tracker"
    assert pg["username"] == "rasa" and pg["password"] == "p@ss"
    with pytest.raises(ValueError, match="must start with sqlite"):
        tracker_store_config("mysql://x/y", settings)


def test_lock_store_url() -> None:
    assert lock_store_config("") is None
    assert lock_store_config("redis://:pw@localhost:6380/2") == {
        "type": "bot.storage.lock_store.ShopRedisLockStore",
        "url": "localhost",
        "port": 6380,
        "db": 2,
        "password": "pw",
    }
    with pytest.raises(ValueError, match="redis://"):
        lock_store_config("memcached://x")


def test_render_runtime_config_writes_both_files(tmp_path: Path) -> None:
    import yaml

    settings = Settings(root=tmp_path, actions_port=5999, max_message_chars=300)
    endpoints, credentials = render_runtime_config(settings, tmp_path / "run")
    endpoints_data = yaml.safe_load(endpoints.read_text())
    assert endpoints_data["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"
    channels = yaml.safe_load(credentials.read_text())
    assert channels["bot.channels.rest.ShopRestInput"] == {
        "max_message_chars": 300,
        "auth": True,
        "secret": (tmp_path / "var" / "rest_secret").read_text().strip(),
        "client_key_secret": (tmp_path / "var" / "client_key_secret").read_text().strip(),
        "trusted_proxies": "",
    }
    widget = channels["bot.channels.widget.WidgetInput"]
    assert widget["app_db_url"] == f"sqlite:///{tmp_path / 'var' / 'shopbot.db'}"
    assert widget["widget_secret"] == (tmp_path / "var" / "widget_secret").read_text().strip()
    assert credentials.stat().st_mode & 0o077 == 0  # secrets inside: owner only


def test_to_env_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(
        root=tmp_path, rasa_port=6001, actions_port=6002, preset="tiny", api_token="t"
    )
    for key, value in original.to_env().items():
        monkeypatch.setenv(key, value)
    copy = Settings()
    assert copy.root == tmp_path and copy.rasa_port == 6001 and copy.preset == "tiny"
    assert copy.store_db_url == f"sqlite:///{tmp_path / 'var' / 'store' / 'shop.db'}"


def test_the_generator_decodes_batches_on_one_thread_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPBOT_GENERATOR_THREADS", raising=False)
    monkeypatch.delenv("SHOPBOT_GENERATOR_BATCH", raising=False)
    settings = Settings(root=tmp_path)
    assert (settings.generator_threads, settings.generator_batch) == (1, 8)
    monkeypatch.setenv("SHOPBOT_GENERATOR_THREADS", "")  # empty: torch's choice
    assert Settings(root=tmp_path).generator_threads is None
    for key, value in Settings(root=tmp_path, generator_batch=1).to_env().items():
        monkeypatch.setenv(key, value)
    copy = Settings()
    assert (copy.generator_threads, copy.generator_batch) == (None, 1)  # survives the round trip
    monkeypatch.setenv("SHOPBOT_GENERATOR_THREADS", "two")
    with pytest.raises(ValueError, match="SHOPBOT_GENERATOR_THREADS must be an integer"):
        Settings()
    monkeypatch.delenv("SHOPBOT_GENERATOR_THREADS")
    with pytest.raises(ValueError, match="generator_batch must be at least 1"):
        Settings(generator_batch=0)


def test_the_generator_decodes_lean_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPBOT_GENERATOR_DECODER", raising=False)
    assert Settings(root=tmp_path).generator_decoder == "lean"
    monkeypatch.setenv("SHOPBOT_GENERATOR_DECODER", "transformers")
    assert Settings(root=tmp_path).generator_decoder == "transformers"
    monkeypatch.setenv("SHOPBOT_GENERATOR_DECODER", "fast")
    with pytest.raises(ValueError, match="generator_decoder must be one of lean, transformers"):
        Settings(root=tmp_path)
