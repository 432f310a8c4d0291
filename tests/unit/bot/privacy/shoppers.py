"""Two shoppers of the demo store with personal data in several formats, for the privacy tests.

The people are two of the demo order database's customers (``shopbot prepare`` generates them:
fictional names, example.org/example.com emails, 555-01xx phones); the UK number is an Ofcom
drama number and the card a published test card number.
"""

from __future__ import annotations

from typing import Any

from bot.privacy.directory import StoreDirectory
from tests.unit.bot.console.helpers import bot_event, user_event

ISABELLA = {
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
SOFIA = {
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
