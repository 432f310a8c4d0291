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

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("tiny", "demo", "full")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SHOPBOT_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"SHOPBOT_{name} must be an integer. Currently, SHOPBOT_{name} is {raw!r}."
        ) from None


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            f"SHOPBOT_{name} must be a number. Currently, SHOPBOT_{name} is {raw!r}."
        ) from None


def _env_optional_int(name: str) -> int | None:
    raw = _env(name, "")
    return _env_int(name, 0) if raw else None


@dataclass
class Settings:
    """Runtime configuration of ShopBot.

    Args:
        root: Project root; relative paths below are resolved against it.
        preset: Model size preset (``tiny`` for tests, ``demo`` default, ``full`` for a GPU).
        host: Interface the servers bind to (loopback by default).
        rasa_port: Port of the Rasa server (REST channel and HTTP API).
        actions_port: Port of the action server.
        api_token: Token for Rasa's HTTP API (``?token=...``); generated once into
            ``var/api_token`` when not given.
        tracker_store_url: SQLAlchemy URL of the tracker store (``sqlite:///var/tracker.db`` or
            ``postgresql://user:pw@host:5432/db``).
        lock_store_url: ``redis://host:6379/0`` for a Redis lock store (several Rasa servers);
            empty for the in-memory lock store.
        store_db_url: SQLAlchemy URL of the store's order database.
        model_path: Trained Rasa model; empty → ``models/rasa/shopbot-<preset>.tar.gz``.
        knowledge_dir: Retrieval index and generator; empty → ``models/<preset>/knowledge``.
        max_message_chars: Longest shopper message accepted by the channels.
        cors_origins: Space-separated origins allowed to call the servers from a browser.
        run_dir: Folder for the rendered server configuration and the server logs.
        customer_token_secret: HMAC key of the signed customer tokens the store's widget passes
            for signed-in shoppers (``actions/store/tokens.py``); empty disables tokens.
        store_now: ISO date or datetime the order service treats as "now" (demos and tests on data
            seeded for a fixed date); empty → the real clock.
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
        generator_threads: CPU threads of the local generator (empty → torch's choice).
    """

    root: Path = field(default_factory=lambda: Path(_env("HOME", str(PROJECT_ROOT))))
    preset: str = field(default_factory=lambda: _env("PRESET", "demo"))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    rasa_port: int = field(default_factory=lambda: _env_int("RASA_PORT", 5005))
    actions_port: int = field(default_factory=lambda: _env_int("ACTIONS_PORT", 5055))
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
    max_message_chars: int = field(default_factory=lambda: _env_int("MAX_MESSAGE_CHARS", 2000))
    cors_origins: str = field(default_factory=lambda: _env("CORS_ORIGINS", ""))
    run_dir: str = field(default_factory=lambda: _env("RUN_DIR", "var/run"))
    customer_token_secret: str = field(default_factory=lambda: _env("CUSTOMER_TOKEN_SECRET", ""))
    store_now: str = field(default_factory=lambda: _env("STORE_NOW", ""))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "INFO"))
    warm_knowledge: bool = field(default_factory=lambda: _env("WARM_KNOWLEDGE", "0") == "1")
    generator_url: str = field(default_factory=lambda: _env("GENERATOR_URL", ""))
    generator_model: str = field(default_factory=lambda: _env("GENERATOR_MODEL", ""))
    generator_api_key: str = field(default_factory=lambda: _env("GENERATOR_API_KEY", ""))
    generator_api: str = field(default_factory=lambda: _env("GENERATOR_API", "completions"))
    generator_timeout: float = field(default_factory=lambda: _env_float("GENERATOR_TIMEOUT", 30.0))
    generator_device: str = field(default_factory=lambda: _env("GENERATOR_DEVICE", ""))
    generator_threads: int | None = field(
        default_factory=lambda: _env_optional_int("GENERATOR_THREADS")
    )

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(
                f"preset must be one of {', '.join(PRESETS)}. Currently, preset is {self.preset!r} "
                "(set SHOPBOT_PRESET or pass --preset)."
            )
        if not self.knowledge_dir:
            self.knowledge_dir = f"models/{self.preset}/knowledge"
        for name in ("rasa_port", "actions_port"):
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
        if self.max_message_chars <= 0:
            raise ValueError(
                "max_message_chars must be greater than 0. "
                f"Currently, max_message_chars is {self.max_message_chars}."
            )

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

    def to_env(self) -> dict[str, str]:
        """Return the settings as ``SHOPBOT_*`` variables, for the server processes it starts."""
        env = {f"SHOPBOT_{f.name.upper()}": _env_value(getattr(self, f.name)) for f in fields(self)}
        env["SHOPBOT_HOME"] = str(self.root)
        del env["SHOPBOT_ROOT"]
        env["SHOPBOT_MODEL"] = env.pop("SHOPBOT_MODEL_PATH")
        env["SHOPBOT_STORE_DB_URL"] = self.resolve_db_url(self.store_db_url)
        return env

    def describe(self) -> dict[str, str]:
        """Return the resolved settings for logging, with secrets masked."""
        out = {}
        for f in fields(self):
            value = str(getattr(self, f.name))
            secret = f.name in ("api_token", "customer_token_secret", "generator_api_key")
            out[f.name] = "***" if secret and value else _mask_url(value)
        return out


def _env_value(value: object) -> str:
    """A setting as the environment spells it (booleans ``1``/``0``, None empty)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def _mask_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", ":***@")
    return value
