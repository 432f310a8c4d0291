"""``shopbot migrate`` dispatches to the application database's migrations."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from bot.cli import COMMANDS
from bot.cli import main as shopbot


def test_migrate_is_a_command_with_a_main() -> None:
    module = importlib.import_module(COMMANDS["migrate"][0])
    assert list(inspect.signature(module.main).parameters) == ["argv"]


def test_shopbot_migrate_upgrades_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPBOT_APP_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    assert shopbot(["migrate", "upgrade"]) == 0
    head = capsys.readouterr().out.strip().splitlines()[-1]
    assert shopbot(["migrate", "current"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == head
