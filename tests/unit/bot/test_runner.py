"""The argv the runner builds for Rasa is read by Rasa's own parser as intended."""

from __future__ import annotations

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
