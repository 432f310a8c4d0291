"""Storing one message row (``conversation_messages``) inside the summary update's transaction.

:meth:`bot.storage.conversations.ConversationIndex.apply` calls :func:`store_message` after it
updated (or created) the conversation's summary row, in the same transaction: the list, the
search and the analytics never disagree about which messages a conversation has. An agent's
message also stamps the open handoff's ``first_reply_at`` when it is the first one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bot.storage.handoff_tables import OPEN_STATES, handoffs
from bot.storage.handoff_tables import conversation_summaries as summaries
from bot.storage.message_tables import MAX_MESSAGE_CHARS, SENDERS, conversation_messages

UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class NewMessage:
    """A message to store: who sent it, its text and, for a shopper turn, what NLU made of it.

    Args:
        sender: ``user`` (the shopper), ``bot``, ``agent`` (a human in the console) or
            ``notice`` (the console's handoff notices: joined, ended, no agent online).
        text: What was shown.
        intent: A shopper turn's top intent.
        confidence: That intent's confidence.
        sentiment: A shopper turn's sentiment label.
        agent_id: The console agent who wrote an agent message.
    """

    sender: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    sentiment: str | None = None
    agent_id: int | None = None

    def __post_init__(self) -> None:
        if self.sender not in SENDERS:
            raise ValueError(
                f"sender must be one of {', '.join(SENDERS)}. Currently, it is {self.sender!r}."
            )


def store_message(
    conn: Connection,
    conversation_id: str,
    at: dt.datetime,
    message: NewMessage,
    channel: str | None = None,
) -> None:
    """Insert ``message``; without ``channel``, the one the conversation's summary row holds.

    Call it in the transaction that updated the summary row (the row exists by then).
    """
    if channel:
        stored: object = channel[:32]
    else:
        held = select(summaries.c.channel).where(summaries.c.conversation_id == conversation_id)
        stored = func.coalesce(held.scalar_subquery(), UNKNOWN_CHANNEL)
    conn.execute(
        insert(conversation_messages).values(
            conversation_id=conversation_id,
            at=at,
            sender=message.sender,
            channel=stored,
            text=message.text[:MAX_MESSAGE_CHARS],
            intent=(message.intent or "")[:64] or None,
            confidence=message.confidence,
            sentiment=(message.sentiment or "")[:16] or None,
            agent_id=message.agent_id,
        )
    )
    if message.sender == "agent":
        conn.execute(
            update(handoffs)
            .where(
                handoffs.c.conversation_id == conversation_id,
                handoffs.c.status.in_(OPEN_STATES),
                handoffs.c.first_reply_at.is_(None),
            )
            .values(first_reply_at=at)
        )
