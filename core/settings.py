"""The one runtime settings object, read from the environment (``SHOPBOT_*``).

Paths default to places inside the project checkout so ``make demo`` works with no configuration;
every value can be overridden by an environment variable for a real deployment.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import unquote, urlsplit

from core.client_key import parse_trusted_proxies
from core.env_values import env as _env
from core.env_values import env_float as _env_float
from core.env_values import env_int as _env_int
from core.env_values import env_optional_int as _env_optional_int
from core.env_values import env_switch as _env_switch
from core.env_values import env_value as _env_value
from core.env_values import mask_url as _mask_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("tiny", "demo", "full")
RETENTION_MODES = ("delete", "anonymise")
REPLY_CHECKS = ("prebuilt", "rasa")
TRACKER_STREAMINGS = ("count", "rasa")
SLOT_VALIDATIONS = ("local", "remote")
GENERATOR_DECODERS = ("lean", "transformers")
NLU_WORKERS = ("process", "inline")  # where the Rasa server parses (bot/nlu_worker.py)
ACTION_CONNECTIONS = ("pooled", "per-call")  # the Rasa server's action calls (bot/action_endpoint)


def _default_nlu_worker() -> str:
    """A worker process where it has a core to run on; one core gains nothing from it."""
    return "process" if (os.cpu_count() or 1) > 1 else "inline"


# How the MiniLM passage/query embedder runs (docs/decisions/020-onnx-embedder.md): ``torch`` is
# sentence-transformers in PyTorch fp32; ``onnx`` the same graph exported to ONNX Runtime (fp32);
# ``onnx-int8`` that graph with dynamically quantized int8 MatMuls (the CPU default, measured).
EMBEDDER_VARIANTS = ("torch", "onnx", "onnx-int8")
DEFAULT_EMBEDDER_VARIANT = "onnx-int8"
# What computes the intent and sentiment classifiers' logits on a CPU (decision 027): PyTorch
# (dynamic int8, as before) or the same classifier exported to ONNX Runtime (fp32 or int8).
NLU_RUNTIMES = ("torch", "onnx", "onnx-int8")


@dataclass
class Settings:
    """Runtime configuration of ShopBot.

    Args:
        root: Project root; relative paths below are resolved against it.
        preset: Model size preset (``tiny`` for tests, ``demo`` default, ``full`` for a GPU).
        host: Interface the servers bind to (loopback by default).
        rasa_port: Port of the Rasa server (REST channel and HTTP API).
        actions_port: Port of the action server.
        demo_port: Port of the demo store page (``bot/demo_store``) that ``shopbot run`` serves
            with the web widget on it.
        api_token: Token for Rasa's HTTP API (``?token=...``); generated once into
            ``var/api_token`` when not given.
        tracker_store_url: SQLAlchemy URL of the tracker store (``sqlite:///var/tracker.db`` or
            ``postgresql://user:pw@host:5432/db``).
        lock_store_url: ``redis://host:6379/0`` for a Redis lock store (several Rasa servers);
            empty for the in-memory lock store.
        store_db_url: SQLAlchemy URL of the store's order database.
        model_path: Trained Rasa model; empty → ``models/rasa/shopbot-<preset>.tar.gz``.
        knowledge_dir: Retrieval index and generator; empty → ``models/<preset>/knowledge``.
        embedder_variant: How the retrieval embedder runs: ``torch`` (sentence-transformers,
            fp32; use it on a GPU), ``onnx`` (ONNX Runtime fp32, CPU) or ``onnx-int8`` (ONNX
            Runtime with int8 weights, CPU; the default). The index manifest records the variant
            and serving refuses an index built with another one (rebuild: ``shopbot index
            --rebuild``). ONNX files are exported from the installed weights into
            ``models/embedders/`` on first use.
        nlu_runtime: What computes the intent and sentiment classifiers' logits on a CPU:
            ``onnx-int8`` (ONNX Runtime, int8 MatMuls; the default), ``onnx`` (fp32) or
            ``torch`` (PyTorch with dynamic int8, the path before decision 027 and the
            Throughput benchmark's baseline). Exported once per trained model into
            ``onnx_cache_dir``. On a GPU the classifiers run in PyTorch whatever this says.
        onnx_cache_dir: Where the classifiers' ONNX exports are cached, one folder per trained
            model (keyed by its content hash; never committed).
        embedder_max_seq_length: Tokens of a passage the embedder reads (longer ones are cut, as
            sentence-transformers does at the model's own 256); 0 → the model's own. 128 is what
            all-MiniLM-L6-v2 was trained with; on the retrieval test set it moved hybrid nDCG@10
            by -0.0005 and embeds faster (Indexing bench). Recorded in the index manifest like
            the variant.
        max_message_chars: Longest shopper message accepted by the channels.
        cors_origins: Space-separated origins allowed to call the servers from a browser.
        run_dir: Folder for the rendered server configuration and the server logs.
        corrections_dir: Where ``shopbot corrections export`` writes the accepted corrections
            (outside the tracked sources; every model trained afterwards learns from them).
        customer_token_secret: HMAC key of the signed customer tokens the store's widget passes
            for signed-in shoppers (``actions/store/tokens.py``); empty disables tokens.
        store_now: ISO date or datetime the order service treats as "now" (demos and tests on data
            seeded for a fixed date); empty → the real clock.
        app_db_url: SQLAlchemy URL of ShopBot's own application database (the web widget's
            event log; tables created by the Alembic migrations in ``bot/storage/migrations``).
        widget_secret: HMAC key that signs the web widget's conversation tokens; generated once
            into ``var/widget_secret`` when not given.
        widget_session_ttl: Seconds a widget conversation token stays valid (refreshed whenever
            the widget resumes the session).
        rest_secret: Bearer secret the REST channel requires (the store's own backend sends
            ``Authorization: Bearer <secret>``); generated once into ``var/rest_secret``.
        rest_auth: Whether the REST channel requires ``rest_secret`` (``SHOPBOT_REST_AUTH=off``
            only for local experiments).
        stream_secret: Bearer secret of the widget's internal token-stream route (the action
            server pushes generated tokens there); generated once into ``var/stream_secret``.
        stream_push_url: Where the action server pushes tokens; empty → the Rasa server's own
            ``/webhooks/widget/internal/stream`` on ``host``/``rasa_port``.
        log_level: Log level of the ``shopbot`` commands and the servers they start.
        warm_knowledge: Load the answer pipeline when the action server starts (``shopbot run``
            sets it) instead of on the first question.
        generator_url: An OpenAI-compatible server (vLLM, Ollama) that writes the answers; empty
            → the local generator directory under ``knowledge_dir``.
        generator_model: The served model's name (with ``generator_url``).
        generator_api_key: Bearer key of the served model, if it needs one.
        generator_api: ``completions`` or ``chat``.
        generator_timeout: Seconds per request to the served model.
        generator_device: Device of the local generator (empty → cuda when available).
        generator_threads: CPU threads of the local generator; default 1 (a server decodes
            concurrent answers in one batch: with torch's choice, two threads on two cores, the
            action server burned 1.2 cores for fewer messages); empty → torch's choice.
        generator_batch: How many concurrent answers the local generator decodes together on one
            thread (``knowledge/batch_decoding.py``); 1 decodes each answer in its own thread.
        generator_decoder: How the local generator runs its model: ``lean`` (GPT-2 models through
            ``knowledge/lean_gpt2.py``, the same arithmetic without transformers' per-step
            overhead; other models fall back to transformers) or ``transformers`` (the model's own
            forward pass: the benchmark baseline).
        nlu_batch: At most this many messages waiting to be parsed together go through the Rasa
            server's NLU graph in one pass (``bot/nlu_batching.py``); 1 parses each on its own,
            as Rasa does.
        nlu_worker: Where the Rasa server runs its NLU graph: ``process`` (a worker process of its
            own, ``bot/nlu_worker.py``: parsing leaves the server's interpreter; the default with
            more than one core) or ``inline`` (in the server's event loop, as Rasa does).
        action_connections: How the Rasa server calls the action server: ``pooled`` (kept-alive
            connections, ``bot/action_endpoint.py``) or ``per-call`` (a new connection for each
            action, as Rasa does).
        gc_freeze: Whether each server keeps its loaded models out of the garbage collector's
            scans once loaded (``core/heap.py``); off leaves Python's collector as it is.
        shared_states: Whether the Rasa server reuses the state it holds instead of replaying a
            conversation's events (``bot/policy_states.py``, ``bot/tracker_copy.py``).
        console_port: Port of the agent console (``bot/console``), served beside the Rasa server.
        console_secret: Key that signs the console's sign-in form tokens; generated once into
            ``var/console_secret`` when not given.
        console_https: Whether the console is served over HTTPS (directly or behind a proxy that
            terminates TLS): its cookies get ``Secure`` and pages a ``Strict-Transport-Security``.
        console_session_idle: Seconds a console session stays valid without a request.
        console_session_max: Seconds a console session stays valid at most, however busy.
        console_signin_limit_account: Sign-in attempts allowed per account (``limits`` syntax,
            e.g. ``5 per minute``), whether or not the account exists.
        console_signin_limit_address: Sign-in attempts allowed per client address.
        console_rate_limit_url: Storage of the sign-in rate limits (``redis://...`` or
            ``memory://``); empty → ``lock_store_url`` when it is a Redis URL, else in memory.
        console_trusted_proxies: Comma-separated addresses of reverse proxies whose
            ``X-Forwarded-For``/``-Proto`` the console trusts; empty trusts none.
        client_key_secret: HMAC key of the client-address hash the REST and widget channels put
            in each message's metadata (``core/client_key.py``; identity lockouts count per
            client); generated once into ``var/client_key_secret`` when not given.
        metrics_token: Bearer token that lets a Prometheus server scrape ``/metrics`` of the Rasa
            server (``/webhooks/ops/metrics``) and the console from anywhere; empty → only
            direct loopback clients may.
        rasa_reply_check: How the Rasa server checks the action server's replies: ``prebuilt``
            (one JSON-schema validator built at start-up, ``bot/action_reply_validation.py``) or
            ``rasa`` (Rasa 3.6's own check, which rebuilds it per reply: the benchmark baseline).
        slot_validation: Where the frustration slots are filled after every message: ``local``
            (in the Rasa server, ``bot/local_slot_validation.py``) or ``remote`` (Rasa calls the
            action server's ``action_validate_slot_mappings`` on every turn: the benchmark
            baseline). Both compute the same values.
        tracker_streaming: How the tracker store finds a turn's new events for the event broker:
            ``count`` (one SQL count, ``bot/storage/tracker_store.py``) or ``rasa`` (Rasa 3.6
            reads and replays the whole session again on every save: the benchmark baseline).
        trusted_proxies: Comma-separated addresses or networks (CIDR) of reverse proxies whose
            ``X-Forwarded-For`` the REST and widget channels trust for the client address;
            empty (the default) trusts none and uses the TCP peer.
        support_email: The store's support email address, told to shoppers (handoff, contact
            questions, no agent online); empty → the bot names no address.
        support_phone: The store's support phone number; empty → none is named.
        support_hours: When human agents work, in the store's words (e.g. ``Mon–Fri
            9:00–18:00 ET``); empty → the bot names no hours.
        retention_days: Conversations idle for longer than this many days are deleted or
            anonymised by ``shopbot retention`` (run it from cron); 0 keeps them forever.
        retention_mode: What ``shopbot retention`` does to them: ``delete`` or ``anonymise``
            (mask personal data in place, keep the rest for analytics).
        handoff_wait_timeout: Seconds a shopper waits in the handoff queue with no agent online
            before the bot says so honestly (and offers the support email when one is set).
        open_question_min_score: The relevance (dense cosine) a message's best FAQ/catalog passage
            needs before the bot answers a message no flow handles (NLU fallback, out of scope)
            from it instead of saying it did not understand.
        retrain_margin: The largest drop in held-out intent accuracy ``shopbot retrain`` accepts
            before it refuses to replace the served model.
        retrain_heldout_sample: Evaluate a retrain on a stratified sample of this many held-out
            messages (0 = all of them).
        telegram_token: The Telegram bot's token from @BotFather; empty disables the channel.
        telegram_secret: The webhook's secret token (Telegram sends it in every webhook request);
            generated once into ``var/telegram_secret`` when not given.
        telegram_public_url: The HTTPS address at which Telegram reaches the Rasa server (e.g.
            ``https://shop.example.com``); when set, ``shopbot run`` registers the webhook
            ``<url>/webhooks/telegram/webhook``. Empty: use ``shopbot telegram --polling``.
        telegram_api_url: The Bot API server (a local ``telegram-bot-api`` or a test double);
            empty → ``https://api.telegram.org``.
    """

    root: Path = field(default_factory=lambda: Path(_env("HOME", str(PROJECT_ROOT))))
    preset: str = field(default_factory=lambda: _env("PRESET", "demo"))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    rasa_port: int = field(default_factory=lambda: _env_int("RASA_PORT", 5005))
    actions_port: int = field(default_factory=lambda: _env_int("ACTIONS_PORT", 5055))
    demo_port: int = field(default_factory=lambda: _env_int("DEMO_PORT", 8000))
    api_token: str = field(default_factory=lambda: _env("API_TOKEN", ""))
    tracker_store_url: str = field(
        default_factory=lambda: _env("TRACKER_STORE_URL", "sqlite:///var/tracker.db")
    )
    lock_store_url: str = field(default_factory=lambda: _env("LOCK_STORE_URL", ""))
    store_db_url: str = field(
        default_factory=lambda: _env("STORE_DB_URL", "sqlite:///var/store/shop.db")
    )
    model_path: str = field(default_factory=lambda: _env("MODEL", ""))
    knowledge_dir: str = field(default_factory=lambda: _env("KNOWLEDGE_DIR", ""))
    embedder_variant: str = field(
        default_factory=lambda: _env("EMBEDDER_VARIANT", DEFAULT_EMBEDDER_VARIANT)
    )
    embedder_max_seq_length: int = field(
        default_factory=lambda: _env_int("EMBEDDER_MAX_SEQ_LENGTH", 128)
    )
    nlu_runtime: str = field(default_factory=lambda: _env("NLU_RUNTIME", "onnx-int8"))
    onnx_cache_dir: str = field(default_factory=lambda: _env("ONNX_CACHE_DIR", "models/onnx"))
    max_message_chars: int = field(default_factory=lambda: _env_int("MAX_MESSAGE_CHARS", 2000))
    cors_origins: str = field(default_factory=lambda: _env("CORS_ORIGINS", ""))
    run_dir: str = field(default_factory=lambda: _env("RUN_DIR", "var/run"))
    corrections_dir: str = field(default_factory=lambda: _env("CORRECTIONS_DIR", "var/corrections"))
    customer_token_secret: str = field(default_factory=lambda: _env("CUSTOMER_TOKEN_SECRET", ""))
    store_now: str = field(default_factory=lambda: _env("STORE_NOW", ""))
    app_db_url: str = field(default_factory=lambda: _env("APP_DB_URL", "sqlite:///var/shopbot.db"))
    widget_secret: str = field(default_factory=lambda: _env("WIDGET_SECRET", ""))
    widget_session_ttl: int = field(
        default_factory=lambda: _env_int("WIDGET_SESSION_TTL", 7 * 24 * 3600)
    )
    rest_secret: str = field(default_factory=lambda: _env("REST_SECRET", ""))
    rest_auth: bool = field(default_factory=lambda: _env_switch("REST_AUTH", True))
    stream_secret: str = field(default_factory=lambda: _env("STREAM_SECRET", ""))
    stream_push_url: str = field(default_factory=lambda: _env("STREAM_PUSH_URL", ""))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    warm_knowledge: bool = field(default_factory=lambda: _env("WARM_KNOWLEDGE", "0") == "1")
    generator_url: str = field(default_factory=lambda: _env("GENERATOR_URL", ""))
    generator_model: str = field(default_factory=lambda: _env("GENERATOR_MODEL", ""))
    generator_api_key: str = field(default_factory=lambda: _env("GENERATOR_API_KEY", ""))
    generator_api: str = field(default_factory=lambda: _env("GENERATOR_API", "completions"))
    generator_timeout: float = field(default_factory=lambda: _env_float("GENERATOR_TIMEOUT", 30.0))
    generator_device: str = field(default_factory=lambda: _env("GENERATOR_DEVICE", ""))
    generator_threads: int | None = field(
        default_factory=lambda: _env_optional_int("GENERATOR_THREADS", 1)
    )
    generator_batch: int = field(default_factory=lambda: _env_int("GENERATOR_BATCH", 8))
    generator_decoder: str = field(default_factory=lambda: _env("GENERATOR_DECODER", "lean"))
    nlu_batch: int = field(default_factory=lambda: _env_int("NLU_BATCH", 16))
    nlu_worker: str = field(default_factory=lambda: _env("NLU_WORKER", _default_nlu_worker()))
    action_connections: str = field(default_factory=lambda: _env("ACTION_CONNECTIONS", "pooled"))
    gc_freeze: bool = field(default_factory=lambda: _env_switch("GC_FREEZE", True))
    shared_states: bool = field(default_factory=lambda: _env_switch("SHARED_STATES", True))
    console_port: int = field(default_factory=lambda: _env_int("CONSOLE_PORT", 5006))
    console_secret: str = field(default_factory=lambda: _env("CONSOLE_SECRET", ""))
    console_https: bool = field(default_factory=lambda: _env_switch("CONSOLE_HTTPS", False))
    console_session_idle: int = field(
        default_factory=lambda: _env_int("CONSOLE_SESSION_IDLE", 30 * 60)
    )
    console_session_max: int = field(
        default_factory=lambda: _env_int("CONSOLE_SESSION_MAX", 12 * 3600)
    )
    console_signin_limit_account: str = field(
        default_factory=lambda: _env("CONSOLE_SIGNIN_LIMIT_ACCOUNT", "5 per minute")
    )
    console_signin_limit_address: str = field(
        default_factory=lambda: _env("CONSOLE_SIGNIN_LIMIT_ADDRESS", "20 per minute")
    )
    console_rate_limit_url: str = field(default_factory=lambda: _env("CONSOLE_RATE_LIMIT_URL", ""))
    console_trusted_proxies: str = field(
        default_factory=lambda: _env("CONSOLE_TRUSTED_PROXIES", "")
    )
    client_key_secret: str = field(default_factory=lambda: _env("CLIENT_KEY_SECRET", ""))
    metrics_token: str = field(default_factory=lambda: _env("METRICS_TOKEN", ""))
    rasa_reply_check: str = field(default_factory=lambda: _env("RASA_REPLY_CHECK", "prebuilt"))
    tracker_streaming: str = field(default_factory=lambda: _env("TRACKER_STREAMING", "count"))
    slot_validation: str = field(default_factory=lambda: _env("SLOT_VALIDATION", "local"))
    trusted_proxies: str = field(default_factory=lambda: _env("TRUSTED_PROXIES", ""))
    support_email: str = field(default_factory=lambda: _env("SUPPORT_EMAIL", ""))
    support_phone: str = field(default_factory=lambda: _env("SUPPORT_PHONE", ""))
    support_hours: str = field(default_factory=lambda: _env("SUPPORT_HOURS", ""))
    retention_days: int = field(default_factory=lambda: _env_int("RETENTION_DAYS", 0))
    retention_mode: str = field(default_factory=lambda: _env("RETENTION_MODE", "delete"))
    handoff_wait_timeout: int = field(default_factory=lambda: _env_int("HANDOFF_WAIT_TIMEOUT", 300))
    # Measured on development data by `shopbot calibrate-open-questions` (2026-12-03, demo index:
    # 1.7% of out-of-scope messages reach a passage this relevant; report in docs/benchmarks).
    open_question_min_score: float = field(
        default_factory=lambda: _env_float("OPEN_QUESTION_MIN_SCORE", 0.48)
    )
    retrain_margin: float = field(default_factory=lambda: _env_float("RETRAIN_MARGIN", 0.01))
    retrain_heldout_sample: int = field(
        default_factory=lambda: _env_int("RETRAIN_HELDOUT_SAMPLE", 0)
    )
    telegram_token: str = field(default_factory=lambda: _env("TELEGRAM_TOKEN", ""))
    telegram_secret: str = field(default_factory=lambda: _env("TELEGRAM_SECRET", ""))
    telegram_public_url: str = field(default_factory=lambda: _env("TELEGRAM_PUBLIC_URL", ""))
    telegram_api_url: str = field(default_factory=lambda: _env("TELEGRAM_API_URL", ""))

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(
                f"preset must be one of {', '.join(PRESETS)}. Currently, preset is {self.preset!r} "
                "(set SHOPBOT_PRESET or pass --preset)."
            )
        if not self.knowledge_dir:
            self.knowledge_dir = f"models/{self.preset}/knowledge"
        if self.embedder_variant not in EMBEDDER_VARIANTS:
            raise ValueError(
                f"embedder_variant must be one of {', '.join(EMBEDDER_VARIANTS)}. Currently, "
                f"embedder_variant is {self.embedder_variant!r} (set SHOPBOT_EMBEDDER_VARIANT)."
            )
        if self.nlu_runtime not in NLU_RUNTIMES:
            raise ValueError(
                f"nlu_runtime must be one of {', '.join(NLU_RUNTIMES)}. Currently, nlu_runtime "
                f"is {self.nlu_runtime!r} (set SHOPBOT_NLU_RUNTIME)."
            )
        if self.embedder_max_seq_length < 0:
            raise ValueError(
                "embedder_max_seq_length must be 0 (the model's own) or more. Currently, "
                f"embedder_max_seq_length is {self.embedder_max_seq_length} (set "
                "SHOPBOT_EMBEDDER_MAX_SEQ_LENGTH)."
            )
        for name in ("rasa_port", "actions_port", "demo_port"):
            port = getattr(self, name)
            if not 0 < port < 65536:
                raise ValueError(
                    f"{name} must be between 1 and 65535. Currently, {name} is {port}."
                )
        if self.rasa_port == self.actions_port:
            raise ValueError(
                f"rasa_port and actions_port must differ; both are {self.rasa_port}. "
                "Set SHOPBOT_RASA_PORT or SHOPBOT_ACTIONS_PORT."
            )
        if self.demo_port in (self.rasa_port, self.actions_port):
            raise ValueError(
                f"demo_port must differ from rasa_port and actions_port. Currently, demo_port is "
                f"{self.demo_port} (rasa_port {self.rasa_port}, actions_port {self.actions_port}). "
                "Set SHOPBOT_DEMO_PORT."
            )
        self._check_console()
        parse_trusted_proxies(self.trusted_proxies)  # a bad entry fails here, naming the setting
        if self.max_message_chars <= 0:
            raise ValueError(
                "max_message_chars must be greater than 0. "
                f"Currently, max_message_chars is {self.max_message_chars}."
            )
        if self.handoff_wait_timeout <= 0:
            raise ValueError(
                "handoff_wait_timeout must be greater than 0 seconds. Currently, "
                f"handoff_wait_timeout is {self.handoff_wait_timeout} (set "
                "SHOPBOT_HANDOFF_WAIT_TIMEOUT)."
            )
        if self.retention_days < 0 or self.retention_mode not in RETENTION_MODES:
            raise ValueError(
                "retention_days must be 0 (keep forever) or more, and retention_mode one of "
                f"{', '.join(RETENTION_MODES)}. Currently, retention_days is {self.retention_days} "
                f"and retention_mode is {self.retention_mode!r} (set SHOPBOT_RETENTION_DAYS and "
                "SHOPBOT_RETENTION_MODE)."
            )
        if self.rasa_reply_check not in REPLY_CHECKS:
            raise ValueError(
                f"rasa_reply_check must be one of {', '.join(REPLY_CHECKS)}. Currently, it is "
                f"{self.rasa_reply_check!r} (set SHOPBOT_RASA_REPLY_CHECK)."
            )
        if self.tracker_streaming not in TRACKER_STREAMINGS:
            raise ValueError(
                f"tracker_streaming must be one of {', '.join(TRACKER_STREAMINGS)}. Currently, it "
                f"is {self.tracker_streaming!r} (set SHOPBOT_TRACKER_STREAMING)."
            )
        if self.slot_validation not in SLOT_VALIDATIONS:
            raise ValueError(
                f"slot_validation must be one of {', '.join(SLOT_VALIDATIONS)}. Currently, it is "
                f"{self.slot_validation!r} (set SHOPBOT_SLOT_VALIDATION)."
            )
        if self.nlu_batch < 1:
            raise ValueError(
                f"nlu_batch must be at least 1. Currently, nlu_batch is {self.nlu_batch} (set "
                "SHOPBOT_NLU_BATCH)."
            )
        if self.nlu_worker not in NLU_WORKERS:
            raise ValueError(
                f"nlu_worker must be one of {', '.join(NLU_WORKERS)}. Currently, it is "
                f"{self.nlu_worker!r} (set SHOPBOT_NLU_WORKER)."
            )
        if self.action_connections not in ACTION_CONNECTIONS:
            raise ValueError(
                f"action_connections must be one of {', '.join(ACTION_CONNECTIONS)}. Currently, "
                f"it is {self.action_connections!r} (set SHOPBOT_ACTION_CONNECTIONS)."
            )
        if self.generator_decoder not in GENERATOR_DECODERS:
            raise ValueError(
                f"generator_decoder must be one of {', '.join(GENERATOR_DECODERS)}. Currently, it "
                f"is {self.generator_decoder!r} (set SHOPBOT_GENERATOR_DECODER)."
            )
        if self.generator_batch < 1:
            raise ValueError(
                "generator_batch must be at least 1. Currently, generator_batch is "
                f"{self.generator_batch} (set SHOPBOT_GENERATOR_BATCH)."
            )
        if self.widget_session_ttl <= 0:
            raise ValueError(
                "widget_session_ttl must be greater than 0 seconds. Currently, widget_session_ttl "
                f"is {self.widget_session_ttl} (set SHOPBOT_WIDGET_SESSION_TTL)."
            )

    def _check_console(self) -> None:
        """Cross-field checks of the agent console's settings."""
        if not 0 < self.console_port < 65536:
            raise ValueError(
                "console_port must be between 1 and 65535. "
                f"Currently, console_port is {self.console_port} (set SHOPBOT_CONSOLE_PORT)."
            )
        others = {"rasa_port": self.rasa_port, "actions_port": self.actions_port}
        others["demo_port"] = self.demo_port
        clash = [name for name, port in others.items() if port == self.console_port]
        if clash:
            raise ValueError(
                f"console_port must differ from {', '.join(clash)}. Currently, console_port is "
                f"{self.console_port}. Set SHOPBOT_CONSOLE_PORT."
            )
        for name in ("console_session_idle", "console_session_max"):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"{name} must be greater than 0 seconds. Currently, {name} is "
                    f"{getattr(self, name)} (set SHOPBOT_{name.upper()})."
                )

    def ensure_console_secret(self) -> str:
        """Return the console's signing key, generating one in ``var/console_secret`` if unset."""
        self.console_secret = self._ensure_secret(self.console_secret, "console_secret")
        return self.console_secret

    def path(self, relative: str | Path) -> Path:
        """Resolve a project-relative path."""
        path = Path(relative)
        return path if path.is_absolute() else self.root / path

    def sqlite_path(self, url: str) -> Path | None:
        """Return the file of a ``sqlite:///relative/or/absolute`` URL resolved against root."""
        parts = urlsplit(url)
        if not parts.scheme.startswith("sqlite"):
            return None
        raw = unquote(url.split(":///", 1)[1]) if ":///" in url else ""
        return self.path(raw) if raw else None

    def resolve_db_url(self, url: str) -> str:
        """Return ``url`` with a relative SQLite path made absolute (other URLs unchanged)."""
        sqlite_file = self.sqlite_path(url)
        return f"sqlite:///{sqlite_file}" if sqlite_file else url

    @property
    def var_dir(self) -> Path:
        """Folder for everything generated at run time."""
        return self.root / "var"

    @property
    def onnx_cache_path(self) -> Path:
        """The resolved ``onnx_cache_dir``."""
        return self.path(self.onnx_cache_dir)

    @property
    def embedder_cache_dir(self) -> Path:
        """Where exported ONNX embedders are cached (``models/embedders``; never committed)."""
        return self.root / "models" / "embedders"

    @property
    def corrections_path(self) -> Path:
        """The resolved ``corrections_dir``."""
        return self.path(self.corrections_dir)

    @property
    def retrain_dir(self) -> Path:
        """Where ``shopbot retrain`` keeps its candidates, reports and logs."""
        return self.path(self.run_dir) / "retrain"

    @property
    def rasa_model(self) -> Path:
        """The Rasa model the server loads."""
        if self.model_path:
            return self.path(self.model_path)
        return self.root / "models" / "rasa" / f"shopbot-{self.preset}.tar.gz"

    def ensure_api_token(self) -> str:
        """Return the API token, generating and persisting one in ``var/api_token`` if unset."""
        if self.api_token:
            return self.api_token
        token_file = self.var_dir / "api_token"
        if token_file.exists():
            self.api_token = token_file.read_text(encoding="utf-8").strip()
        if not self.api_token:
            token_file.parent.mkdir(parents=True, exist_ok=True)
            self.api_token = secrets.token_urlsafe(24)
            token_file.write_text(self.api_token + "\n", encoding="utf-8")
            token_file.chmod(0o600)
        return self.api_token

    def ensure_widget_secret(self) -> str:
        """Return the widget token key, generating and persisting one in ``var/widget_secret``."""
        self.widget_secret = self._ensure_secret(self.widget_secret, "widget_secret")
        return self.widget_secret

    def ensure_rest_secret(self) -> str:
        """Return the REST channel's secret, generating one in ``var/rest_secret`` if unset."""
        self.rest_secret = self._ensure_secret(self.rest_secret, "rest_secret")
        return self.rest_secret

    def ensure_client_key_secret(self) -> str:
        """Return the client-address hash key, generating one in ``var/client_key_secret``."""
        self.client_key_secret = self._ensure_secret(self.client_key_secret, "client_key_secret")
        return self.client_key_secret

    def ensure_stream_secret(self) -> str:
        """Return the token-stream push secret, generating one in ``var/stream_secret``."""
        self.stream_secret = self._ensure_secret(self.stream_secret, "stream_secret")
        return self.stream_secret

    def ensure_telegram_secret(self) -> str:
        """Return the Telegram webhook secret, generating one in ``var/telegram_secret``."""
        self.telegram_secret = self._ensure_secret(self.telegram_secret, "telegram_secret")
        return self.telegram_secret

    def _ensure_secret(self, value: str, file_name: str) -> str:
        """``value``, or the one persisted in ``var/<file_name>``, or a new one written there."""
        if value:
            return value
        secret_file = self.var_dir / file_name
        if secret_file.exists():
            value = secret_file.read_text(encoding="utf-8").strip()
        if not value:
            secret_file.parent.mkdir(parents=True, exist_ok=True)
            value = secrets.token_urlsafe(32)
            secret_file.write_text(value + "\n", encoding="utf-8")
            secret_file.chmod(0o600)
        return value

    @property
    def redis_url(self) -> str:
        """The lock store's URL when it is Redis (it also holds shared counters and the stream
        bus of several servers), else empty."""
        url = self.lock_store_url
        return url if url.startswith(("redis://", "rediss://")) else ""

    @property
    def widget_push_url(self) -> str:
        """Where the action server pushes streamed tokens (``stream_push_url`` or the default)."""
        if self.stream_push_url:
            return self.stream_push_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.rasa_port}/webhooks/widget/internal/stream"

    @property
    def telegram_push_url(self) -> str:
        """Where the action server pushes streamed answers of Telegram conversations."""
        return self.widget_push_url.replace("/webhooks/widget/", "/webhooks/telegram/")

    def to_env(self) -> dict[str, str]:
        """Return the settings as ``SHOPBOT_*`` variables, for the server processes it starts."""
        env = {f"SHOPBOT_{f.name.upper()}": _env_value(getattr(self, f.name)) for f in fields(self)}
        env["SHOPBOT_HOME"] = str(self.root)
        del env["SHOPBOT_ROOT"]
        env["SHOPBOT_MODEL"] = env.pop("SHOPBOT_MODEL_PATH")
        env["SHOPBOT_STORE_DB_URL"] = self.resolve_db_url(self.store_db_url)
        env["SHOPBOT_APP_DB_URL"] = self.resolve_db_url(self.app_db_url)
        return env

    def describe(self) -> dict[str, str]:
        """Return the resolved settings for logging, with secrets masked."""
        out = {}
        for f in fields(self):
            value = str(getattr(self, f.name))
            secret = f.name in (
                "api_token",
                "customer_token_secret",
                "generator_api_key",
                "widget_secret",
                "rest_secret",
                "stream_secret",
                "console_secret",
                "client_key_secret",
                "metrics_token",
                "telegram_token",
                "telegram_secret",
            )
            out[f.name] = "***" if secret and value else _mask_url(value)
        return out
