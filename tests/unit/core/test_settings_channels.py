"""The channels' settings: secrets generated once, the REST switch, masking, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings


def test_channel_secrets_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, widget_secret="", rest_secret="", stream_secret="")
    secrets = (
        settings.ensure_widget_secret(),
        settings.ensure_rest_secret(),
        settings.ensure_stream_secret(),
    )
    assert len(set(secrets)) == 3 and all(len(s) >= 32 for s in secrets)
    again = Settings(root=tmp_path, widget_secret="", rest_secret="", stream_secret="")
    assert again.ensure_widget_secret() == secrets[0]
    assert again.ensure_stream_secret() == secrets[2]
    assert (tmp_path / "var" / "rest_secret").stat().st_mode & 0o077 == 0
    assert Settings(root=tmp_path, rest_secret="given").ensure_rest_secret() == "given"


@pytest.mark.parametrize(
    ("raw", "expected"), [("off", False), ("on", True), ("0", False), ("1", True)]
)
def test_rest_auth_switch(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("SHOPBOT_REST_AUTH", raw)
    assert Settings().rest_auth is expected


def test_bad_switch_and_ttl_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPBOT_REST_AUTH", "sometimes")
    with pytest.raises(ValueError, match="SHOPBOT_REST_AUTH must be on or off"):
        Settings()
    monkeypatch.delenv("SHOPBOT_REST_AUTH")
    with pytest.raises(ValueError, match="SHOPBOT_WIDGET_SESSION_TTL"):
        Settings(widget_session_ttl=0)


def test_secrets_are_masked_and_the_environment_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        root=tmp_path,
        widget_secret="w" * 40,
        rest_secret="r" * 40,
        stream_secret="s" * 40,
        rest_auth=False,
    )
    described = settings.describe()
    assert described["widget_secret"] == described["rest_secret"] == "***"
    assert described["stream_secret"] == "***"
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    copy = Settings()
    assert copy.app_db_url == f"sqlite:///{tmp_path / 'var' / 'shopbot.db'}"
    assert (copy.widget_secret, copy.stream_secret, copy.rest_auth) == ("w" * 40, "s" * 40, False)
    assert (
        copy.widget_push_url == f"http://127.0.0.1:{copy.rasa_port}/webhooks/widget/internal/stream"
    )
