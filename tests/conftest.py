"""Shared fixtures: the project root, free loopback ports, the tiny Rasa model, running servers."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def tiny_rasa_model() -> Path:
    """The tiny-preset Rasa model, trained on first use and reused while its inputs are unchanged."""
    from training.train_rasa import train_rasa

    return train_rasa("tiny", root=ROOT)


@pytest.fixture()
def servers(tmp_path: Path, tiny_rasa_model: Path) -> Iterator[object]:
    """A running action server + Rasa server on free ports with a fresh SQLite tracker store."""
    from tests.e2e.harness import ShopBotServers

    # A private copy of the demo store: conversations write to it (audit log, lockouts).
    store_db = tmp_path / "shop.db"
    if (ROOT / "var" / "store" / "shop.db").exists():
        shutil.copy(ROOT / "var" / "store" / "shop.db", store_db)
    running = ShopBotServers.for_tests(
        ROOT, tmp_path, tiny_rasa_model, store_db_url=f"sqlite:///{store_db}"
    )
    try:
        running.start()  # inside the try: a server that started before the other failed is stopped
        yield running
    finally:
        running.stop()
