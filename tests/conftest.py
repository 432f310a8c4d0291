"""Shared fixtures: the offline guard, the project root, free loopback ports, the tiny Rasa model,
running servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# sanic (Rasa's web server) calls `warnings.filterwarnings("once", category=DeprecationWarning)` when
# it is first imported, which would turn every DeprecationWarning after that, in the same pytest
# phase, into a printed line instead of the error pyproject's `filterwarnings = error` asks for.
# Importing it here, while pytest loads this conftest inside its own warnings context, confines
# that filter to the context pytest discards afterwards.
import sanic  # noqa: F401
from sqlalchemy.engine import Engine

from bot.local_servers import free_port as free_port  # the tests import it from here
from tests.offline_guard import OfflineGuard

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def offline_guard() -> Iterator[OfflineGuard]:
    """Every test runs offline: a connection or DNS lookup past loopback raises NetworkAccessError.

    Session-scoped and autouse, so it is in place before any other fixture (the tiny model, the
    servers) runs. See tests/offline_guard.py for what is guarded and what is out of scope.
    """
    guard = OfflineGuard()
    with pytest.MonkeyPatch.context() as monkeypatch:
        guard.install(monkeypatch)
        yield guard


@pytest.fixture(autouse=True)
def _fail_on_blocked_network_access(offline_guard: OfflineGuard) -> Iterator[None]:
    """Fail the test if it tried to go online, even when some library swallowed the error."""
    # Not cleared before the test: an attempt by a wider-scoped fixture is reported by the first
    # test that used it.
    yield
    blocked = offline_guard.take_blocked()
    if blocked:
        pytest.fail("The test tried to reach the network:\n" + "\n".join(blocked), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The NLU classifiers' ONNX exports of this session go to a temporary folder.

    Tests train classifiers of their own; each new one is exported once (about 10 s, 56 MiB) when
    first loaded, and ``models/onnx`` would keep every one of them. Servers the tests start inherit
    the variable.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SHOPBOT_ONNX_CACHE_DIR", str(tmp_path_factory.mktemp("onnx-cache")))
        yield


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture()
def app_engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh application database (SQLite under ``tmp_path``, upgraded to head)."""
    from bot.storage.engine import make_engine
    from bot.storage.migrate import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def tiny_rasa_model() -> Path:
    """The tiny-preset Rasa model, trained on first use and reused while its inputs are unchanged."""
    from training.train_rasa import train_rasa

    return train_rasa("tiny", root=ROOT)


@pytest.fixture()
def servers(tmp_path: Path, tiny_rasa_model: Path) -> Iterator[object]:
    """A running action server + Rasa server on free ports with a fresh SQLite tracker store."""
    from tests.e2e.harness import running_servers

    with running_servers(ROOT, tmp_path, tiny_rasa_model) as running:
        yield running
