"""Seeding conversations: Rasa reads the seeded tracker rows, and the summary and handoff rows are
exactly what the real event broker makes of those events."""

from __future__ import annotations

import csv
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select

from bot.storage.engine import make_engine
from bot.storage.handoff_tables import conversation_summaries, handoffs
from bot.storage.message_tables import conversation_messages, shopper_turns_daily
from bot.storage.migrate import upgrade_to_head
from training.bench import seed_conversations
from training.bench.seed_conversations import SeedArgs, SeedReport, seed
from training.bench.shopper_corpus import load_corpus

ROOT = Path(__file__).resolve().parents[3]
PER_INTENT = 12
NOW = 1_790_000_000.0  # a fixed "now": the same conversations every run


def make_corpus_root(root: Path) -> Path:
    """A project root whose prepared NLU split holds real committed text: Bitext utterances per
    intent and the handwritten ``affirm`` examples; one complaint labelled negative."""
    rows: list[tuple[str, str, str]] = []
    seen: Counter[str] = Counter()
    with (ROOT / "data/demo/bitext/v11_instruction_intent.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            intent = row["category"]
            if seen[intent] < PER_INTENT:
                seen[intent] += 1
                rows.append((row["text"], intent, f"{intent}/{seen[intent]:04d}"))
    chitchat = yaml.safe_load((ROOT / "bot/data/nlu/chitchat.yml").read_text(encoding="utf-8"))
    for block in chitchat["nlu_source"]:
        if block.get("intent") == "affirm":
            for line in block["examples"].splitlines()[:PER_INTENT]:
                rows.append((line.lstrip("- ").strip(), "affirm", "affirm/0000"))
    (root / "var/nlu").mkdir(parents=True)
    with (root / "var/nlu/test.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "group"])
        writer.writerows(rows)
    complaint = next(text for text, intent, _ in rows if intent == "complaint")
    (root / "var/sentiment").mkdir(parents=True)
    with (root / "var/sentiment/eval_shopper.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "group", "source"])
        writer.writerow([complaint, "negative", "nlu:complaint/0001", "shopper"])
    for linked in ("bot/domain", "bot/data/rules", "data/demo/bitext"):
        (root / linked).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT / linked, root / linked)
    return root


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus_root(tmp_path_factory.mktemp("corpus"))


def small_args(tmp: Path, **overrides: Any) -> SeedArgs:
    """60 conversations with every handoff state (waiting, claimed, returned, closed, left)."""
    values: dict[str, Any] = {
        "tracker_url": f"sqlite:///{tmp / 'tracker.db'}",
        "app_db_url": f"sqlite:///{tmp / 'app.db'}",
        "conversations": 60,
        "waiting": 0.1,
        "claimed": 0.1,
        "ended": 0.35,
        "agents": 2,
        "customer_share": 1.0,
        "now": NOW,
    }
    values.update(overrides)
    return SeedArgs(**values)


@pytest.fixture(scope="module")
def seeded(
    corpus_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SeedArgs, SeedReport]:
    tmp = tmp_path_factory.mktemp("seeded")
    args = small_args(tmp)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seed_conversations, "customer_ids", lambda root: ["101", "102", "103"])
        report = seed(args, corpus_root)
    return args, report


def tracker_events(url: str) -> dict[str, list[dict[str, Any]]]:
    """Each conversation's stored events, in id order (as Rasa reads them back)."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(seed_conversations.tracker_table()).order_by("id")
            ).mappings()
            out: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                data = json.loads(row["data"])
                assert row["type_name"] == data["event"]
                assert row["timestamp"] == data["timestamp"]
                assert row["action_name"] == data.get("name")
                assert row["intent_name"] == (data.get("parse_data") or {}).get("intent", {}).get(
                    "name"
                )
                out[row["sender_id"]].append(data)
    finally:
        engine.dispose()
    return out


def app_rows(url: str, table: Any) -> list[dict[str, Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]
    finally:
        engine.dispose()


def test_the_seed_writes_what_it_reports(seeded: tuple[SeedArgs, SeedReport]) -> None:
    args, report = seeded
    assert report.conversations == 60
    assert report.handoffs == {"waiting": 6, "claimed": 6, "returned": 9, "closed": 9, "left": 2}
    events = tracker_events(args.tracker_url)
    assert len(events) == 60 and sum(map(len, events.values())) == report.events
    assert len(app_rows(args.app_db_url, conversation_summaries)) == 60
    assert Counter(h["status"] for h in app_rows(args.app_db_url, handoffs)) == report.handoffs


def test_rasa_reads_the_seeded_trackers(seeded: tuple[SeedArgs, SeedReport]) -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker

    args, _ = seeded
    status = {h["conversation_id"]: h["status"] for h in app_rows(args.app_db_url, handoffs)}
    for sender, dicts in tracker_events(args.tracker_url).items():
        events = [Event.from_parameters(d) for d in dicts]
        assert [e.as_dict() for e in events] == dicts  # the stored JSON is Rasa's own
        tracker = DialogueStateTracker.from_events(sender, events, slots=[])
        assert tracker.is_paused() == (status.get(sender) in ("waiting", "claimed")), sender
        timestamps = [d["timestamp"] for d in dicts]
        assert timestamps == sorted(timestamps), sender
        assert timestamps[-1] <= NOW


def test_summaries_and_handoffs_match_what_the_event_broker_makes_of_the_events(
    seeded: tuple[SeedArgs, SeedReport], tmp_path: Path
) -> None:
    from bot.handoff.broker import HandoffEventBroker

    args, _ = seeded
    replay_url = f"sqlite:///{tmp_path / 'replayed.db'}"
    upgrade_to_head(replay_url)
    engine = make_engine(replay_url)
    broker = HandoffEventBroker(engine)
    for sender, dicts in tracker_events(args.tracker_url).items():
        for data in dicts:  # what Rasa's tracker store publishes on save
            broker.publish({"sender_id": sender, **data})
    engine.dispose()

    def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {r["conversation_id"]: r for r in rows}

    seeded_summaries = by_id(app_rows(args.app_db_url, conversation_summaries))
    assert seeded_summaries == by_id(app_rows(replay_url, conversation_summaries))
    assert any(s["customer"] for s in seeded_summaries.values())
    assert {s["last_sentiment"] for s in seeded_summaries.values()} >= {"neutral", "negative"}
    # The list filters' columns are folded too (and some shopper turns were unsure).
    assert any(s["negative_turns"] for s in seeded_summaries.values())
    assert any(s["min_confidence"] < 0.55 for s in seeded_summaries.values())
    assert all(s["reviewed_at"] is None for s in seeded_summaries.values())

    replayed = by_id(app_rows(replay_url, handoffs))
    seeded_handoffs = by_id(app_rows(args.app_db_url, handoffs))
    assert replayed.keys() == seeded_handoffs.keys()
    for cid, row in seeded_handoffs.items():
        other = replayed[cid]
        for column in ("channel", "reason", "customer", "first_reply_at"):
            assert row[column] == other[column], (cid, column)
        # The broker opens a handoff on pause and ends it as "left" on resume; claims and an
        # agent's hand-back are the console's updates, not tracker events.
        assert other["status"] == ("waiting" if row["status"] in ("waiting", "claimed") else "left")
        assert (row["agent_id"] is not None) == (row["status"] in ("claimed", "returned", "closed"))
        assert (row["timeout_notified_at"] is not None) == (row["status"] == "waiting")
    assert {h["reason"] for h in seeded_handoffs.values()} == {"asked", "frustration"}
    answered = [h for h in seeded_handoffs.values() if h["first_reply_at"] is not None]
    assert answered and all(h["status"] in ("claimed", "returned", "closed") for h in answered)
    assert all(h["first_reply_at"] > h["claimed_at"] for h in answered)

    # The message rows (search, analytics): the same rows, in the same order per conversation.
    def messages(url: str) -> list[dict[str, Any]]:
        rows = app_rows(url, conversation_messages)
        return [
            {k: v for k, v in r.items() if k != "id"} for r in sorted(rows, key=lambda r: r["id"])
        ]

    seeded_messages = messages(args.app_db_url)
    assert seeded_messages == messages(replay_url)
    assert {m["sender"] for m in seeded_messages} == {"user", "bot", "agent", "notice"}
    assert sum(m["sender"] == "user" for m in seeded_messages) == sum(
        s["user_messages"] for s in seeded_summaries.values()
    )

    # Shopper turns per day (analytics): the same counts, the same confidence sums.
    def daily(url: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        key = ("day", "channel", "intent", "sentiment")
        return {
            tuple(r[k] for k in key): {k: v for k, v in r.items() if k not in key}
            for r in app_rows(url, shopper_turns_daily)
        }

    seeded_daily, replayed_daily = daily(args.app_db_url), daily(replay_url)
    assert seeded_daily.keys() == replayed_daily.keys()
    for key, counts in seeded_daily.items():
        assert counts == pytest.approx(replayed_daily[key]), key
    assert sum(c["turns"] for c in seeded_daily.values()) == sum(
        s["user_messages"] for s in seeded_summaries.values()
    )


def test_the_same_seed_gives_the_same_conversations(corpus_root: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    seed(small_args(first, conversations=15), corpus_root)
    seed(small_args(second, conversations=15), corpus_root)
    assert tracker_events(small_args(first).tracker_url) == tracker_events(
        small_args(second).tracker_url
    )


def test_seeding_into_stores_with_conversations_is_refused(
    seeded: tuple[SeedArgs, SeedReport], corpus_root: Path
) -> None:
    args, _ = seeded
    with pytest.raises(RuntimeError, match="--allow-existing"):
        seed(args, corpus_root)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"conversations": 0},
            "conversations must be greater than 0. Currently, conversations is 0",
        ),
        ({"waiting": 1.5}, "waiting must be between 0 and 1. Currently, waiting is 1.5"),
        ({"waiting": 0.6, "ended": 0.6}, r"waiting \+ claimed \+ ended must be at most 1"),
        ({"agents": 0}, "agents must be at least 1 when claimed or ended is above 0"),
    ],
)
def test_bad_arguments_name_the_parameter(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        small_args(tmp_path, **overrides)


def test_the_corpus_reads_the_projects_texts(corpus_root: Path) -> None:
    corpus = load_corpus(corpus_root)
    assert "contact_human_agent" in corpus.messages and "affirm" in corpus.messages
    assert "contact_human_agent" not in corpus.topics
    action, text = corpus.bot_reply("complaint")
    assert action == "utter_complaint" and text.startswith("I'm really sorry about this.")
    complaint = corpus.messages["complaint"][0]
    assert corpus.sentiment_of(complaint) == "negative"
    assert corpus.offer_text and corpus.offer_buttons
    assert all(len(r) <= 401 for replies in corpus.agent_replies.values() for r in replies)


def test_without_prepared_data_the_corpus_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shopbot prepare"):
        load_corpus(tmp_path)


def test_the_command_line_builds_the_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    received: list[SeedArgs] = []

    def fake_seed(args: SeedArgs, root: Path = ROOT) -> SeedReport:
        received.append(args)
        return SeedReport(args.conversations, 7, {"waiting": 1}, 0.5)

    monkeypatch.setattr(seed_conversations, "seed", fake_seed)
    tracker = f"sqlite:///{tmp_path / 't.db'}"
    code = seed_conversations.main(
        ["--tracker-url", tracker, "--conversations", "25", "--waiting", "0.04", "--allow-existing"]
    )
    assert code == 0
    assert received[0].tracker_url == tracker and received[0].conversations == 25
    assert received[0].waiting == 0.04 and received[0].allow_existing is True
    assert "Seeded 25 conversations (7 tracker events" in capsys.readouterr().out
