"""Generators: the OpenAI-compatible client against a real local HTTP server; a local LM directory."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from knowledge.generator import (
    GeneratorError,
    GeneratorSettings,
    LocalGenerator,
    OpenAICompatibleGenerator,
    make_generator,
)
from knowledge.prompt import END, SYSTEM_INSTRUCTIONS

CANNED = "The Guillow Airplane Design Studio costs $28.91 [P:18018b6b]."


class _Handler(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible server: canned completions, JSON or server-sent events."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # silence the test output
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        if body.get("model") == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"internal error")
            return
        chat = self.path == "/v1/chat/completions"
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            self.send_response(404)
            self.end_headers()
            return
        if not body.get("stream"):
            choice = (
                {"message": {"role": "assistant", "content": CANNED}}
                if chat
                else {"text": " " + CANNED + END}
            )
            self._send(200, "application/json", json.dumps({"choices": [choice]}).encode())
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for word in CANNED.split(" "):
            piece = " " + word
            choice = {"delta": {"content": piece}} if chat else {"text": piece}
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(self, status: int, kind: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture()
def server() -> Iterator[str]:
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_completions_api_generate_and_stream(server: str) -> None:
    client = OpenAICompatibleGenerator(server + "/v1/", "shopbot-demo", api_key="secret", timeout=5)
    assert client.generate("<|sources|>...<|answer|>", max_new_tokens=40) == CANNED
    pieces = list(client.stream("<|sources|>...<|answer|>", max_new_tokens=40))
    assert len(pieces) > 3
    assert "".join(pieces).strip() == CANNED
    first = _Handler.requests[0]
    assert first["path"] == "/v1/completions"
    assert first["auth"] == "Bearer secret"
    assert first["body"]["prompt"] == "<|sources|>...<|answer|>"
    assert first["body"]["temperature"] == 0
    assert first["body"]["max_tokens"] == 40
    assert first["body"]["stop"] == [END]
    assert _Handler.requests[1]["body"]["stream"] is True
    client.close()


def test_chat_api_sends_the_rules_as_system_message(server: str) -> None:
    client = OpenAICompatibleGenerator(server, "llama", api="chat", timeout=5)
    assert client.generate("PROMPT") == CANNED
    assert "".join(client.stream("PROMPT")).strip() == CANNED
    messages = _Handler.requests[0]["body"]["messages"]
    assert messages[0] == {"role": "system", "content": SYSTEM_INSTRUCTIONS}
    assert messages[1] == {"role": "user", "content": "PROMPT"}
    assert _Handler.requests[0]["path"] == "/v1/chat/completions"


def test_server_errors_raise_a_clear_error(server: str) -> None:
    client = OpenAICompatibleGenerator(server, "broken", timeout=5)
    with pytest.raises(GeneratorError, match="SHOPBOT_GENERATOR_URL"):
        client.generate("x")
    with pytest.raises(GeneratorError, match="500"):
        list(client.stream("x"))


def test_unreachable_server_raises_generator_error() -> None:
    client = OpenAICompatibleGenerator("http://127.0.0.1:9", "m", timeout=0.5)
    with pytest.raises(GeneratorError, match=re.escape("127.0.0.1:9")):
        client.generate("x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "localhost:8000", "model": "m"}, "base_url"),
        ({"base_url": "http://x", "model": ""}, "SHOPBOT_GENERATOR_MODEL"),
        ({"base_url": "http://x", "model": "m", "api": "soap"}, "api"),
        ({"base_url": "http://x", "model": "m", "timeout": 0}, "timeout"),
    ],
)
def test_bad_client_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OpenAICompatibleGenerator(**kwargs)


def test_factory_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SHOPBOT_GENERATOR_URL", raising=False)
    monkeypatch.setenv("SHOPBOT_GENERATOR_DECODER", "transformers")
    local = make_generator(tmp_path)
    assert isinstance(local, LocalGenerator) and local.decoder_name == "transformers"
    monkeypatch.setenv("SHOPBOT_GENERATOR_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("SHOPBOT_GENERATOR_MODEL", "qwen")
    monkeypatch.setenv("SHOPBOT_GENERATOR_API", "chat")
    generator = make_generator(tmp_path)
    assert isinstance(generator, OpenAICompatibleGenerator)
    assert (generator.model, generator.api) == ("qwen", "chat")
    monkeypatch.setenv("SHOPBOT_GENERATOR_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="SHOPBOT_GENERATOR_TIMEOUT"):
        GeneratorSettings.from_settings()


@pytest.fixture(scope="module")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained 2-layer GPT-2 with a BPE tokenizer trained on a few lines (seconds)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from training.train_tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tiny_lm")
    texts = [
        "The Guillow Airplane Design Studio costs $28.91.",
        "Our return policy is 30 days.",
    ] * 20
    tokenizer = train_tokenizer(texts, vocab_size=320)
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=2, n_head=2,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    (out / "generator_config.json").write_text(
        json.dumps(
            {
                "prompt_budget": {
                    "max_prompt_tokens": 40,
                    "max_source_tokens": 16,
                    "max_question_tokens": 8,
                    "max_history_tokens": 8,
                },
                "max_new_tokens": 12,
            }
        )
    )
    return out


def test_local_generator_loads_a_directory(tiny_lm_dir: Path) -> None:
    generator = LocalGenerator(tiny_lm_dir, device="cpu")
    assert not generator.loaded  # nothing loads in __init__
    generator.warm_up()
    assert generator.loaded
    assert generator.max_context == 64
    assert generator.budget.max_prompt_tokens == 40
    assert generator.default_max_new_tokens == 12
    prompt = "<|sources|>\nThe Guillow costs $28.91.\n<|question|>\nHow much?\n<|answer|>"
    text = generator.generate(prompt, max_new_tokens=8)
    streamed = "".join(generator.stream(prompt, max_new_tokens=8))
    assert text == streamed.strip()  # greedy: the same tokens either way
    assert generator.count_tokens(text) <= 8 + 2
    assert "<|" not in text
    # A prompt longer than the context is cut from the left instead of crashing.
    assert isinstance(generator.generate("word " * 200, max_new_tokens=4), str)
    # The lean decoder (the default) writes what the model's own forward pass writes.
    assert type(generator._decoding).__name__ == "LeanGpt2"
    reference = LocalGenerator(tiny_lm_dir, device="cpu", decoder="transformers")
    assert reference.generate(prompt, max_new_tokens=8) == text
    assert type(reference._decoding).__name__ == "TransformersDecoding"
    with pytest.raises(ValueError, match="max_new_tokens"):
        list(generator.stream(prompt, max_new_tokens=0))


def test_local_generator_without_model_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="train-generator"):
        LocalGenerator(tmp_path).warm_up()


PROMPTS = [
    "<|sources|>\nThe Guillow costs $28.91.\n<|question|>\nHow much?\n<|answer|>",
    "<|question|>\nreturns?\n<|answer|>",
    "Our return policy is 30 days. The Guillow Airplane Design Studio costs $28.91. <|answer|>",
    "costs",
    "<|sources|>\nOur return policy is 30 days.\n<|question|>\nCan I send it back?\n<|answer|>",
]


class _SlowFirstStart:
    """The real decoding, but its first batch waits, so the other prompts queue behind it and
    the next batch holds all of them."""

    def __init__(self, decoding: Any) -> None:
        self.decoding = decoding
        self.calls = 0

    def start(self, rows: list[list[int]], pad_id: int, max_new_tokens: int) -> Any:
        import time

        self.calls += 1
        if self.calls == 1:
            time.sleep(0.3)
        return self.decoding.start(rows, pad_id, max_new_tokens)


def _concurrently(generator: LocalGenerator, prompts: list[str], max_new: int) -> list[str]:
    out = [""] * len(prompts)

    def work(i: int) -> None:
        out[i] = generator.generate(prompts[i], max_new_tokens=max_new)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(prompts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return out


def test_batched_decoding_writes_what_each_prompt_alone_writes(tiny_lm_dir: Path) -> None:
    alone = LocalGenerator(tiny_lm_dir, device="cpu", threads=1)
    batched = LocalGenerator(tiny_lm_dir, device="cpu", threads=1, batch=4)
    batched.warm_up()
    assert batched._decoder is not None
    batched._decoder.decoding = _SlowFirstStart(batched._decoder.decoding)
    expected = [alone.generate(p, max_new_tokens=10) for p in PROMPTS]
    assert _concurrently(batched, PROMPTS, 10) == expected
    # Prompts of different lengths really were decoded together (left-padded), at most 4 at once:
    # whichever batch went first, the prompts that waited behind its slow first step went together.
    assert 2 <= batched._decoder.largest_batch <= 4
    assert batched._decoder.batches < len(PROMPTS)
    # A lone prompt afterwards: a batch of one.
    assert batched.generate(PROMPTS[1], max_new_tokens=10) == expected[1]


def test_the_batch_decoder_stops_where_it_is_told(tiny_lm_dir: Path) -> None:
    from knowledge.batch_decoding import BatchDecoder

    generator = LocalGenerator(tiny_lm_dir, device="cpu", threads=1)
    generator.warm_up()
    ids = generator._tokenizer.encode(PROMPTS[0], add_special_tokens=False)
    free = BatchDecoder(generator._decoding, set(), pad_id=0)
    tokens = list(free.tokens(ids, 7))
    assert len(tokens) == 7  # no stop token: exactly max_new_tokens
    stopped = BatchDecoder(generator._decoding, {tokens[2]}, pad_id=0)
    assert list(stopped.tokens(ids, 7)) == tokens[: tokens.index(tokens[2])]  # stop not yielded
    with pytest.raises(ValueError, match="max_new_tokens"):
        list(free.tokens(ids, 0))


def test_a_failed_batch_reaches_its_callers_and_the_decoder_goes_on(tiny_lm_dir: Path) -> None:
    from knowledge.batch_decoding import BatchDecoder

    generator = LocalGenerator(tiny_lm_dir, device="cpu", threads=1)
    generator.warm_up()

    class Broken:
        def start(self, rows: list[list[int]], pad_id: int, max_new_tokens: int) -> Any:
            raise RuntimeError("out of memory")

    decoder = BatchDecoder(Broken(), set(), pad_id=0)
    with pytest.raises(RuntimeError, match="out of memory"):
        list(decoder.tokens([5, 6, 7], 3))
    decoder.decoding = generator._decoding
    assert len(list(decoder.tokens([5, 6, 7], 3))) == 3
