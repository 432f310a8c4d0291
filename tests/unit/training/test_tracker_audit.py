"""The tracker store audit of the "Reliability" section: lost, reordered, replies missing.

The audit against a real tracker store runs in the section itself (``shopbot bench --only
reliability``); here its comparison is checked on conversations built by hand, and its SQL on a
SQLite file laid out as Rasa's ``events`` table.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from training.bench.tracker_audit import (
    AuditResult,
    Exchange,
    audit,
    audit_conversation,
    read_exchanges,
)


def sent(*texts: str, errors: tuple[int, ...] = ()) -> list[Exchange]:
    return [
        Exchange("s", i, t, "HTTP 502" if i in errors else "", float(i), float(i) + 0.5)
        for i, t in enumerate(texts)
    ]


def turns(*texts: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for text in texts:
        out += [("user", text), ("bot", f"re: {text}")]
    return out


def check(exchanges: list[Exchange], stored: list[tuple[str, str]]) -> AuditResult:
    result = AuditResult()
    audit_conversation(exchanges, stored, result)
    return result


def test_a_conversation_stored_in_order_with_every_reply_is_clean() -> None:
    result = check(sent("hi", "where is my order", "hi"), turns("hi", "where is my order", "hi"))
    assert (result.accepted, result.lost, result.reordered, result.replies_missing) == (3, 0, 0, 0)


def test_a_missing_message_is_lost_and_a_swapped_one_is_reordered() -> None:
    assert check(sent("hi", "thanks"), turns("hi")).lost == 1
    swapped = check(sent("hi", "thanks"), turns("thanks", "hi"))
    assert swapped.reordered == 1 and swapped.lost == 0


def test_a_stored_message_without_a_reply_before_the_next_one_is_counted() -> None:
    stored = [("user", "hi"), ("user", "thanks"), ("bot", "re: thanks")]
    assert check(sent("hi", "thanks"), stored).replies_missing == 1


def test_errors_are_not_judged_but_counted_when_stored_anyway() -> None:
    result = check(sent("hi", "thanks", errors=(1,)), turns("hi", "thanks"))
    assert (result.errors, result.lost, result.stored_despite_error) == (1, 0, 1)
    assert check(sent("hi", "thanks", errors=(1,)), turns("hi")).lost == 0


def test_the_exchange_log_and_the_events_table_are_read(tmp_path: Path) -> None:
    log = tmp_path / "exchanges.jsonl"
    rows = [
        {"s": "b", "n": 0, "m": "hi", "err": "", "t0": 1.0, "t1": 1.1},
        {"s": "a", "n": 1, "m": "thanks", "err": "", "t0": 3.0, "t1": 3.1},
        {"s": "a", "n": 0, "m": "hi", "err": "", "t0": 2.0, "t1": 2.1},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    exchanges = read_exchanges(log)
    assert [(e.sender, e.number) for e in exchanges] == [("a", 0), ("a", 1), ("b", 0)]
    db_file = tmp_path / "tracker.db"
    with sqlite3.connect(db_file) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, data TEXT)"
        )
        for sender, kind, text in [
            ("a", "user", "hi"), ("a", "bot", "hello"), ("b", "user", "hi"),
            ("a", "action", ""), ("a", "user", "thanks"), ("other", "user", "x"),
        ]:  # fmt: skip
            db.execute(
                "INSERT INTO events (sender_id, type_name, data) VALUES (?, ?, ?)",
                (sender, kind, json.dumps({"text": text})),
            )
    result = audit(exchanges, f"sqlite:///{db_file}")
    assert (result.conversations, result.accepted, result.lost) == (2, 3, 0)
    assert result.replies_missing == 2  # a's "thanks" and b's "hi" have no stored reply
