"""The argv the runner builds for Rasa is read by Rasa's own parser as intended."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from bot.runner import rasa_server
from core.settings import Settings


@pytest.mark.parametrize("token", ["plain-token", "-starts-with-a-dash", "--looks-like-an-option"])
def test_rasa_reads_the_api_token_whatever_its_first_character(tmp_path: Path, token: str) -> None:
    # token_urlsafe draws '-' as the first character 1 time in 64; a fresh clone's
    # bench once failed with "argument -t/--auth-token: expected one argument".
    from rasa.__main__ import create_argument_parser

    service = rasa_server(Settings(root=tmp_path, api_token=token, run_dir=str(tmp_path / "run")))
    args = create_argument_parser().parse_args(service.command[3:])
    assert args.auth_token == token
    assert args.enable_api is True


def test_starting_rasa_never_logs_its_api_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = rasa_server(
        Settings(root=tmp_path, api_token="t0ps3cret", run_dir=str(tmp_path / "run"))
    )
    service.command = [sys.executable, "-c", "pass", *service.command[3:]]  # start nothing of Rasa
    with caplog.at_level(logging.INFO, logger="bot.runner"):
        service.start()
        assert service.process is not None
        service.process.wait(30)
    assert "--auth-token=***" in caplog.text and "t0ps3cret" not in caplog.text
