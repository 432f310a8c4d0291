"""Entry points for :class:`bot.nlu_worker.NluWorker` in tests: real worker processes that answer
like the real one (``bot.nlu_worker._serve``) without loading a Rasa model. A spawned process
imports them by module name, so they live in an importable module, not in a test file.

``echo``: each text's first word is its intent; the parse data names the worker's pid. A text
``boom`` cannot be parsed; a batch with a text starting ``die`` ends the process, one with a
text starting ``hang`` never answers.
"""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection
from typing import Any


def echo(conn: Connection, archive: str) -> None:
    conn.send(("ready", os.getpid()))
    while True:
        try:
            batch = conn.recv()
        except EOFError:
            return
        words = {item[0].split()[0] for item in batch if item[0]}
        if "die" in words:
            os._exit(3)
        if "hang" in words:
            time.sleep(3600)
        reply: list[tuple[bool, Any]] = []
        for text, *_ in batch:
            if text == "boom":
                reply.append((False, "RuntimeError: the CRF fell over"))
                continue
            intent = {"name": text.split()[0], "confidence": 0.9}
            reply.append(
                (True, {"text": text, "intent": intent, "entities": [], "pid": os.getpid()})
            )
        conn.send(reply)


def broken(conn: Connection, archive: str) -> None:
    """A worker whose model does not load."""
    raise SystemExit(f"cannot load {archive}")
