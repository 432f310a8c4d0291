"""Reading typed addresses; the errors say what to type."""

from __future__ import annotations

import pytest

from actions.store.addresses import AddressError, parse_address
from actions.store.policy import RETURN_WINDOW_DAYS, return_deadline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 Oak St, Austin, TX 78701", "12 Oak St, Austin, TX 78701, US"),
        ("12 Oak St, Apt 4, Austin, TX 78701, USA", "12 Oak St, Apt 4, Austin, TX 78701, US"),
        ("12 Oak St\nAustin TX 78701-1234", "12 Oak St, Austin, TX 78701-1234, US"),
        ("500 Main St, Boise, id 83702", "500 Main St, Boise, ID 83702, US"),
        # Words before the house number are not part of the street.
        ("ship it to 9 Elm Rd, Reno, NV 89501", "9 Elm Rd, Reno, NV 89501, US"),
        ("new one: 9 Elm Rd, Reno, NV 89501", "9 Elm Rd, Reno, NV 89501, US"),
        ("my address is 9 Elm Rd, Reno, NV 89501", "9 Elm Rd, Reno, NV 89501, US"),
        ("that's 9 Elm Rd, Reno, NV 89501", "9 Elm Rd, Reno, NV 89501, US"),
        # No commas at all: the street ends at its type.
        ("9 Elm Rd Reno NV 89501", "9 Elm Rd, Reno, NV 89501, US"),
        (
            "40 Lake Shore Drive Lake Placid ny 12946",
            "40 Lake Shore Drive, Lake Placid, NY 12946, US",
        ),
        # ...but a street named with a number keeps its name.
        ("County Road 12 Farm, Reno, NV 89501", "County Road 12 Farm, Reno, NV 89501, US"),
    ],
)
def test_parse_address(text: str, expected: str) -> None:
    assert parse_address(text).one_line() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("somewhere nice", "full address"),
        ("12 Oak St, Austin, Texas", "state and ZIP"),
        ("Oak St, Austin, TX 78701", "street address"),
        ("", "full address"),
    ],
)
def test_bad_addresses_say_what_is_missing(text: str, message: str) -> None:
    with pytest.raises(AddressError, match=message):
        parse_address(text)


def test_return_window_counts_from_the_purchase_date() -> None:
    import datetime as dt

    placed = dt.datetime(2026, 1, 1, 23, 59)
    assert return_deadline(placed) == dt.date(2026, 1, 1) + dt.timedelta(days=RETURN_WINDOW_DAYS)
