"""Tell a shopper honestly when they wait in the handoff queue and no agent is online.

A background task of the console (started in its lifespan): every ``interval_s`` it looks for
handoffs waiting longer than ``Settings.handoff_wait_timeout`` whose shopper has not been told
yet; when no agent has used the console in the last ``ONLINE_WITHIN``, the one replica that wins
``HandoffQueue.mark_timeout_notified`` posts the notice. It never names an address or hours the
settings do not hold, and a failing round is logged, never fatal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from bot.console.rasa_api import RasaApi, RasaUnavailable
from bot.console.sessions import SessionStore
from bot.storage.handoffs import HandoffQueue
from core.settings import Settings

logger = logging.getLogger(__name__)

INTERVAL_S = 10.0
ONLINE_WITHIN = dt.timedelta(minutes=2)


def notice_text(settings: Settings) -> str:
    """The notice, built only from what the settings say (no invented address or hours)."""
    parts = [
        "No agent is online right now. Your conversation stays in the queue, and an agent will "
        "reply here as soon as one is back."
    ]
    if settings.support_email:
        parts.append(
            f"If you'd rather not wait, write to {settings.support_email} and the team will "
            "follow up by email."
        )
    if settings.support_hours:
        parts.append(f"Our agents work {settings.support_hours}.")
    return " ".join(parts)


def notice_events(settings: Settings) -> list[dict[str, Any]]:
    """The bot message carrying the notice."""
    return [
        {
            "event": "bot",
            "text": notice_text(settings),
            "metadata": {"shopbot": {"kind": "notice"}},
        }
    ]


class WaitingWatcher:
    """Posts the "no agent online" notice to overdue waiting conversations, once each.

    Args:
        queue: The handoff queue.
        sessions: Console sessions (who is online).
        rasa: Where the notice goes.
        settings: ``handoff_wait_timeout``, ``support_email``, ``support_hours``.
        interval_s: Seconds between rounds.
    """

    def __init__(
        self,
        queue: HandoffQueue,
        sessions: SessionStore,
        rasa: RasaApi,
        settings: Settings,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.queue = queue
        self.sessions = sessions
        self.rasa = rasa
        self.settings = settings
        self.interval_s = interval_s

    def _claim_overdue(self) -> list[str]:
        """Conversations this replica must notify (each marked notified: told at most once)."""
        overdue = self.queue.overdue(dt.timedelta(seconds=self.settings.handoff_wait_timeout))
        if not overdue or self.sessions.agents_online(ONLINE_WITHIN) > 0:
            return []
        return [h.conversation_id for h in overdue if self.queue.mark_timeout_notified(h.id)]

    async def check_once(self) -> int:
        """One round; returns how many shoppers were told."""
        told = 0
        for conversation_id in await run_in_threadpool(self._claim_overdue):
            try:
                await self.rasa.append_events(conversation_id, notice_events(self.settings))
            except RasaUnavailable as exc:
                logger.warning(
                    "Could not tell %s that no agent is online: %s", conversation_id, exc
                )
                continue
            logger.info("Told %s that no agent is online", conversation_id)
            told += 1
        return told

    async def run(self) -> None:
        """Check every ``interval_s`` until cancelled; a failing round is logged and skipped."""
        logger.info(
            "Waiting watcher: shoppers are told after %d s without an online agent",
            self.settings.handoff_wait_timeout,
        )
        while True:
            try:
                await self.check_once()
            except Exception:  # the console must outlive a bad round (logged, retried)
                logger.exception("The waiting watcher's round failed; trying again")
            await asyncio.sleep(self.interval_s)
