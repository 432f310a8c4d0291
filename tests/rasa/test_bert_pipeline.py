"""The BERT intent + sentiment components inside a real `rasa train nlu` and `rasa test nlu`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}

pytestmark = pytest.mark.rasa


def tiny_config(sentiment_model: Path) -> dict[str, object]:
    """The recommended pipeline shape with tiny budgets."""
    return {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "bert-pipeline-test",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "RegexEntityExtractor", "use_regexes": True, "use_lookup_tables": True},
            {"name": "CRFEntityExtractor"},
            {"name": "EntitySynonymMapper"},
            {
                "name": "bot.nlu.intent_classifier.BertIntentClassifier",
                "preset": "tiny",
                "device": "cpu",
            },
            {"name": "bot.nlu.sentiment.BertSentimentAnalyzer", "model_path": str(sentiment_model)},
            {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
        ],
        "policies": [],
    }


def rasa(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "rasa", *args], cwd=ROOT, env=ENV, check=True)


def test_train_test_and_parse_with_bert_components(tmp_path: Path) -> None:
    from training.train_sentiment import main as train_sentiment

    sentiment = tmp_path / "sentiment"
    assert train_sentiment([
        "--train", str(FIXTURES / "sentiment" / "train.csv"),
        "--eval", str(FIXTURES / "sentiment" / "eval.csv"),
        "--out", str(sentiment), "--preset", "tiny", "--device", "cpu", "--latency-samples", "1",
    ]) == 0  # fmt: skip
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(tiny_config(sentiment), sort_keys=False), encoding="utf-8")

    rasa("train", "nlu", "--config", str(config), "--nlu", str(FIXTURES / "nlu" / "rasa_nlu.yml"),
         "--out", str(tmp_path / "models"), "--fixed-model-name", "nlu")  # fmt: skip
    model = tmp_path / "models" / "nlu.tar.gz"
    with tarfile.open(model) as archive:
        names = archive.getnames()
    assert any("BertIntentClassifier" in n and n.endswith("head.safetensors") for n in names)
    assert any("BertIntentClassifier" in n and n.endswith("calibration.json") for n in names)
    assert any("BertSentimentAnalyzer" in n and n.endswith("sentiment_model.json") for n in names)

    results = tmp_path / "results"
    rasa("test", "nlu", "--model", str(model), "--nlu", str(FIXTURES / "nlu" / "rasa_nlu_test.yml"),
         "--out", str(results))  # fmt: skip
    report = json.loads((results / "intent_report.json").read_text())
    assert report["accuracy"] >= 0.75
    assert report["get_refund"]["recall"] >= 0.75
    # rasa test lists a sentiment entity it did not expect as an extractor "error" per message.
    predicted = json.loads((results / "BertSentimentAnalyzer_errors.json").read_text())
    assert len(predicted) >= 30
    for item in predicted:
        (entity,) = [
            e for e in item["predicted_entities"] if e["extractor"] == "BertSentimentAnalyzer"
        ]
        assert entity["entity"] == "sentiment"
        assert entity["value"] in {"negative", "neutral", "positive"}

    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parsed = asyncio.run(agent.parse_message("I want a refund for order 123456, this is awful"))
    intents = {"get_refund", "cancel_order", "track_order", "change_shipping_address"}
    assert parsed["intent"]["name"] in intents | {"out_of_scope", "nlu_fallback"}
    assert 1 < len(parsed["intent_ranking"]) <= 11
    assert parsed["oos"]["top_intent"] in intents
    assert 0.0 < parsed["oos"]["threshold"] < 1.0
    assert parsed["sentiment"]["label"] in {"negative", "neutral", "positive"}
    entities = {e["entity"]: e for e in parsed["entities"]}
    assert entities["sentiment"]["extractor"] == "BertSentimentAnalyzer"
    assert entities["order_number"]["value"] == "123456"

    # Several messages parsed in one pass of the same graph (bot.nlu_batching, as the Rasa server
    # does for messages that wait together) get what each gets alone.
    from rasa.core.channels.channel import UserMessage

    from bot.nlu_batching import NluBatcher

    processor = agent.processor
    assert processor is not None
    texts = [
        "I want a refund for order 123456, this is awful",
        "where is my parcel",
        "thanks so much!",
        "cancel order 104233 please",
        "",
        "my email is jo@example.com",
    ]
    from rasa.shared.core.trackers import DialogueStateTracker

    empty = DialogueStateTracker.from_events("a", [])
    alone = [
        processor._parse_message_with_graph(UserMessage(t, sender_id="a"), empty) for t in texts
    ]
    batcher = NluBatcher(processor)

    async def together() -> list[dict[str, object]]:
        calls = [
            batcher.parse(UserMessage(t, sender_id=f"s{i}"), None) for i, t in enumerate(texts)
        ]
        return list(await asyncio.gather(*calls))

    batched = asyncio.run(together())
    assert (batcher.batches, batcher.largest_batch) == (1, len(texts))
    for one, many in zip(alone, batched, strict=True):
        assert many["text"] == one["text"]
        assert many["intent"]["name"] == one["intent"]["name"]
        assert many["intent"]["confidence"] == pytest.approx(one["intent"]["confidence"], abs=1e-4)
        assert [(e["entity"], e["value"]) for e in many["entities"]] == [
            (e["entity"], e["value"]) for e in one["entities"]
        ]

    # The same messages through a worker process that loads the same archive (bot.nlu_worker, as
    # the Rasa server parses by default on more than one core) get the same parse data.
    from bot.nlu_worker import NluWorker, model_archive

    archive = model_archive(processor)
    assert archive == model
    worker = NluWorker(archive)
    try:
        deadline = time.monotonic() + 300
        while not worker.ready and time.monotonic() < deadline:
            time.sleep(0.2)
        assert worker.ready, f"the worker did not start (exit code {worker.process.exitcode})"
        in_worker = NluBatcher(processor, worker=worker)

        async def through_worker() -> list[dict[str, object]]:
            calls = [
                in_worker.parse(UserMessage(t, sender_id=f"w{i}"), None)
                for i, t in enumerate(texts)
            ]
            return list(await asyncio.gather(*calls))

        parsed_there = asyncio.run(through_worker())
        assert in_worker.worker_batches == 1
        for one, there in zip(alone, parsed_there, strict=True):
            assert there["text"] == one["text"]
            assert there["intent"]["name"] == one["intent"]["name"]
            assert there["intent"]["confidence"] == pytest.approx(
                one["intent"]["confidence"], abs=1e-4
            )
            # (the empty message has no sentiment, in the worker or here)
            assert there.get("sentiment", {}).get("label") == one.get("sentiment", {}).get("label")
            assert [(e["entity"], e["value"]) for e in there["entities"]] == [
                (e["entity"], e["value"]) for e in one["entities"]
            ]
    finally:
        worker.close()
