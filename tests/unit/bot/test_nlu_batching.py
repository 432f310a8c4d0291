"""bot/nlu_batching.py: messages waiting together go through the NLU graph in one pass."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.shared.nlu.training_data.message import Message

from bot.nlu_batching import NluBatcher


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
