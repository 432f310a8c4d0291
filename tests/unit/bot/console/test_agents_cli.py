"""``shopbot agents``: add (password from stdin), list, disable/enable, ensure-demo."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from bot.console import agents_cli
from bot.console.agents import AgentStore
from bot.storage.engine import make_engine
from bot.storage.migrate import alembic_config, current_revision, upgrade_to_head


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHOPBOT_HOME", str(tmp_path))
    monkeypatch.setenv("SHOPBOT_APP_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    return tmp_path


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return agents_cli.main(argv)


def test_add_list_disable_enable(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["add", "Eve@Example.com", "--name", "Eve", "--role", "admin", "--password-stdin"]
    assert run(argv, monkeypatch, "eve's long passphrase\n") == 0
    assert run(["list"], monkeypatch) == 0
    out = capsys.readouterr().out
    assert "eve@example.com" in out and "admin" in out and "active" in out
    assert "passphrase" not in out
    assert run(["disable", "eve@example.com"], monkeypatch) == 0
    run(["list"], monkeypatch)
    assert "disabled" in capsys.readouterr().out
    assert run(["enable", "EVE@example.com"], monkeypatch) == 0
    engine = make_engine(f"sqlite:///{env / 'app.db'}")
    store = AgentStore(engine)
    assert store.authenticate("eve@example.com", "eve's long passphrase") is not None
    engine.dispose()


def test_errors_name_the_problem(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["add", "eve@example.com", "--name", "Eve", "--password-stdin"]
    assert run(argv, monkeypatch, "short\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert run(argv, monkeypatch, "a fine passphrase\n") == 0
    assert run(argv, monkeypatch, "a fine passphrase\n") == 2
    assert "already exists" in capsys.readouterr().err
    assert run(["disable", "nobody@example.com"], monkeypatch) == 2
    assert "No agent with email" in capsys.readouterr().err
    bad_role = ["add", "x@example.com", "--name", "X", "--role", "root", "--password-stdin"]
    with pytest.raises(SystemExit):
        run(bad_role, monkeypatch, "a fine passphrase\n")


def test_ensure_demo_writes_the_password_file_only(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["ensure-demo"], monkeypatch) == 0
    password_file = env / "var" / agents_cli.DEMO_PASSWORD_FILE
    password = password_file.read_text(encoding="utf-8").strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert password not in out
    assert agents_cli.DEMO_EMAIL in out and str(password_file) in out and ":5006/" in out
    engine = make_engine(f"sqlite:///{env / 'app.db'}")
    agent = AgentStore(engine).authenticate(agents_cli.DEMO_EMAIL, password)
    assert agent is not None and agent.role == "admin"
    # Run again: nothing changes. Password file gone: a new password.
    assert run(["ensure-demo"], monkeypatch) == 0
    assert password_file.read_text(encoding="utf-8").strip() == password
    password_file.unlink()
    assert run(["ensure-demo"], monkeypatch) == 0
    new_password = password_file.read_text(encoding="utf-8").strip()
    assert new_password != password
    assert AgentStore(engine).authenticate(agents_cli.DEMO_EMAIL, new_password) is not None
    engine.dispose()


def test_migration_0002_up_and_down(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    url = f"sqlite:///{tmp_path / 'app.db'}"
    head = upgrade_to_head(url)
    engine = make_engine(url)
    assert {"console_agents", "console_sessions"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(url), "0001")
    assert current_revision(url) == "0001"
    assert "console_agents" not in inspect(engine).get_table_names()
    assert upgrade_to_head(url) == head
    engine.dispose()
