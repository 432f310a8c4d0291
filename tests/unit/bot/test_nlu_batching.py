"""bot/nlu_batching.py: messages waiting together go through the NLU graph in one pass, in the
server or in its worker process (bot/nlu_worker.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.shared.nlu.training_data.message import Message

from bot import nlu_worker
from bot.nlu_batching import NluBatcher
from bot.nlu_worker import NluWorker
from tests import nlu_worker_doubles


class _Graph:
    """The graph runner's double: 'parses' each message's text into an intent of that name."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def run(self, inputs: dict[str, Any], targets: list[str]) -> dict[str, Any]:
        texts = [m.text for m in inputs[PLACEHOLDER_MESSAGE]]
        self.calls.append(texts)
        if "boom" in texts:
            raise RuntimeError("the CRF fell over")
        parsed = [Message(data={"text": t}, output_properties={"text"}) for t in texts]
        for message, text in zip(parsed, texts, strict=True):
            message.set("intent", {"name": text.split()[0], "confidence": 0.9}, add_to_output=True)
        return {targets[0]: parsed}


def _processor() -> Any:
    return SimpleNamespace(graph_runner=_Graph(), model_metadata=SimpleNamespace(nlu_target="nlu"))


async def _parse_all(batcher: NluBatcher, texts: list[str]) -> list[Any]:
    calls = [batcher.parse(UserMessage(t, sender_id=f"s{i}"), None) for i, t in enumerate(texts)]
    return await asyncio.gather(*calls, return_exceptions=True)


def test_messages_arriving_together_are_parsed_in_one_pass_each_getting_its_own() -> None:
    batcher = NluBatcher(_processor(), max_batch=3)
    texts = ["greet hi", "track_order where is 104233", "thank thanks", "deny no", "affirm yes"]
    results = asyncio.run(_parse_all(batcher, texts))
    assert [r["intent"]["name"] for r in results] == [t.split()[0] for t in texts]
    assert [r["text"] for r in results] == texts
    assert all(r["entities"] == [] for r in results)  # Rasa's defaults are filled in
    assert batcher.processor.graph_runner.calls == [texts[:3], texts[3:]]  # at most 3 a pass
    assert (batcher.batches, batcher.largest_batch) == (2, 3)


def test_a_message_alone_is_parsed_alone_without_waiting_for_company() -> None:
    batcher = NluBatcher(_processor())

    async def one_after_another() -> list[str]:
        first = await batcher.parse(UserMessage("greet hello"), None)
        second = await asyncio.wait_for(batcher.parse(UserMessage("thank ta"), None), 1)
        return [first["intent"]["name"], second["intent"]["name"]]

    assert asyncio.run(one_after_another()) == ["greet", "thank"]
    assert batcher.processor.graph_runner.calls == [["greet hello"], ["thank ta"]]


def test_a_message_the_pipeline_cannot_parse_fails_alone() -> None:
    batcher = NluBatcher(_processor())
    results = asyncio.run(_parse_all(batcher, ["greet hi", "boom", "thank ta"]))
    assert results[0]["intent"]["name"] == "greet" and results[2]["intent"]["name"] == "thank"
    assert isinstance(results[1], RuntimeError)
    # The batch failed, then each message went through on its own.
    assert batcher.processor.graph_runner.calls[0] == ["greet hi", "boom", "thank ta"]
    assert batcher.processor.graph_runner.calls[1:] == [["greet hi"], ["boom"], ["thank ta"]]


def test_a_lone_message_that_fails_is_not_parsed_twice() -> None:
    batcher = NluBatcher(_processor())
    (result,) = asyncio.run(_parse_all(batcher, ["boom"]))
    assert isinstance(result, RuntimeError)
    assert batcher.processor.graph_runner.calls == [["boom"]]


def test_the_batch_size_is_checked() -> None:
    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        NluBatcher(_processor(), max_batch=0)


# With a worker process (bot.nlu_worker): real processes running tests/nlu_worker_doubles.py.


def _worker(serve: Any) -> NluWorker:
    worker = NluWorker(Path("model.tar.gz"), serve=serve)
    deadline = time.monotonic() + 60
    while not worker._ready.done() and time.monotonic() < deadline:
        time.sleep(0.05)
    return worker


@pytest.fixture
def echo_worker() -> Iterator[NluWorker]:
    worker = _worker(nlu_worker_doubles.echo)
    yield worker
    worker.close()


def test_with_a_ready_worker_the_batch_is_parsed_in_the_worker_process(
    echo_worker: NluWorker,
) -> None:
    batcher = NluBatcher(_processor(), max_batch=3, worker=echo_worker)
    texts = ["greet hi", "track_order where is 104233", "thank thanks", "deny no", "affirm yes"]
    results = asyncio.run(_parse_all(batcher, texts))
    assert [r["intent"]["name"] for r in results] == [t.split()[0] for t in texts]
    assert {r["pid"] for r in results} == {echo_worker.process.pid}  # not this process
    assert batcher.processor.graph_runner.calls == []
    # One batch in the worker at a time; the messages that came meanwhile form the next one.
    assert batcher.worker_batches == batcher.batches == 2


def test_a_message_the_worker_cannot_parse_is_parsed_here_and_fails_as_rasa_fails(
    echo_worker: NluWorker,
) -> None:
    batcher = NluBatcher(_processor(), worker=echo_worker)
    results = asyncio.run(_parse_all(batcher, ["greet hi", "boom", "thank ta"]))
    assert results[0]["pid"] == results[2]["pid"] == echo_worker.process.pid
    assert isinstance(results[1], RuntimeError)  # the server's own graph raised it
    assert batcher.processor.graph_runner.calls == [["boom"]]
    assert echo_worker.ready  # one bad message does not stop the worker


def test_when_the_worker_dies_the_server_parses_the_batch_and_every_later_one(
    echo_worker: NluWorker, caplog: pytest.LogCaptureFixture
) -> None:
    batcher = NluBatcher(_processor(), worker=echo_worker)
    results = asyncio.run(_parse_all(batcher, ["greet hi", "die now"]))
    assert [r["intent"]["name"] for r in results] == ["greet", "die"]
    assert all("pid" not in r for r in results)  # parsed here
    assert echo_worker.gone and not echo_worker.ready
    assert "NLU worker process is gone" in caplog.text
    later = asyncio.run(_parse_all(batcher, ["thank ta"]))
    assert later[0]["intent"]["name"] == "thank" and "pid" not in later[0]


def test_a_worker_that_stops_answering_is_stopped_and_the_server_parses(
    echo_worker: NluWorker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nlu_worker, "REPLY_TIMEOUT_S", 0.5)
    batcher = NluBatcher(_processor(), worker=echo_worker)
    (result,) = asyncio.run(_parse_all(batcher, ["hang on"]))
    assert result["intent"]["name"] == "hang" and "pid" not in result
    assert echo_worker.gone
    echo_worker.process.join(10)
    assert not echo_worker.process.is_alive()


def test_a_worker_that_cannot_load_leaves_parsing_to_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = _worker(nlu_worker_doubles.broken)
    try:
        batcher = NluBatcher(_processor(), worker=worker)
        (result,) = asyncio.run(_parse_all(batcher, ["greet hi"]))
        assert result["intent"]["name"] == "greet" and "pid" not in result
        assert not worker.ready and worker.gone
        assert "NLU worker process did not start" in caplog.text
    finally:
        worker.close()


def test_until_the_worker_is_ready_the_server_parses() -> None:
    worker = SimpleNamespace(ready=False)
    batcher = NluBatcher(_processor(), worker=worker)
    (result,) = asyncio.run(_parse_all(batcher, ["greet hi"]))
    assert result["intent"]["name"] == "greet" and batcher.worker_batches == 0


def test_the_worker_exits_when_the_server_end_of_its_pipe_closes(echo_worker: NluWorker) -> None:
    echo_worker._conn.close()
    echo_worker.process.join(10)
    assert echo_worker.process.exitcode == 0
