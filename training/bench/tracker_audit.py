"""Audit the tracker store against what the load generator's shoppers were answered.

The Locust shoppers of the "Reliability" section write one line per message they sent
(``exchange_log``: sender, its number within the sender, the text, the error or "" when it was
answered). Afterwards every conversation is read back from the SQL tracker store, in the order
the rows were written, and compared:

- an **accepted** message (answered for real) must be stored as a ``user`` event — else it is
  **lost**;
- the accepted messages must be stored in the order they were sent — one found only before an
  earlier message's event is **reordered**;
- each stored accepted message must be followed by a ``bot`` event before the next ``user``
  event — else its **reply is missing** from the store;
- a message that got an error may or may not have been stored (the server may have failed before
  or after storing it); those stored anyway are counted, not judged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa


@dataclass(frozen=True)
class Exchange:
    """One message a shopper sent, as the load generator logged it."""

    sender: str
    number: int
    text: str
    error: str
    sent_at: float
    done_at: float

    @property
    def accepted(self) -> bool:
        return not self.error


@dataclass
class AuditResult:
    """What the audit found, over every audited conversation."""

    conversations: int = 0
    messages: int = 0
    accepted: int = 0
    errors: int = 0
    lost: int = 0
    reordered: int = 0
    replies_missing: int = 0
    stored_despite_error: int = 0
    lost_messages: list[Exchange] = field(default_factory=list, repr=False)

    def as_numbers(self, prefix: str) -> dict[str, float]:
        fields_ = ("conversations", "messages", "accepted", "errors", "lost", "reordered")
        numbers = {f"{prefix}_{name}": float(getattr(self, name)) for name in fields_}
        numbers[f"{prefix}_replies_missing"] = float(self.replies_missing)
        return numbers


def read_exchanges(path: Path) -> list[Exchange]:
    """The exchange log, in the order each sender sent its messages."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Exchange(row["s"], row["n"], row["m"], row["err"], row["t0"], row["t1"]))
    return sorted(out, key=lambda e: (e.sender, e.number))


def stored_conversations(
    tracker_url: str, senders: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per sender, its ``user``/``bot`` events as (kind, text), in the order they were stored."""
    wanted = set(senders)
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    engine = sa.create_engine(tracker_url)
    try:
        with engine.connect() as db:
            rows = db.execute(
                sa.text(
                    "SELECT sender_id, type_name, data FROM events "
                    "WHERE type_name IN ('user', 'bot') ORDER BY id"
                )
            )
            for sender, kind, data in rows:
                if sender in wanted:
                    out[sender].append((kind, json.loads(data).get("text") or ""))
    finally:
        engine.dispose()
    return out


def audit_conversation(
    sent: list[Exchange], stored: list[tuple[str, str]], result: AuditResult
) -> None:
    """Compare one conversation's exchanges with its stored events; add to ``result``."""
    users = [i for i, (kind, _text) in enumerate(stored) if kind == "user"]
    matched: set[int] = set()
    cursor = 0  # position in ``users`` after the last matched accepted message
    for exchange in sent:
        result.messages += 1
        if not exchange.accepted:
            result.errors += 1
            continue
        result.accepted += 1
        later = next(
            (
                k
                for k in range(cursor, len(users))
                if stored[users[k]][1] == exchange.text and k not in matched
            ),
            None,
        )
        if later is None:
            earlier = next(
                (
                    k
                    for k in range(cursor)
                    if stored[users[k]][1] == exchange.text and k not in matched
                ),
                None,
            )
            if earlier is None:
                result.lost += 1
                result.lost_messages.append(exchange)
            else:
                result.reordered += 1
                matched.add(earlier)
            continue
        matched.add(later)
        cursor = later + 1
        position = users[later]
        following = next((kind for kind, _ in stored[position + 1 :] if kind == "user"), None)
        replies = [kind for kind, _ in stored[position + 1 :]]
        until_next_user = replies[: replies.index("user")] if following else replies
        if "bot" not in until_next_user:
            result.replies_missing += 1
    errored_texts = [e.text for e in sent if not e.accepted]
    unmatched_texts = [stored[users[k]][1] for k in range(len(users)) if k not in matched]
    result.stored_despite_error += sum(1 for t in unmatched_texts if t in errored_texts)


def audit(exchanges: list[Exchange], tracker_url: str) -> AuditResult:
    """Audit every conversation of ``exchanges`` against the tracker store at ``tracker_url``."""
    by_sender: dict[str, list[Exchange]] = defaultdict(list)
    for exchange in exchanges:
        by_sender[exchange.sender].append(exchange)
    stored = stored_conversations(tracker_url, by_sender)
    result = AuditResult(conversations=len(by_sender))
    for sender, sent in by_sender.items():
        audit_conversation(sent, stored.get(sender, []), result)
    return result
