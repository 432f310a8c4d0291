"""Keep the servers' loaded models out of Python's garbage-collector scans (``gc.freeze``).

Python's cyclic garbage collector scans every container object it tracks in a full (generation
2) collection. A server that has imported Rasa, TensorFlow, torch and transformers and loaded its
models holds ~850,000 of them, and a full collection scanned them all: in the Rasa server under
the Throughput mix each took ~0.5 s, three in 40 s, 1.5 s of CPU (4.6% of the server's) during
which the event loop answered no one (2026-12-07, `docs/benchmarks/2026-12-07/heap-freeze/`).

:func:`freeze_heap` collects once, then moves every object alive into the permanent generation
(``gc.freeze``, the approach Instagram published for its Django servers): later collections scan
only what was created since, and the loaded objects are still freed by reference counting if
they are ever dropped (a frozen cycle is never collected: freeze only what lives as long as the
process). Each server calls it once its models are loaded: the Rasa server after its model
(``bot.rasa_server``), the NLU worker after its warm-up (``bot.nlu_worker``), the action server
after start and after its answer pipeline is loaded (``actions.serve``, ``actions.knowledge``).
``SHOPBOT_GC_FREEZE=off`` leaves the collector as Python has it (the Throughput baseline).
"""

from __future__ import annotations

import gc
import logging

from core.settings import Settings

logger = logging.getLogger(__name__)


def freeze_heap(what: str) -> int:
    """Collect, then keep every object alive now out of later collections' scans; return how
    many objects are frozen in all (0 when the settings' ``gc_freeze`` is off:
    ``SHOPBOT_GC_FREEZE=off``)."""
    if not Settings().gc_freeze:
        return 0
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("%s: %d objects kept out of the garbage collector's scans", what, frozen)
    return frozen
