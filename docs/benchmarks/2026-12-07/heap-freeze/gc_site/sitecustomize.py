"""Count the garbage collector's time in every Python process that starts with this directory on
``PYTHONPATH`` and ``SHOPBOT_GC_PROBE`` set (the servers inherit both from the mix probe), except
the load generator.

Every 5 s each process appends ``epoch gen0_count:seconds gen1_count:seconds gen2_count:seconds
frozen`` (totals since it started) to ``$SHOPBOT_GC_PROBE/gc-<pid>.txt``, after a first line with
its command line, so the collections inside the probe's window (its ``window_epoch``) can be told.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

# Not in the load generator (Locust's own environment): gevent must patch threading first.
if os.environ.get("SHOPBOT_GC_PROBE") and "venv-load" not in sys.prefix:
    _totals = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    _started: dict[int, float] = {}

    def _on_collection(phase: str, info: dict[str, int]) -> None:
        generation = info["generation"]
        if phase == "start":
            _started[generation] = time.perf_counter()
            return
        total = _totals[generation]
        total[0] += 1
        total[1] += time.perf_counter() - _started.get(generation, time.perf_counter())

    def _write(path: str) -> None:
        with open(path, "a") as out:
            out.write(" ".join(sys.argv)[:200] + "\n")
        while True:
            time.sleep(5.0)
            counts = " ".join(f"{n}:{s:.3f}" for n, s in _totals.values())
            with open(path, "a") as out:
                out.write(f"{time.time():.0f} {counts} {gc.get_freeze_count()}\n")

    gc.callbacks.append(_on_collection)
    _folder = os.environ["SHOPBOT_GC_PROBE"]
    os.makedirs(_folder, exist_ok=True)
    _path = os.path.join(_folder, f"gc-{os.getpid()}.txt")
    threading.Thread(target=_write, args=(_path,), name="gc-probe", daemon=True).start()
