"""Two shoppers of the demo store with personal data in several formats, for the privacy tests.

The people are two of the demo order database's customers (``shopbot prepare`` generates them:
fictional names, example.org/example.com emails, 555-01xx phones); the UK number is an Ofcom
drama number and the card a published test card number.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.engine import Engine

from bot.privacy.directory import StoreDirectory
from bot.privacy.directory import addresses as address_table
from bot.privacy.directory import customers as directory_tables
from bot.storage.conversations import ConversationIndex, SummaryUpdate
from bot.storage.handoffs import HandoffQueue
from bot.storage.migrate import table_metadata
from tests.unit.bot.console.helpers import TrackerStore, bot_event, user_event

ISABELLA: dict[str, Any] = {
    "name": "Isabella Tanaka",
    "email": "isabella.tanaka@example.org",
    "phone": "(713) 555-0109",
    "addresses": [
        {
            "line1": "8323 Washington Ave",
            "line2": "Apt 28D",
            "city": "Houston",
            "region": "TX",
            "postal_code": "77002",
            "country": "US",
        }
    ],
}
SOFIA: dict[str, Any] = {
    "name": "Sofia Perez",
    "email": "sofia.perez@example.com",
    "phone": "(813) 555-0154",
    "addresses": [
        {
            "line1": "9561 Oak St",
            "line2": None,
            "city": "Tampa",
            "region": "FL",
            "postal_code": "33602",
            "country": "US",
        }
    ],
}
DIRECTORY = StoreDirectory.from_records([ISABELLA, SOFIA])

# What must never survive a masked export of Isabella's conversation (and nothing of it may
# survive her erasure).
ISABELLA_PII = (
    "isabella.tanaka",
    "Isabella",
    "Tanaka",
    "+44 20 7946 0958",
    "7946",
    "713",
    "0109",
    "8323",
    "Washington",
    "4111",
    "1111-1111",
    "77002",
)
ORDINARY = ("order 104233 arrived on 2026-11-28", "$24.99", "size 10")


def isabella_events(
    channel: str = "widget", start: float = 1_796_000_000.0
) -> list[dict[str, Any]]:
    """Isabella's conversation: plus-addressed email, UK phone, her address, a card, her name."""
    first = "Hi, my email is isabella.tanaka+shoes@example.org and my phone is +44 20 7946 0958"
    return [
        user_event(
            first,
            "order_status",
            0.91,
            channel=channel,
            timestamp=start,
            entities=[
                {
                    "entity": "email",
                    "value": "isabella.tanaka+shoes@example.org",
                    "start": 16,
                    "end": 49,
                    "extractor": "RegexEntityExtractor",
                }
            ],
        ),
        bot_event("Thanks Isabella, which order?", timestamp=start + 1),
        user_event(
            "order 104233 arrived on 2026-11-28, it was $24.99, size 10. Call me on 713 555 0109",
            "order_status",
            0.88,
            channel=channel,
            timestamp=start + 2,
        ),
        user_event(
            "Please refund card 4111-1111-1111-1111 and send the new one to "
            "8323 Washington Avenue, Apt 28D, Houston, TX 77002",
            "request_refund",
            0.7,
            channel=channel,
            timestamp=start + 3,
        ),
        bot_event("I'll ask a colleague, Ms Tanaka.", timestamp=start + 4),
    ]


def sofia_events(channel: str = "widget", start: float = 1_796_000_100.0) -> list[dict[str, Any]]:
    """Sofia's conversation (another shopper: left alone by Isabella's erasure)."""
    return [
        user_event(
            "I'm Sofia Perez, where is order 599884? email sofia.perez@example.com",
            "order_status",
            0.93,
            channel=channel,
            timestamp=start,
        ),
        bot_event("It is on its way.", timestamp=start + 1),
    ]


def seed_everywhere(
    engine: Engine,
    tracker: TrackerStore,
    conversation_id: str,
    events: list[dict[str, Any]],
    at: dt.datetime,
    customer: str | None = None,
    channel: str = "widget",
) -> None:
    """Put one conversation everywhere ShopBot keeps conversations: Rasa's tracker store, the
    summary, the handoff queue, the widget's event log, a correction, the message search table
    (when it exists)."""
    tracker.add(conversation_id, *events)
    texts = [str(e["text"]) for e in events if e["event"] in ("user", "bot") and e.get("text")]
    ConversationIndex(engine).apply(
        conversation_id,
        SummaryUpdate(at=at, channel=channel, user_text=texts[0], customer=customer),
    )
    HandoffQueue(engine, lambda: at).open(conversation_id, channel, "asked", customer=customer)
    tables = table_metadata().tables
    with engine.begin() as conn:
        agent = conn.execute(select(tables["console_agents"].c.id).limit(1)).scalar()
        if agent is None:
            agent = conn.execute(
                insert(tables["console_agents"]).values(
                    email="bob@example.com",
                    name="Bob Agent",
                    role="agent",
                    password_hash="x",
                    disabled=False,
                    created_at=at,
                    updated_at=at,
                )
            ).inserted_primary_key[0]
        conn.execute(
            insert(tables["widget_conversations"]).values(
                id=conversation_id, last_seq=len(texts), created_at=at
            )
        )
        for seq, said in enumerate(texts, 1):
            conn.execute(
                insert(tables["widget_events"]).values(
                    conversation_id=conversation_id,
                    seq=seq,
                    kind="user",
                    payload={"text": said, "message_id": f"m{seq}"},
                    client_id=f"m{seq}",
                    created_at=at,
                )
            )
        conn.execute(
            insert(tables["corrections"]).values(
                conversation_id=conversation_id,
                event_id=1,
                kind="intent",
                text=texts[0],
                intent="order_status",
                entities=[],
                is_fact=False,
                status="proposed",
                agent_id=agent,
                created_at=at,
            )
        )
        if "conversation_messages" in tables:
            for said in texts:
                conn.execute(
                    insert(tables["conversation_messages"]).values(
                        conversation_id=conversation_id,
                        at=at,
                        sender="user",
                        channel=channel,
                        text=said,
                    )
                )


def dump(engine: Engine, tracker: TrackerStore) -> str:
    """Every row of every table of the application database and of Rasa's tracker store, as
    one lower-cased text (to search for what must be gone)."""
    out = []
    for url_engine in (engine, tracker.engine):
        with url_engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                    out.append(f"{name}: " + " | ".join(map(str, row)))
    return "\n".join(out).lower()


def write_store_db(path: Path) -> str:
    """A store order database holding just the two customers (the two tables masking reads);
    returns its URL."""
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    engine = create_engine(url, future=True)
    directory_tables.metadata.create_all(engine)
    with engine.begin() as conn:
        for cid, person in enumerate((ISABELLA, SOFIA), 1):
            conn.execute(
                insert(directory_tables).values(
                    id=cid, name=person["name"], email=person["email"], phone=person["phone"]
                )
            )
            for address in person["addresses"]:
                conn.execute(insert(address_table).values(customer_id=cid, **address))
    engine.dispose()
    return url
