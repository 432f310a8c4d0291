"""The Rasa server's NLU graph in a process of its own, so parsing leaves the server's interpreter.

Rasa 3.6 serves every turn from one event loop in one Python process: Sanic, the REST channel,
the processor, the policies, the tracker store and the NLU graph all take turns holding that
process's interpreter lock. Under load the process is bound by it at ~1 core while the machine
has more (``docs/benchmarks/2026-12-06/rasa-floor/``: a worker *thread* for the NLU gained
nothing, because the thread held the same lock). A worker *process* has its own interpreter: the
tokenizer, the regexes, the CRF and both encoders run beside the event loop instead of inside it,
and the server keeps only sending the texts and reading back the parse data (one pipe round trip
per batch of :mod:`bot.nlu_batching`).

:class:`NluWorker` starts the process (``spawn``: no copy of the server's threads), which loads
the same model archive with Rasa's own loader (``MessageProcessor._load_model``), parses one
message to warm up, reports ready, then parses batches until its pipe closes (the server's end
closes when the server exits, however it exits). Until the worker is ready — the first seconds
after start — and whenever it fails, :class:`bot.nlu_batching.NluBatcher` parses in the server
as before; a worker that dies or does not answer within :data:`REPLY_TIMEOUT_S` is stopped and
not used again (logged). The worker parses exactly what the server's graph parses: the same
archive, the same components, the same parse data (``tests/rasa/test_bert_pipeline.py``).

Configured by ``SHOPBOT_NLU_WORKER`` (``process``, the default on a machine with more than one
core, or ``inline``); see docs/decisions/032-nlu-worker-process.md.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import traceback
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from core.heap import freeze_heap

logger = logging.getLogger(__name__)

__all__ = ["REPLY_TIMEOUT_S", "NluWorker", "WorkerGone", "model_archive", "wire"]

REPLY_TIMEOUT_S = 30.0  # a batch's answer; a worker slower than this is stopped
READY = "ready"

# One message on the wire: text, message id, metadata, sender id, only output properties.
Wired = tuple[str | None, str | None, Any, str | None, bool]


class WorkerGone(RuntimeError):
    """The worker process died, failed to start, or stopped answering."""


def wire(message: Any, only_output_properties: bool) -> Wired:
    """What the worker needs of a ``UserMessage`` (all the NLU graph reads of it)."""
    return (
        message.text,
        message.message_id,
        message.metadata,
        message.sender_id,
        only_output_properties,
    )


def model_archive(processor: Any) -> Path | None:
    """The archive the processor loaded (its ``model_path``, or the newest archive in that folder,
    as Rasa resolves it), or None when that is no longer the archive it loaded."""
    from rasa.model import get_latest_model

    path = Path(processor.model_path)
    archive = path if path.is_file() else Path(get_latest_model(path) or "")
    return archive if archive.is_file() and archive.name == processor.model_filename else None


def _parse_in_worker(runner: Any, target: str, batch: list[Wired]) -> list[tuple[bool, Any]]:
    """Each message's ``(True, parse data)``, or ``(False, the error)`` for a message the graph
    cannot parse (a failing batch is parsed again one message at a time)."""
    from rasa.core.channels.channel import UserMessage

    from bot.nlu_batching import parse_data, run_graph

    messages = [UserMessage(t, sender_id=s, message_id=i, metadata=m) for t, i, m, s, _ in batch]
    try:
        parsed = run_graph(runner, target, messages, None)
    except Exception:
        if len(batch) == 1:
            return [(False, traceback.format_exc(limit=3))]
        return [_parse_in_worker(runner, target, [item])[0] for item in batch]
    return [(True, parse_data(p, item[4])) for p, item in zip(parsed, batch, strict=True)]


def _serve(conn: Connection, archive: str) -> None:
    """The worker process: load the archive's graph, warm up, keep it out of the garbage
    collector's scans (:mod:`core.heap`), say ready, parse until EOF."""
    # Ctrl-C in a terminal reaches the whole process group; the server stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    from rasa.core.processor import MessageProcessor

    _, metadata, runner = MessageProcessor._load_model(archive)
    _parse_in_worker(runner, metadata.nlu_target, [("hello", None, None, "warm-up", True)])
    freeze_heap("NLU worker")
    conn.send((READY, os.getpid()))
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        conn.send(_parse_in_worker(runner, metadata.nlu_target, batch))


class NluWorker:
    """A worker process parsing for one loaded model (see the module docstring).

    Args:
        archive: The model archive the server loaded.
        serve: The worker's entry point (tests give a lighter one).
    """

    def __init__(self, archive: Path, serve: Any = _serve) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, str(archive)), name="shopbot-nlu-worker", daemon=True
        )
        self.process.start()
        child.close()
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shopbot-nlu-worker")
        self._ready = self._io.submit(self._wait_ready)
        self.gone = False
        logger.info("NLU worker process %s is loading %s", self.process.pid, archive.name)

    def _wait_ready(self) -> None:
        try:
            message = self._conn.recv()
        except (EOFError, OSError) as exc:
            raise WorkerGone(f"exit code {self.process.exitcode}") from exc
        if not (isinstance(message, tuple) and message[:1] == (READY,)):
            raise WorkerGone(f"unexpected first message {message!r}")
        logger.info("NLU worker process %s is ready; the server parses through it", message[1])

    @property
    def ready(self) -> bool:
        """Whether batches go to the worker (loaded, and not gone since)."""
        if self.gone or not self._ready.done():
            return False
        if self._ready.exception() is not None:
            logger.error(
                "The NLU worker process did not start (%s); the server parses messages itself",
                self._ready.exception(),
            )
            self.close(failed=True)
            return False
        return True

    async def parse(self, batch: list[Wired]) -> list[tuple[bool, Any]]:
        """Each message's ``(True, parse data)`` or ``(False, the worker's error)``; raises
        :class:`WorkerGone` (and stops the worker) when it died or did not answer in time."""
        loop = asyncio.get_running_loop()
        try:
            reply = await asyncio.wait_for(
                loop.run_in_executor(self._io, self._exchange, batch), REPLY_TIMEOUT_S
            )
        except (asyncio.TimeoutError, EOFError, OSError) as exc:
            self.close(failed=True)
            raise WorkerGone(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(reply, list) or len(reply) != len(batch):
            self.close(failed=True)
            raise WorkerGone(f"a reply of {len(reply) if isinstance(reply, list) else reply!r}")
        return reply

    def _exchange(self, batch: list[Wired]) -> Any:
        self._conn.send(batch)
        return self._conn.recv()

    def close(self, failed: bool = False) -> None:
        """Stop the worker process (idempotent; ``failed``: because it failed, logged as a
        warning); it is not used again."""
        if self.gone:
            return
        self.gone = True
        if self.process.is_alive():
            log = logger.warning if failed else logger.info
            log("Stopping the NLU worker process %s", self.process.pid)
            self.process.terminate()
        self._conn.close()
        self._io.shutdown(wait=False)
