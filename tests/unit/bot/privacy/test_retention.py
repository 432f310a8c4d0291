"""``shopbot retention``: conversations idle past the period are deleted (or anonymised in place),
recent ones stay, a second run changes nothing, and each run that acts is audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.console.transcript import events as tracker_events
from bot.privacy import retention
from bot.storage.audit import AuditLog
from bot.storage.engine import make_engine
from bot.storage.handoff_tables import conversation_summaries
from bot.storage.migrate import table_metadata, upgrade_to_head
from core.settings import Settings
from tests.unit.bot.console.helpers import FakeClock, TrackerStore
from tests.unit.bot.privacy.shoppers import (
    ISABELLA,
    SOFIA,
    dump,
    isabella_events,
    seed_everywhere,
    sofia_events,
    write_store_db,
)

EPOCH = dt.datetime(1970, 1, 1)


def stamp(moment: dt.datetime) -> float:
    return (moment - EPOCH).total_seconds()


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()  # 2026-12-01 09:00 UTC


@pytest.fixture()
def world(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[Settings, Engine, TrackerStore]]:
    settings = Settings(
        root=tmp_path,
        app_db_url=f"sqlite:///{tmp_path / 'app.db'}",
        tracker_store_url="sqlite:///var/tracker.db",
        store_db_url=write_store_db(tmp_path / "shop.db"),
        retention_days=30,
    )
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    engine = make_engine(url)
    path = settings.sqlite_path(settings.tracker_store_url)
    assert path is not None
    tracker = TrackerStore(path)
    old = clock.now - dt.timedelta(days=100)
    recent = clock.now - dt.timedelta(days=2)
    seed_everywhere(
        engine, tracker, "c-old", isabella_events(start=stamp(old)), old, ISABELLA["email"]
    )
    seed_everywhere(
        engine, tracker, "c-recent", sofia_events(start=stamp(recent)), recent, SOFIA["email"]
    )
    # Old in the tracker store, but the shopper wrote again yesterday: recent.
    tracker.add("c-back", *sofia_events(start=stamp(old)))
    tracker.add("c-back", *sofia_events(start=stamp(clock.now - dt.timedelta(days=1))))
    yield settings, engine, tracker
    tracker.close()
    engine.dispose()


def senders(tracker: TrackerStore) -> set[str]:
    with tracker.engine.connect() as conn:
        return set(conn.execute(select(tracker_events.c.sender_id).distinct()).scalars())


def test_delete_mode_removes_old_conversations_everywhere_and_is_idempotent(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    settings, engine, tracker = world
    assert retention.main([], settings=settings, clock=clock) == 0  # 30 days from the setting

    assert senders(tracker) == {"c-recent", "c-back"}
    everything = dump(engine, tracker)
    assert "c-old" not in everything and "isabella" not in everything
    assert "c-recent" in everything
    (entry,) = AuditLog(engine).recent("retention")
    assert entry.target == "older_than:30d" and entry.actor_label == "cli"
    assert entry.detail is not None
    assert entry.detail["mode"] == "delete" and entry.detail["conversations"] == 1
    assert entry.detail["cutoff"] == "2026-11-01T09:00:00Z"
    assert entry.detail["tracker_events"] == 5

    assert retention.main([], settings=settings, clock=clock) == 0  # nothing left to do
    assert len(AuditLog(engine).recent("retention")) == 1
    assert senders(tracker) == {"c-recent", "c-back"}


def test_a_shorter_period_and_a_dry_run(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    settings, engine, tracker = world
    before = dump(engine, tracker)
    assert retention.main(["--older-than", "1", "--dry-run"], settings=settings, clock=clock) == 0
    assert dump(engine, tracker) == before and AuditLog(engine).recent() == []
    assert (
        retention.main(["--older-than", "1", "--batch", "1"], settings=settings, clock=clock) == 0
    )
    assert senders(tracker) == {"c-back"}  # its last message is from 1 day ago: kept


def test_anonymise_mode_masks_in_place_keeps_the_analytics_and_runs_once(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    settings, engine, tracker = world
    argv = ["--mode", "anonymise", "--older-than", "30"]
    assert retention.main(argv, settings=settings, clock=clock) == 0

    assert senders(tracker) == {"c-old", "c-recent", "c-back"}  # nothing deleted
    with tracker.engine.connect() as conn:
        rows = conn.execute(
            select(tracker_events.c.data, tracker_events.c.intent_name).where(
                tracker_events.c.sender_id == "c-old"
            )
        ).all()
    datas = [json.loads(r.data) for r in rows]
    assert all(d["metadata"]["shopbot_anonymised"] is True for d in datas)
    assert datas[0]["text"] == "Hi, my email is [email] and my phone is [phone]"
    assert datas[0]["parse_data"]["text"] == datas[0]["text"]
    assert datas[0]["parse_data"]["entities"][0]["value"] == "[email]"
    assert datas[0]["parse_data"]["intent"]["name"] == "order_status"  # analytics keep this
    assert rows[0].intent_name == "order_status"
    assert "order 104233 arrived on 2026-11-28" in datas[2]["text"]
    everything = dump(engine, tracker)
    assert "isabella" not in everything and "7946 0958" not in everything
    assert "sofia.perez@example.com" in everything  # the recent conversation is left alone
    with engine.connect() as conn:
        summary = conn.execute(
            select(conversation_summaries).where(
                conversation_summaries.c.conversation_id == "c-old"
            )
        ).one()
    assert summary.customer == "[email]" and summary.user_messages == 1
    (entry,) = AuditLog(engine).recent("retention")
    assert entry.detail is not None and entry.detail["mode"] == "anonymise"
    assert entry.detail["tracker_events"] == 5

    after = dump(engine, tracker)
    assert retention.main(argv, settings=settings, clock=clock) == 0  # marked: skipped
    assert dump(engine, tracker) == after
    assert len(AuditLog(engine).recent("retention")) == 1


def test_retention_off_and_bad_arguments(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    settings, engine, tracker = world
    settings.retention_days = 0
    before = dump(engine, tracker)
    assert retention.main([], settings=settings, clock=clock) == 0
    assert dump(engine, tracker) == before
    with pytest.raises(SystemExit) as exit_info:
        retention.main(["--older-than", "-3"], settings=settings, clock=clock)
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit):
        retention.main(["--mode", "shred"], settings=settings, clock=clock)


def test_settings_refuse_a_bad_retention() -> None:
    with pytest.raises(ValueError, match="retention_days must be 0"):
        Settings(retention_days=-1)
    with pytest.raises(ValueError, match="retention_mode is 'shred'"):
        Settings(retention_mode="shred")


def test_only_widget_sessions_old_in_the_app_database_are_deleted_too(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    settings, engine, tracker = world
    widget = table_metadata().tables["widget_conversations"]
    with engine.begin() as conn:
        conn.execute(
            widget.insert().values(
                id="w-abandoned", last_seq=0, created_at=clock.now - dt.timedelta(days=90)
            )
        )
    assert retention.main(["--older-than", "30"], settings=settings, clock=clock) == 0
    assert "w-abandoned" not in dump(engine, tracker)


def test_anonymise_mode_unlinks_the_old_conversations_telegram_accounts(
    world: tuple[Settings, Engine, TrackerStore], clock: FakeClock
) -> None:
    """An anonymised conversation keeps no tie to the store customer: its Telegram user's link
    (which holds the customer's token) goes; a user who wrote recently keeps theirs."""
    from bot.storage.telegram import TelegramLinks

    settings, engine, tracker = world
    links = TelegramLinks(engine)
    for user_id, token in ((90017, "isabella-token"), (90042, "sofia-token")):
        assert links.redeem(links.create_code(token), user_id)
    old = clock.now - dt.timedelta(days=100)
    tracker.add("telegram:90017", *isabella_events(start=stamp(old)))
    tracker.add("telegram:90042", *sofia_events(start=stamp(clock.now - dt.timedelta(days=1))))

    argv = ["--mode", "anonymise", "--older-than", "30"]
    assert retention.main(argv, settings=settings, clock=clock) == 0

    assert links.token_for(90017) is None
    assert links.token_for(90042) == "sofia-token"
