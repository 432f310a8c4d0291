"""One pass of the NLU graph for every message that waits to be parsed at the same moment.

Rasa 3.6 parses each message on its own: ``MessageProcessor.parse_message`` runs the NLU part of
the model's graph for a list of one message, in the event loop, and every component — the
tokenizer, the regexes, the CRF, the intent and sentiment encoders — pays its per-call overhead
for that one message. The graph and every component take lists (Rasa trains them on lists; the
intent and sentiment classifiers encode a list in one batch). Under load several shoppers'
messages reach the parser within the same turn of the event loop, and one pass over all of them
costs the process much less than one pass each (``docs/benchmarks/2026-12-06/nlu-batching/``).

:func:`install` replaces ``parse_message`` with one that queues the message and lets the event
loop run the queued messages as one batch on its next turn (``loop.call_soon``): a message alone
waits for nothing but that turn, the messages that arrive meanwhile go together, up to
:data:`MAX_BATCH` (the sizes are the ``shopbot_nlu_batch_messages`` metric). Each message gets
the parse data Rasa's own method builds (the same keys, ``_update_full_retrieval_intent`` and
``_check_for_unseen_features`` applied). Parsing through an NLU server (``endpoints.yml``
``nlu:``) is left to Rasa.

The graph gets the tracker of the first message in a batch: the NLU components of ShopBot's
pipeline (``config.yml``) read none; a pipeline whose NLU components read the tracker should run
with ``SHOPBOT_NLU_BATCH=1`` and ``SHOPBOT_NLU_WORKER=inline`` (one message a pass, Rasa's own
method). A batch that fails is parsed again message by message, so a message the pipeline cannot
parse fails alone.

With a worker process (:mod:`bot.nlu_worker`, ``SHOPBOT_NLU_WORKER=process``) the batch goes to
that process instead of through the server's own graph; one batch is in the worker at a time, and
the messages that arrive meanwhile form the next one.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

from bot.metrics import metrics
from bot.nlu_worker import NluWorker, WorkerGone, model_archive, wire

logger = logging.getLogger(__name__)

__all__ = ["MAX_BATCH", "NluBatcher", "install"]

MAX_BATCH = 16  # messages parsed in one pass of the graph at most (SHOPBOT_NLU_BATCH)


@dataclass
class _Waiting:
    message: Any
    tracker: Any
    only_output_properties: bool
    future: asyncio.Future[dict[str, Any]] = field(repr=False)


class NluBatcher:
    """Parses the messages queued within one turn of the event loop in one pass of the graph.

    Args:
        processor: Rasa's ``MessageProcessor`` (its ``graph_runner`` and ``model_metadata``).
        max_batch: At most this many messages in one pass.
    """

    def __init__(self, processor: Any, max_batch: int = MAX_BATCH, worker: Any = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1. Currently, max_batch is {max_batch}.")
        self.processor = processor
        self.max_batch = max_batch
        self.worker = worker  # a bot.nlu_worker.NluWorker, used while it is ready
        self._waiting: list[_Waiting] = []
        self._scheduled = False
        self._in_worker: set[asyncio.Task[None]] = set()
        self.batches = 0  # passes run (tests and logs)
        self.largest_batch = 0
        self.worker_batches = 0  # of which in the worker process

    async def parse(
        self, message: Any, tracker: Any, only_output_properties: bool = True
    ) -> dict[str, Any]:
        """The parse data of ``message``, from the next pass of the graph."""
        loop = asyncio.get_running_loop()
        self._waiting.append(
            _Waiting(message, tracker, only_output_properties, loop.create_future())
        )
        waiting = self._waiting[-1]
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._run)
        return await waiting.future

    def _run(self) -> None:
        batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
        self.batches += 1
        self.largest_batch = max(self.largest_batch, len(batch))
        metrics().nlu_batch.observe(len(batch))
        if self.worker is not None and self.worker.ready:
            task = asyncio.get_running_loop().create_task(self._run_in_worker(batch))
            self._in_worker.add(task)  # the next batch is scheduled when this one is back
            task.add_done_callback(self._in_worker.discard)
            return
        self._run_here(batch)
        self._next()

    def _next(self) -> None:
        """Schedule the next batch if messages wait, else let the next message schedule it."""
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._run)
        else:
            self._scheduled = False

    def _run_here(self, batch: list[_Waiting]) -> None:
        """One pass of the server's own graph for the batch."""
        try:
            parsed = self._parse([w.message for w in batch], batch[0].tracker)
        except Exception as exc:
            if len(batch) == 1:  # its own error, as Rasa's parse would have raised it
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            # One message the pipeline cannot parse must not fail the others: each on its own.
            logger.exception("Parsing %d messages together failed; parsing each alone", len(batch))
            for waiting in batch:
                self._settle(waiting, None)
            return
        for waiting, message in zip(batch, parsed, strict=True):
            self._settle(waiting, message)

    async def _run_in_worker(self, batch: list[_Waiting]) -> None:
        """The batch through the worker process; a message the worker could not parse, or a
        batch the worker did not answer (it is then stopped), is parsed here."""
        try:
            replies = await self.worker.parse(
                [wire(w.message, w.only_output_properties) for w in batch]
            )
        except WorkerGone as exc:
            logger.error("The NLU worker process is gone (%s); the server parses itself", exc)
            self._run_here(batch)
        except Exception:  # e.g. metadata that cannot be pickled: this batch here
            logger.exception("Could not parse %d messages in the NLU worker", len(batch))
            self._run_here(batch)
        else:
            self.worker_batches += 1
            metrics().nlu_worker_messages.inc(sum(ok for ok, _ in replies))
            for waiting, (ok, data) in zip(batch, replies, strict=True):
                if not ok:
                    logger.warning("The NLU worker could not parse a message: %s", data)
                    self._settle(waiting, None)  # here, raising what Rasa's parse raises
                elif not waiting.future.done():
                    waiting.future.set_result(data)
        finally:
            self._next()

    def _settle(self, waiting: _Waiting, parsed: Any) -> None:
        """Give the caller its parse data (``parsed``, or parsed now on its own), or the error
        Rasa's own parse would have raised."""
        if waiting.future.done():  # a caller that gave up (timeout, disconnect)
            return
        try:
            if parsed is None:
                parsed = self._parse([waiting.message], waiting.tracker)[0]
            waiting.future.set_result(parse_data(parsed, waiting.only_output_properties))
        except Exception as exc:
            waiting.future.set_exception(exc)

    def _parse(self, messages: list[Any], tracker: Any) -> list[Any]:
        processor = self.processor
        return run_graph(
            processor.graph_runner, processor.model_metadata.nlu_target, messages, tracker
        )


def run_graph(runner: Any, target: str, messages: list[Any], tracker: Any) -> list[Any]:
    """The NLU part of a model's graph for ``messages`` (``UserMessage``) in one pass; the parsed
    ``Message`` of each. ``tracker`` None: an empty one of the first message's sender."""
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.shared.core.trackers import DialogueStateTracker

    if tracker is None:
        tracker = DialogueStateTracker.from_events(messages[0].sender_id, [])
    results = runner.run(
        inputs={PLACEHOLDER_MESSAGE: messages, PLACEHOLDER_TRACKER: tracker},
        targets=[target],
    )
    parsed = list(results[target])
    if len(parsed) != len(messages):
        raise RuntimeError(
            f"The NLU graph returned {len(parsed)} messages for {len(messages)}; run with "
            "SHOPBOT_NLU_BATCH=1."
        )
    return parsed


def parse_data(message: Any, only_output_properties: bool) -> dict[str, Any]:
    """What ``MessageProcessor._parse_message_with_graph`` returns for one parsed message."""
    from rasa.shared.nlu.constants import (
        ENTITIES,
        INTENT,
        INTENT_NAME_KEY,
        PREDICTED_CONFIDENCE_KEY,
        TEXT,
    )

    data: dict[str, Any] = {
        TEXT: "",
        INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
        ENTITIES: [],
    }
    data.update(message.as_dict(only_output_properties=only_output_properties))
    return data


def install(max_batch: int | None = None, worker: str | None = None) -> None:
    """Make ``MessageProcessor.parse_message`` parse through an :class:`NluBatcher` per
    processor (idempotent). ``max_batch`` defaults to the settings' ``nlu_batch``
    (``SHOPBOT_NLU_BATCH``), ``worker`` to their ``nlu_worker`` (``SHOPBOT_NLU_WORKER``:
    ``process`` starts a :class:`bot.nlu_worker.NluWorker` for each processor as it is created,
    so the worker loads while the server starts); 1 and ``inline`` leave Rasa's own method."""
    from rasa.core.processor import MessageProcessor

    from core.settings import Settings

    size, mode = max_batch, worker
    if size is None or mode is None:
        settings = Settings()
        size = settings.nlu_batch if size is None else size
        mode = settings.nlu_worker if mode is None else mode
    original = MessageProcessor.parse_message
    if getattr(original, "shopbot_batched", False) or (size == 1 and mode == "inline"):
        return
    original_init = MessageProcessor.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.__dict__["_shopbot_nlu_batcher"] = NluBatcher(
            self, size, worker=_start_worker(self) if mode == "process" else None
        )

    @functools.wraps(original)
    async def parse_message(
        self: Any, message: Any, tracker: Any = None, only_output_properties: bool = True
    ) -> dict[str, Any]:
        if self.http_interpreter:
            return await original(self, message, tracker, only_output_properties)
        batcher = self.__dict__.get("_shopbot_nlu_batcher")
        if batcher is None:
            batcher = self.__dict__["_shopbot_nlu_batcher"] = NluBatcher(self, size)
        parse_data = await batcher.parse(message, tracker, only_output_properties)
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.shopbot_batched = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
    MessageProcessor.__init__ = __init__  # type: ignore[method-assign]
    logger.info(
        "NLU: messages waiting together are parsed in one pass (up to %d), %s",
        size,
        "in a worker process" if mode == "process" else "in the server",
    )


def _start_worker(processor: Any) -> Any:
    """A worker process for the processor's model, stopped with the processor (a model reload
    makes a new processor); None when the archive cannot be told (the server parses itself)."""
    if processor.http_interpreter:
        return None
    archive = model_archive(processor)
    if archive is None:
        logger.warning("No NLU worker: the loaded model's archive is no longer at its path")
        return None
    worker = NluWorker(archive)
    weakref.finalize(processor, worker.close)
    return worker
