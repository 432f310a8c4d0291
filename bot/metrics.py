"""Prometheus metrics of the Rasa server process, and who may scrape them.

The channels count what they receive and time each turn (``on_new_message``, from the message
to the last reply); the event broker (``bot.handoff.broker``) sees every tracker event of the same
process and tells which action answered the turn, and counts handoffs and fallbacks. Exposed by
the ``ops`` channel (``/webhooks/ops/metrics``, ``bot.channels.ops``); the agent console exposes
its own (``bot.console.ops_views``). Rasa, ``prometheus-client`` and the stdlib only: the console
imports :func:`scrape_allowed` too, and must not import Rasa.

A turn's *kind* is the name of the last action before the bot listened again (``utter_greet``,
``action_answer_question``, ``order_form``; ``none`` when nothing ran, e.g. a paused
conversation). Action names come from the domain, so the label set is bounded; intents are not
used, since a button payload may name any intent. :data:`MAX_KINDS` bounds it anyway.

Access (``Settings.metrics_token``, ``SHOPBOT_METRICS_TOKEN``): empty → only direct loopback
clients (no ``X-Forwarded-For``/``Forwarded`` header: a reverse proxy on the same machine does not
make the world loopback); set → ``Authorization: Bearer <token>`` from anywhere.
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

CHANNELS = ("rest", "widget", "telegram")
# Seconds: a canned reply takes ~0.1 s, a generated answer on CPU several seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
NLU_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32)
NO_ACTION = "none"
OTHER = "other"
MAX_KINDS = 200  # distinct turn kinds before new ones count as "other"
MAX_OPEN_TURNS = 10_000  # conversations whose turn kind waits for the channel to read it
NLU_FALLBACK_INTENT = "nlu_fallback"
CORE_FALLBACK_ACTION = "action_default_fallback"
LISTEN = "action_listen"


class ShopMetrics:
    """The Rasa server's counters and the turn kinds the broker tells the channels.

    Args:
        registry: Where the metrics register (a fresh one per unit test; the process-wide
            default in the servers: :func:`metrics`).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.messages = Counter(
            "shopbot_messages_received",
            "Shopper messages a channel accepted and handed to Rasa.",
            ["channel"],
            registry=registry,
        )
        self.reply_seconds = Histogram(
            "shopbot_reply_seconds",
            "Seconds from a message handed to Rasa to its last reply, by the action that answered.",
            ["channel", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "shopbot_errors",
            "Messages whose handling failed (the shopper got an apology).",
            ["channel"],
            registry=registry,
        )
        self.handoffs = Counter(
            "shopbot_handoffs",
            "Conversations put in the human handoff queue.",
            ["channel"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "shopbot_fallbacks",
            "Fallbacks: 'nlu' (intent not understood), 'core' (no confident next action).",
            ["kind"],
            registry=registry,
        )
        self.nlu_batch = Histogram(
            "shopbot_nlu_batch_messages",
            "Messages parsed together in one pass of the NLU graph (bot.nlu_batching).",
            buckets=NLU_BATCH_BUCKETS,
            registry=registry,
        )
        self.nlu_worker_messages = Counter(
            "shopbot_nlu_worker_messages",
            "Messages parsed in the Rasa server's NLU worker process (bot.nlu_worker).",
            registry=registry,
        )
        self._lock = threading.Lock()
        self._turns: OrderedDict[str, str] = OrderedDict()
        self._kinds: set[str] = set()

    def received(self, channel: str) -> None:
        """Count one message handed to Rasa by ``channel``."""
        self.messages.labels(channel_label(channel)).inc()

    def failed(self, channel: str) -> None:
        """Count one message whose handling raised."""
        self.errors.labels(channel_label(channel)).inc()

    def answered(self, channel: str, sender: str, seconds: float) -> None:
        """Record one turn's latency under the kind the broker saw for ``sender``."""
        with self._lock:
            kind = self._turns.pop(sender, NO_ACTION)
        self.reply_seconds.labels(channel_label(channel), kind).observe(seconds)

    def on_event(self, sender: str, event: dict[str, object]) -> None:
        """Fold one tracker event in (called by the event broker for every event)."""
        kind = event.get("event")
        if kind == "user":
            parse = event.get("parse_data")
            intent = parse.get("intent") if isinstance(parse, dict) else None
            if isinstance(intent, dict) and intent.get("name") == NLU_FALLBACK_INTENT:
                self.fallbacks.labels("nlu").inc()
            self._remember(sender, NO_ACTION)  # a new turn
        elif kind == "action":
            name = event.get("name")
            if not isinstance(name, str) or name == LISTEN:
                return
            if name == CORE_FALLBACK_ACTION:
                self.fallbacks.labels("core").inc()
            self._remember(sender, self._kind(name))

    def handed_off(self, channel: str) -> None:
        """Count one conversation that entered the handoff queue."""
        self.handoffs.labels(channel_label(channel)).inc()

    def _remember(self, sender: str, kind: str) -> None:
        with self._lock:
            self._turns[sender] = kind
            self._turns.move_to_end(sender)
            while len(self._turns) > MAX_OPEN_TURNS:
                self._turns.popitem(last=False)

    def _kind(self, name: str) -> str:
        with self._lock:
            if name in self._kinds:
                return name
            if len(self._kinds) >= MAX_KINDS:
                return OTHER
            self._kinds.add(name)
            return name


def channel_label(channel: str | None) -> str:
    """``channel`` when it is one of ours, else ``other`` (a bounded label set)."""
    return channel if channel in CHANNELS else OTHER


_default: ShopMetrics | None = None
_default_lock = threading.Lock()


def metrics() -> ShopMetrics:
    """The process's metrics, registered on the default registry on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ShopMetrics(REGISTRY)
        return _default


async def timed_turn(channel: str, sender: str, turn: Awaitable[Any]) -> None:
    """Await ``turn`` (a channel's ``on_new_message(...)``): count it, time it, count a failure.

    Raises:
        Whatever ``turn`` raises (counted in ``shopbot_errors``), for the channel to apologise.
    """
    shop = metrics()
    shop.received(channel)
    started = time.perf_counter()
    try:
        await turn
    except Exception:
        shop.failed(channel)
        raise
    shop.answered(channel, sender, time.perf_counter() - started)


def scrape_allowed(
    peer: str | None, forwarded: bool, authorization: str | None, token: str
) -> bool:
    """Whether a request may read ``/metrics`` (see the module docstring).

    Args:
        peer: The address of the direct client (the TCP peer, never a header).
        forwarded: Whether the request carries ``X-Forwarded-For`` or ``Forwarded``.
        authorization: The ``Authorization`` header.
        token: ``Settings.metrics_token``; empty → loopback only.
    """
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    if forwarded or not peer:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False


SCRAPE_REFUSED = (
    "Metrics are served to loopback clients only; set SHOPBOT_METRICS_TOKEN and send "
    "'Authorization: Bearer <token>' to scrape from elsewhere."
)
