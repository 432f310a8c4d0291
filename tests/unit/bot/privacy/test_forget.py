"""``shopbot forget``: one shopper's conversations leave the tracker store, every ShopBot table
and every export; other shoppers stay; the audit log has a hash of the email, never the email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.console.app import build_app, build_console
from bot.console.context import Console
from bot.privacy import forget
from bot.privacy.erasure import email_digest
from bot.privacy.masking import MaskerSource
from bot.storage.audit import AuditLog
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from bot.storage.telegram import TelegramLinks, telegram_user_of
from core.settings import Settings
from tests.unit.bot.console.helpers import (
    ADMIN,
    FakeClock,
    RecordingRasa,
    TestClient,
    TrackerStore,
    cheap_passwords,
    signed_in,
    user_event,
)
from tests.unit.bot.privacy.shoppers import (
    DIRECTORY,
    ISABELLA,
    SOFIA,
    dump,
    isabella_events,
    seed_everywhere,
    sofia_events,
    write_store_db,
)

KEY = "unit-client-key-secret-0123456789abcdef"
# Isabella's data in the forms it was written (lower-cased: ``dump`` is).
GONE = (
    "isabella",
    "tanaka",
    "washington",
    "+44 20 7946 0958",
    "4111-1111-1111-1111",
    "713 555 0109",
    "c-isa-",
)


def make_settings(tmp_path: Path) -> Settings:
    return Settings(
        root=tmp_path,
        app_db_url=f"sqlite:///{tmp_path / 'app.db'}",
        tracker_store_url="sqlite:///var/tracker.db",
        store_db_url=write_store_db(tmp_path / "shop.db"),
        console_secret="unit-console-secret-0123456789abcdef",
        client_key_secret=KEY,
        lock_store_url="",
        console_rate_limit_url="",
    )


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple[Settings, Engine, TrackerStore]]:
    settings = make_settings(tmp_path)
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    engine = make_engine(url)
    path = settings.sqlite_path(settings.tracker_store_url)
    assert path is not None
    tracker = TrackerStore(path)
    at = dt.datetime(2026, 11, 30, 10, 0)
    # Isabella: a verified widget conversation, and a REST one where she only wrote her email.
    seed_everywhere(engine, tracker, "c-isa-widget", isabella_events(), at, ISABELLA["email"])
    tracker.add(
        "c-isa-rest",
        user_event("it's ISABELLA.TANAKA@example.org, 8323 Washington Ave", "inform", 0.9),
    )
    seed_everywhere(engine, tracker, "c-sofia", sofia_events(), at, SOFIA["email"])
    yield settings, engine, tracker
    tracker.close()
    engine.dispose()


def console_on(settings: Settings, engine: Engine) -> Console:
    console = build_console(settings, engine, cheap_passwords(), FakeClock(), rasa=RecordingRasa())
    console.agents.add(*ADMIN[:3], ADMIN[3])
    console.maskers = MaskerSource.fixed(DIRECTORY)
    return console


def test_forget_by_email_leaves_nothing_of_the_shopper_anywhere(
    world: tuple[Settings, Engine, TrackerStore], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, engine, tracker = world
    before = dump(engine, tracker)
    assert all(secret in before for secret in GONE)

    assert forget.main(["--email", "Isabella.Tanaka@example.org"], settings=settings) == 0

    after = dump(engine, tracker)
    for secret in GONE:
        assert secret not in after, f"{secret!r} survived the erasure"
    # Sofia is untouched, everywhere.
    assert "sofia.perez@example.com" in after
    for table in ("events:", "conversation_summaries:", "handoffs:", "widget_events:"):
        assert any(line.startswith(table) and "c-sofia" in line for line in after.splitlines())
    out = capsys.readouterr().out
    assert '"conversations": 2' in out
    # The store's order database is the store's record of its customer: kept, and said so.
    assert "still has a customer account with this email" in out
    # Not even in the database files' free pages, write-ahead logs or full-text index segments.
    for db_file in (settings.root / "app.db", settings.root / "var" / "tracker.db"):
        raw = db_file.read_bytes().lower()
        assert b"isabella" not in raw and b"7946 0958" not in raw, db_file.name

    (entry,) = AuditLog(engine).recent("forget")
    assert entry.actor is None and entry.actor_label == "cli"
    assert entry.target == email_digest("isabella.tanaka@example.org", KEY)
    assert "isabella" not in str(entry.detail).lower()
    assert entry.detail is not None and entry.detail["conversations"] == 2
    assert entry.detail["app_rows"]["conversation_summaries"] == 1

    # ... and in no export, masked or not, of one conversation or the whole list.
    console = console_on(settings, engine)
    with TestClient(build_app(console), base_url="http://127.0.0.1:5006") as client:
        signed_in(client, ADMIN)
        assert client.get("/api/conversations/c-isa-widget/export").status_code == 404
        assert client.get("/api/conversations/c-isa-widget/export?unmasked=1").status_code == 404
        for query in ("", "?unmasked=1", "?format=csv&unmasked=1"):
            body = client.get(f"/api/export/conversations{query}").text.lower()
            assert "c-sofia" in body
            for secret in GONE:
                assert secret not in body


def test_forget_by_conversation_and_dry_run(
    world: tuple[Settings, Engine, TrackerStore], capsys: pytest.CaptureFixture[str]
) -> None:
    settings, engine, tracker = world
    assert forget.main(["--conversation", "c-isa-rest", "--dry-run"], settings=settings) == 0
    assert '"tracker_events": 1' in capsys.readouterr().out
    assert "c-isa-rest" in dump(engine, tracker)  # a dry run changes nothing
    assert AuditLog(engine).recent() == []

    assert forget.main(["--conversation", "c-isa-rest"], settings=settings) == 0
    after = dump(engine, tracker)
    assert "c-isa-rest" not in after and "c-isa-widget" in after
    (entry,) = AuditLog(engine).recent("forget")
    assert entry.target == "conversations:1"


def test_forget_needs_an_email_or_a_conversation(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        forget.main([], settings=make_settings(tmp_path))
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        forget.main(["--email", "not-an-email"], settings=make_settings(tmp_path))


def test_forget_unlinks_the_shoppers_telegram_account_only(
    world: tuple[Settings, Engine, TrackerStore],
) -> None:
    """A Telegram user linked to the store customer is personal data of the conversation: erasing
    the conversation removes the link (a group member's too); other users keep theirs."""
    settings, engine, tracker = world
    links = TelegramLinks(engine)
    for user_id, token in ((90017, "isabella-token"), (90023, "isabella-token"), (90042, "sofia")):
        assert links.redeem(links.create_code(token), user_id)
    tracker.add("telegram:90017", user_event("it's isabella.tanaka@example.org", "inform", 0.9))
    tracker.add("telegram:-100777:90023", user_event("isabella.tanaka@example.org", "inform", 0.9))
    tracker.add("telegram:90042", user_event("hello", "greet", 0.9))

    assert forget.main(["--email", "isabella.tanaka@example.org"], settings=settings) == 0

    assert links.token_for(90017) is None and links.token_for(90023) is None
    assert links.token_for(90042) == "sofia"
    (entry,) = AuditLog(engine).recent("forget")
    assert entry.detail is not None and entry.detail["app_rows"]["telegram_links"] == 2


def test_telegram_conversation_ids_name_their_user() -> None:
    from bot.channels.telegram_policy import sender_id

    assert telegram_user_of(sender_id(90017, 90017, group=False)) == 90017
    assert telegram_user_of(sender_id(-100777, 90023, group=True)) == 90023
    assert telegram_user_of("c-isa-widget") is None and telegram_user_of("telegram:x") is None
