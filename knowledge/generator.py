"""Answer generators: a local causal LM directory, or an OpenAI-compatible server (vLLM, Ollama).

Both implement ``knowledge.types.Generator`` and get the same prompt (``knowledge.prompt``); the
answer pipeline verifies whatever they return the same way. :func:`make_generator` picks one from
settings: ``SHOPBOT_GENERATOR_URL`` set → the server, else the local directory.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.device import resolve_device_name
from core.settings import Settings
from knowledge.batch_decoding import BatchDecoder, Decoding, greedy_decoding
from knowledge.prompt import (
    END,
    SPECIAL_TOKENS,
    SYSTEM_INSTRUCTIONS,
    PromptBudget,
    clean_completion,
)

logger = logging.getLogger(__name__)

GENERATOR_CONFIG = "generator_config.json"
API_KINDS = ("completions", "chat")


class GeneratorError(RuntimeError):
    """The generator could not produce an answer (model missing, server unreachable, bad reply)."""


class LocalGenerator:
    """Greedy decoding with any local Hugging Face causal-LM directory.

    The directory written by ``shopbot train-generator`` also holds ``generator_config.json`` (the
    prompt budget the model was trained with); any other causal LM directory works with defaults.

    Args:
        model_dir: A directory loadable with ``AutoModelForCausalLM.from_pretrained``.
        device: ``cuda``/``cpu``; default: cuda when available.
        threads: CPU threads for torch (None: torch's default).
        batch: Decode up to this many concurrent answers together on one thread
            (:class:`knowledge.batch_decoding.BatchDecoder`); 1: each caller decodes its own in its
            own thread.
        decoder: ``lean`` (GPT-2 models through :mod:`knowledge.lean_gpt2`) or ``transformers``
            (the model's own forward pass); see :func:`knowledge.batch_decoding.greedy_decoding`.
    """

    def __init__(
        self,
        model_dir: str | Path,
        device: str | None = None,
        threads: int | None = None,
        batch: int = 1,
        decoder: str = "lean",
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1. Currently, batch is {batch}.")
        self.model_dir = Path(model_dir)
        self.requested_device = device
        self.threads = threads
        self.batch = batch
        self.decoder_name = decoder
        self._decoding: Decoding | None = None
        self._decoder: BatchDecoder | None = None
        self.name = f"local:{self.model_dir.name}"
        self._model: Any = None
        self._tokenizer: Any = None
        self._stop_ids: set[int] = set()
        self._pad_id = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self.config: dict[str, Any] = {}
        self.device = "cpu"

    # ------------------------------------------------------------------------------ loading

    def warm_up(self) -> None:
        """Load tokenizer and model (once); raises GeneratorError when the directory is unusable."""
        with self._lock:
            if self._model is not None:
                return
            if not (self.model_dir / "config.json").exists():
                raise GeneratorError(
                    f"No causal LM at {self.model_dir} (config.json missing). Train one with "
                    "`shopbot train-generator` or set SHOPBOT_GENERATOR_URL to use a server."
                )
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if self.threads:
                torch.set_num_threads(self.threads)
            config_path = self.model_dir / GENERATOR_CONFIG
            if config_path.exists():
                self.config = json.loads(config_path.read_text(encoding="utf-8"))
            self.device = resolve_device_name(self.requested_device)
            self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
            model: Any = AutoModelForCausalLM.from_pretrained(str(self.model_dir))
            self._model = model.to(self.device).eval()
            vocab = self._tokenizer.get_vocab()
            self._stop_ids = {vocab[t] for t in SPECIAL_TOKENS if t in vocab}
            if self._tokenizer.eos_token_id is not None:
                self._stop_ids.add(int(self._tokenizer.eos_token_id))
            self._decoding = greedy_decoding(self._model, self.device, self.decoder_name)
            pad = self._tokenizer.pad_token_id
            self._pad_id = int(pad if pad is not None else 0)
            if self.batch > 1:
                self._decoder = BatchDecoder(
                    self._decoding, self._stop_ids, pad_id=self._pad_id, max_batch=self.batch
                )
            logger.info(
                "Loaded generator %s on %s (%.2fM parameters, context %d, decoding %s)",
                self.model_dir,
                self.device,
                sum(p.numel() for p in self._model.parameters()) / 1e6,
                self.max_context,
                type(self._decoding).__name__,
            )

    @property
    def loaded(self) -> bool:
        """Whether :meth:`warm_up` has run."""
        return self._model is not None

    @property
    def max_context(self) -> int:
        """The model's context length in tokens."""
        self._require()
        config = self._model.config
        return int(getattr(config, "n_positions", None) or config.max_position_embeddings)

    @property
    def budget(self) -> PromptBudget:
        """The prompt budget the model was trained with (or one that fits its context)."""
        self._require()
        if "prompt_budget" in self.config:
            return PromptBudget(**self.config["prompt_budget"])
        room = max(128, min(self.max_context, 2048) - self.default_max_new_tokens)
        return PromptBudget(max_prompt_tokens=room, max_source_tokens=max(64, room // 3))

    @property
    def default_max_new_tokens(self) -> int:
        """The answer length the model was trained for (96 for foreign models)."""
        return int(self.config.get("max_new_tokens", 96))

    def count_tokens(self, text: str) -> int:
        """Number of tokens of ``text`` with the model's tokenizer (recent texts are cached: the
        same passages recur across questions)."""
        self._require()
        cached = self._counts.get(text)
        if cached is None:
            cached = len(self._tokenizer.encode(text, add_special_tokens=False))
            if len(self._counts) >= 8192:
                self._counts.clear()
            self._counts[text] = cached
        return cached

    def _require(self) -> None:
        if self._model is None:
            self.warm_up()

    # ----------------------------------------------------------------------------- decoding

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        """Return the greedy completion of ``prompt``, cut at ``<|end|>``."""
        return clean_completion("".join(self.stream(prompt, max_new_tokens)))

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        """Yield the completion piece by piece (greedy, KV cache, stops at any special token)."""
        self._require()
        if max_new_tokens <= 0:
            raise ValueError(
                f"max_new_tokens must be greater than 0. Currently, max_new_tokens is {max_new_tokens}"
            )
        ids = self._tokenizer.encode(prompt, add_special_tokens=False)
        limit = self.max_context - max_new_tokens
        if len(ids) > limit:
            logger.warning(
                "Prompt of %d tokens exceeds the %d-token context minus %d answer tokens; "
                "keeping its last %d tokens",
                len(ids),
                self.max_context,
                max_new_tokens,
                limit,
            )
            ids = ids[-limit:]
        generated: list[int] = []
        emitted = ""
        decode = self._decoder.tokens if self._decoder is not None else self._tokens
        for token in decode(ids, max_new_tokens):
            generated.append(token)
            text = self._tokenizer.decode(generated, skip_special_tokens=False)
            if text.endswith("\ufffd"):
                continue  # a multi-byte character is not complete yet
            delta, emitted = text[len(emitted) :], text
            if delta:
                yield delta

    def _tokens(self, ids: list[int], max_new_tokens: int) -> Iterator[int]:
        """Greedy decoding of one prompt in the caller's thread (``batch`` 1)."""
        assert self._decoding is not None
        session = self._decoding.start([ids], self._pad_id, max_new_tokens)
        token = session.first[0]
        for produced in range(1, max_new_tokens + 1):
            if token in self._stop_ids:
                return
            yield token
            if produced < max_new_tokens:
                token = session.step([token])[0]


class OpenAICompatibleGenerator:
    """A client for an OpenAI-compatible server (vLLM, Ollama, llama.cpp server).

    Uses ``/v1/completions`` (the raw prompt, stop at ``<|end|>``) or ``/v1/chat/completions`` (the
    rules as a system message, the prompt as the user message); greedy (temperature 0); streams via
    server-sent events.

    Args:
        base_url: Server root, e.g. ``http://127.0.0.1:8000`` (a trailing ``/v1`` is accepted).
        model: Model name the server knows.
        api_key: Bearer token, if the server wants one.
        timeout: Seconds to wait for the server.
        api: ``completions`` or ``chat``.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 30.0,
        api: str = "completions",
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://. Currently, base_url is {base_url!r}."
            )
        if not model:
            raise ValueError(
                "model must name the served model (set SHOPBOT_GENERATOR_MODEL). Currently, it is empty."
            )
        if api not in API_KINDS:
            raise ValueError(f"api must be one of {API_KINDS}. Currently, api is {api!r}.")
        if timeout <= 0:
            raise ValueError(f"timeout must be greater than 0. Currently, timeout is {timeout}.")
        root = base_url.rstrip("/")
        self.base_url = root[: -len("/v1")] if root.endswith("/v1") else root
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.api = api
        self.name = f"openai:{model}"
        self._client: Any = None

    def warm_up(self) -> None:
        """Create the HTTP client (no request is made)."""
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(
                base_url=self.base_url, timeout=self.timeout, headers=headers
            )

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def endpoint(self) -> str:
        """The path requests go to."""
        return "/v1/completions" if self.api == "completions" else "/v1/chat/completions"

    def _payload(self, prompt: str, max_new_tokens: int, stream: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_new_tokens,
            "temperature": 0,
            "stream": stream,
            "stop": [END],
        }
        if self.api == "completions":
            payload["prompt"] = prompt
        else:
            payload["messages"] = [
                {"role": "system", "content": SYSTEM_INSTRUCTIONS},
                {"role": "user", "content": prompt},
            ]
        return payload

    def _piece(self, choice: dict[str, Any], streaming: bool) -> str:
        if self.api == "completions":
            return str(choice.get("text") or "")
        key = "delta" if streaming else "message"
        return str((choice.get(key) or {}).get("content") or "")

    def _fail(self, reason: str) -> GeneratorError:
        return GeneratorError(
            f"Generator server {self.base_url}{self.endpoint} (model {self.model!r}) failed: {reason}. "
            "Check SHOPBOT_GENERATOR_URL / SHOPBOT_GENERATOR_MODEL and that the server is running."
        )

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        """Return the server's completion for ``prompt``."""
        import httpx

        self.warm_up()
        try:
            response = self._client.post(
                self.endpoint, json=self._payload(prompt, max_new_tokens, stream=False)
            )
            response.raise_for_status()
            data = response.json()
            return clean_completion(self._piece(data["choices"][0], streaming=False))
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise self._fail(f"{type(exc).__name__}: {exc}") from exc

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        """Yield completion pieces from the server's event stream (``data: {...}`` lines)."""
        import httpx

        self.warm_up()
        payload = self._payload(prompt, max_new_tokens, stream=True)
        try:
            with self._client.stream("POST", self.endpoint, json=payload) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[len("data:") :].strip()
                    if data == "[DONE]":
                        break
                    choices = json.loads(data).get("choices") or []
                    piece = self._piece(choices[0], streaming=True) if choices else ""
                    if piece:
                        yield piece
        except (httpx.HTTPError, ValueError, IndexError) as exc:
            raise self._fail(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class GeneratorSettings:
    """Which generator to use (from the runtime settings, see :meth:`from_settings`).

    Args:
        url: OpenAI-compatible server root; empty → the local model directory.
        model: Served model name (required with ``url``).
        api_key: Bearer token for the server.
        api: ``completions`` or ``chat``.
        timeout: Seconds per request.
        device: Device of the local model (default: cuda when available).
        threads: CPU threads of the local model (default: torch's choice).
        batch: Concurrent answers the local model decodes together (1: each on its own).
        decoder: ``lean`` or ``transformers`` (see :class:`LocalGenerator`).
    """

    url: str = ""
    model: str = ""
    api_key: str = ""
    api: str = "completions"
    timeout: float = 30.0
    device: str | None = None
    threads: int | None = None
    batch: int = 1
    decoder: str = "lean"

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> GeneratorSettings:
        """The generator part of the runtime settings (``SHOPBOT_GENERATOR_*``)."""
        settings = settings or Settings()
        return cls(
            url=settings.generator_url,
            model=settings.generator_model,
            api_key=settings.generator_api_key,
            api=settings.generator_api,
            timeout=settings.generator_timeout,
            device=settings.generator_device or None,
            threads=settings.generator_threads,
            batch=settings.generator_batch,
            decoder=settings.generator_decoder,
        )


class PassageOnlyGenerator:
    """Writes nothing, so every answer is the pipeline's verified best passage (or its honest
    "I don't know"): the baseline that generated answers are measured against (``make bench``),
    and what a store gets with generation switched off."""

    name = "passage-only"

    def warm_up(self) -> None:
        """Nothing to load."""

    def generate(self, prompt: str, max_new_tokens: int = 96) -> str:
        """An empty completion."""
        return ""

    def stream(self, prompt: str, max_new_tokens: int = 96) -> Iterator[str]:
        """No pieces."""
        return iter(())


def make_generator(
    model_dir: str | Path, settings: GeneratorSettings | None = None
) -> LocalGenerator | OpenAICompatibleGenerator:
    """Return the configured generator: the server when ``settings.url`` is set, else the local
    directory ``model_dir``. Nothing is loaded until ``warm_up()`` (or the first call)."""
    settings = settings or GeneratorSettings.from_settings()
    if settings.url:
        logger.info(
            "Generator: OpenAI-compatible server %s, model %s", settings.url, settings.model
        )
        return OpenAICompatibleGenerator(
            settings.url, settings.model, settings.api_key or None, settings.timeout, settings.api
        )
    logger.info(
        "Generator: local model directory %s (decoding batches of up to %d)",
        model_dir,
        settings.batch,
    )
    return LocalGenerator(
        model_dir, settings.device, settings.threads, settings.batch, settings.decoder
    )
