"""The console's settings: environment, cross-field checks, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONSOLE_PORT", "CONSOLE_HTTPS", "CONSOLE_SESSION_IDLE"):
        monkeypatch.delenv(f"SHOPBOT_{name}", raising=False)
    settings = Settings()
    assert settings.console_port == 5006 and settings.console_https is False
    assert settings.console_session_idle == 1800 and settings.console_session_max == 43200
    monkeypatch.setenv("SHOPBOT_CONSOLE_PORT", "7000")
    monkeypatch.setenv("SHOPBOT_CONSOLE_HTTPS", "on")
    settings = Settings()
    assert settings.console_port == 7000 and settings.console_https is True
    env = settings.to_env()
    assert env["SHOPBOT_CONSOLE_PORT"] == "7000" and env["SHOPBOT_CONSOLE_HTTPS"] == "1"


def test_port_clash_and_bad_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="console_port must differ from rasa_port"):
        Settings(console_port=5005)
    with pytest.raises(ValueError, match="console_port must be between 1 and 65535"):
        Settings(console_port=0)
    with pytest.raises(ValueError, match="console_session_idle must be greater than 0"):
        Settings(console_session_idle=0)


def test_secret_generated_once_and_masked(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, console_secret="")
    secret = settings.ensure_console_secret()
    assert len(secret) >= 32
    assert Settings(root=tmp_path, console_secret="").ensure_console_secret() == secret
    assert (tmp_path / "var" / "console_secret").stat().st_mode & 0o777 == 0o600
    assert settings.describe()["console_secret"] == "***"
