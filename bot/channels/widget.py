"""The web widget's channel on the Rasa server (``/webhooks/widget``).

HTTP in, server-sent events out. ``POST /session`` issues a signed conversation token,
``POST /messages`` stores the shopper's message and answers 202 at once (Rasa handles it in a
background task whose output channel appends each reply to the event log), ``GET /stream``
sends the stored events after a seq plus ephemeral ``typing``/``token`` events, ``POST /feedback``
records a thumbs up/down in the Rasa tracker, and ``POST /internal/stream`` takes generated
tokens from the action server. The widget's script and its lazily loaded files are served from
``bot/channels/widget_assets``. The protocol and its design: docs/decisions/009-*.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import AgentUttered, BotUttered, ConversationResumed
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbound import DEFAULT_MAX_MESSAGE_CHARS, InboundError, WidgetInbound
from bot.channels.stream_bus import RedisStreamHub
from bot.channels.widget_assets_server import AssetServer
from bot.channels.widget_auth import ConversationTokens
from bot.channels.widget_output import WidgetOutputChannel
from bot.channels.widget_service import Feedback, WidgetService
from bot.channels.widget_stream import POLL_INTERVAL_S, StreamHub, event_stream
from bot.metrics import timed_turn
from bot.storage.engine import make_engine
from bot.storage.event_log import EventLog
from bot.storage.handoffs import HandoffQueue
from core.client_key import CLIENT_METADATA_KEY, ClientKeys

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "widget_assets"
UNAVAILABLE = "The chat is unavailable right now; please try again in a moment."
FAILURE_REPLY = (
    "Sorry, something went wrong on my side while handling that. Please try again in a moment, "
    "or ask for a human agent."
)
LEFT_QUEUE = "OK, you're back with the store assistant. What can I help you with?"
NOT_WAITING = "This conversation is not waiting for an agent."
SSE_HEADERS = {
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",  # nginx: do not buffer the stream
}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def _refusal(exc: InboundError) -> HTTPResponse:
    return response.json({"error": exc.reason}, status=exc.status)


async def _answer(
    request: Request, what: str, work: Callable[[], Awaitable[HTTPResponse]]
) -> HTTPResponse:
    """Run ``work``: a refusal becomes its 4xx with the reason, a failure a 503 (logged)."""
    try:
        return await work()
    except InboundError as exc:
        logger.info("Refused widget %s from %s (%d): %s", what, request.ip, exc.status, exc.reason)
        return _refusal(exc)
    except Exception:
        logger.exception("Widget %s failed", what)
        return response.json({"error": UNAVAILABLE}, status=503)


class WidgetInput(InputChannel):
    """The store web widget's channel (rendered into credentials.yml by ``bot.runtime_config``).

    Args:
        app_db_url: Absolute SQLAlchemy URL of the application database (upgraded to head).
        widget_secret: Key that signs conversation tokens (at least 32 characters).
        session_ttl: Seconds a conversation token stays valid.
        stream_secret: Bearer secret of ``POST /internal/stream`` (empty disables it).
        max_message_chars: Longest typed message accepted.
        assets_dir: Folder with ``widget.js`` and the lazily loaded files.
        poll_interval: Longest wait of a stream between two database reads.
        client_keys: Hashes the client address into ``metadata["client"]`` (identity lockouts
            count per client); None → a random key of this process.
        stream_bus_url: ``redis://...``: ephemeral stream events reach the streams open on every
            Rasa server (``bot.channels.stream_bus``); empty → this process's streams only.
    """

    @classmethod
    def name(cls) -> str:
        """The channel's name, which is also its URL segment."""
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build the channel from its ``credentials.yml`` section."""
        credentials = credentials or {}
        for required in ("app_db_url", "widget_secret"):
            if not credentials.get(required):
                raise ValueError(
                    f"The widget channel needs '{required}' in credentials.yml; render the file "
                    "with `shopbot run` (bot.runtime_config) or add it by hand."
                )
        return cls(
            app_db_url=str(credentials["app_db_url"]),
            widget_secret=str(credentials["widget_secret"]),
            session_ttl=int(credentials.get("session_ttl", 7 * 24 * 3600)),
            stream_secret=str(credentials.get("stream_secret") or ""),
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            assets_dir=Path(credentials.get("assets_dir") or ASSETS_DIR),
            client_keys=ClientKeys.from_credentials(credentials),
            stream_bus_url=str(credentials.get("stream_bus_url") or ""),
        )

    def __init__(
        self,
        app_db_url: str,
        widget_secret: str,
        session_ttl: int = 7 * 24 * 3600,
        stream_secret: str = "",
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        assets_dir: Path = ASSETS_DIR,
        poll_interval: float = POLL_INTERVAL_S,
        client_keys: ClientKeys | None = None,
        stream_bus_url: str = "",
    ) -> None:
        if max_message_chars <= 0:
            raise ValueError(
                f"max_message_chars must be greater than 0. Currently, max_message_chars is {max_message_chars}."
            )
        if not 0 < poll_interval <= 1:
            raise ValueError(
                f"poll_interval must be in (0, 1] seconds. Currently, poll_interval is {poll_interval}."
            )
        self.poll_interval = poll_interval
        self.hub = RedisStreamHub(stream_bus_url) if stream_bus_url else StreamHub()
        # The engine connects on first use, not here.
        self.service = WidgetService(
            ConversationTokens(widget_secret, session_ttl),
            EventLog(make_engine(app_db_url)),
            self.hub,
            stream_secret,
            max_message_chars,
        )
        self.assets = AssetServer(assets_dir)
        self.queue = HandoffQueue(self.service.log.engine)
        self.client_keys = client_keys or ClientKeys()
        self._tasks: set[asyncio.Task[None]] = set()

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The widget's routes."""
        widget = Blueprint(f"shop_widget_{id(self)}", __name__)
        service = self.service

        @widget.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @widget.route("/session", methods=["POST"])
        async def session(request: Request) -> HTTPResponse:
            async def start() -> HTTPResponse:
                started = await service.session(request.body)
                return response.json(started.to_dict(), headers={"Cache-Control": "no-store"})

            return await _answer(request, "session", start)

        @widget.route("/messages", methods=["POST"])
        async def messages(request: Request) -> HTTPResponse:
            try:
                conversation_id = service.authenticate(request.headers.get("authorization"))
            except InboundError as exc:
                logger.info("Refused widget message from %s (401): %s", request.ip, exc.reason)
                return _refusal(exc)
            typing_on = False

            def on_receipt() -> None:
                nonlocal typing_on
                service.typing(conversation_id, True)  # at once, before the message is stored
                typing_on = True

            try:
                accepted = await service.accept_message(conversation_id, request.body, on_receipt)
            except InboundError as exc:
                logger.info(
                    "Refused widget message from %s (%d): %s", request.ip, exc.status, exc.reason
                )
                if typing_on:
                    service.typing(conversation_id, False)
                return _refusal(exc)
            except Exception:
                logger.exception("Storing a widget message failed")
                if typing_on:
                    service.typing(conversation_id, False)
                return response.json({"error": UNAVAILABLE}, status=503)
            if accepted.duplicate:
                return response.json(accepted.to_dict(), status=200)
            client = self.client_keys.key(request.ip, request.headers.get("x-forwarded-for"))
            self._spawn(self._process(on_new_message, conversation_id, accepted.message, client))
            return response.json(accepted.to_dict(), status=202)

        @widget.route("/stream", methods=["GET"])
        async def stream(request: Request) -> HTTPResponse | None:
            try:
                conversation_id = service.authenticate(
                    request.headers.get("authorization"), request.args.get("token")
                )
                after = service.resume_position(
                    request.args.get("after"), request.headers.get("last-event-id")
                )
            except InboundError as exc:
                logger.info(
                    "Refused widget stream from %s (%d): %s", request.ip, exc.status, exc.reason
                )
                return _refusal(exc)
            reply = await request.respond(
                content_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS
            )
            frames = event_stream(
                self.hub, service.read_after, conversation_id, after, self.poll_interval
            )
            try:
                async for frame in frames:
                    await reply.send(frame)
            except asyncio.CancelledError:
                raise  # the client went away: Sanic cancels the handler
            except Exception:
                logger.exception("Widget stream of %s failed", conversation_id)
            finally:
                await frames.aclose()
            return None

        @widget.route("/feedback", methods=["POST"])
        async def feedback(request: Request) -> HTTPResponse:
            async def record() -> HTTPResponse:
                conversation_id = service.authenticate(request.headers.get("authorization"))
                given = await service.check_feedback(conversation_id, request.body)
                await self._record_feedback(request, conversation_id, given)
                return response.empty(status=204)

            return await _answer(request, "feedback", record)

        @widget.route("/handoff/leave", methods=["POST"])
        async def leave_queue(request: Request) -> HTTPResponse:
            async def leave() -> HTTPResponse:
                conversation_id = service.authenticate(request.headers.get("authorization"))
                await self._leave_queue(request, conversation_id)
                return response.empty(status=204)

            return await _answer(request, "leave queue", leave)

        @widget.route("/internal/stream", methods=["POST"])
        async def internal_stream(request: Request) -> HTTPResponse:
            try:
                delivered = service.push_tokens(request.headers.get("authorization"), request.body)
            except InboundError as exc:
                logger.warning(
                    "Refused token push from %s (%d): %s", request.ip, exc.status, exc.reason
                )
                return _refusal(exc)
            return response.json({"streams": delivered})

        @widget.route("/widget.js", methods=["GET", "HEAD"])
        async def loader(request: Request) -> HTTPResponse:
            return self.assets.serve("widget.js", request.headers, loader=True)

        @widget.route("/static/<name:str>", methods=["GET", "HEAD"])
        async def static(request: Request, name: str) -> HTTPResponse:
            return self.assets.serve(name, request.headers, versioned="v" in request.args)

        return widget

    def get_output_channel(self) -> OutputChannel | None:
        """The output channel Rasa's HTTP API uses for widget conversations
        (``output_channel=latest``): messages reach the conversation's stream."""
        return WidgetOutputChannel(self.service.store)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)

    async def _process(
        self,
        on_new_message: OnNewMessage,
        conversation_id: str,
        message: WidgetInbound,
        client: str = "",
    ) -> None:
        """Let Rasa handle one stored message; its replies are stored by the output channel.

        ``client`` is the hashed client address (``core.client_key``), never the address.
        """

        metadata: dict[str, Any] = {"client_id": message.client_id}
        if client:
            metadata[CLIENT_METADATA_KEY] = client
        if message.customer_token:
            metadata["customer_token"] = message.customer_token
        try:
            await timed_turn(
                self.name(),
                conversation_id,
                on_new_message(
                    UserMessage(
                        message.text,
                        WidgetOutputChannel(self.service.store),
                        conversation_id,
                        input_channel=self.name(),
                        message_id=message.client_id,
                        metadata=metadata,
                    )
                ),
            )
        except Exception:
            logger.exception("Failed to handle widget message %s", message.client_id)
            try:
                await self.service.store(
                    conversation_id,
                    "bot",
                    {
                        "message_id": f"failure-{message.client_id}",
                        "text": FAILURE_REPLY,
                        "buttons": [],
                        "products": [],
                        "citations": [],
                    },
                )
            except Exception:
                logger.exception("Could not store the apology for %s", message.client_id)
        finally:
            self.service.typing(conversation_id, False)

    async def _leave_queue(self, request: Request, conversation_id: str) -> None:
        """The shopper leaves the agent queue: resume the bot through Rasa, and say so.

        Only while no agent has claimed the conversation (409 otherwise). The handoff is ended
        first (atomically, ``waiting_only``), so an agent cannot claim it halfway; then Rasa's
        tracker gets ``ConversationResumed`` and the bot's note, sent to this channel.
        """
        ended = await asyncio.to_thread(self.queue.finish, conversation_id, "left", None, True)
        if ended is None:
            raise InboundError(409, NOT_WAITING)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.processor is None:
            raise RuntimeError("The Rasa agent is not loaded; cannot resume the conversation.")
        note = BotUttered(LEFT_QUEUE, metadata={"shopbot": {"kind": "handoff", "state": "ended"}})
        events = [ConversationResumed(), note]
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.get_tracker(conversation_id)
            for event in events:
                tracker.update(event)
            await agent.processor.execute_side_effects(
                events, tracker, WidgetOutputChannel(self.service.store)
            )
            await agent.processor.save_tracker(tracker)
        logger.info("Shopper left the agent queue in %s", conversation_id)

    @staticmethod
    async def _record_feedback(request: Request, conversation_id: str, given: Feedback) -> None:
        """Append the feedback to the Rasa tracker (an ``agent`` event with ``data.feedback``).

        Rasa has no feedback event; ``AgentUttered`` changes no dialogue state and keeps any
        JSON, so the console reads ``{"event": "agent", "data": {"feedback": ...}}`` from the
        tracker store. The widget's ``message_id`` is not in the tracker; the rated message's
        ``text`` is, and the console matches on it (``bot.console.transcript``).
        """
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or agent.processor is None:
            raise RuntimeError("The Rasa agent is not loaded; cannot record feedback.")
        event = AgentUttered(
            text=None,
            data={
                "feedback": {
                    "message_id": given.message_id,
                    "value": given.value,
                    "seq": given.seq,
                    "text": given.text,
                    "channel": "widget",
                }
            },
        )
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.get_tracker(conversation_id)
            tracker.update(event)
            await agent.processor.save_tracker(tracker)
        logger.info("Feedback %s on %s in %s", given.value, given.message_id, conversation_id)
