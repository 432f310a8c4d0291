"""The analytics report on the hand-checked conversations of message_data.py (SQLite here;
``check_report`` runs on PostgreSQL too), its range checks and its quantiles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Engine

from bot.console.agents import AgentStore
from bot.storage.analytics import Analytics, AnalyticsRange, quantile
from bot.storage.corrections import CorrectionStore
from tests.unit.bot.console.helpers import cheap_passwords
from tests.unit.bot.storage.message_data import D, publish_dataset


def load(engine: Engine) -> None:
    """The six conversations and two corrections: one proposed on D+1 (a Wednesday, week of
    Monday 2026-11-30) and accepted, one on D+6 (week of 2026-12-07)."""
    publish_dataset(engine)
    store = AgentStore(engine, cheap_passwords())
    bob = store.get("bob@example.com") or store.add("bob@example.com", "Bob", "agent", "x" * 12)
    ada = store.get("ada@example.com") or store.add("ada@example.com", "Ada", "admin", "y" * 12)
    for days, conversation in ((1, "c2"), (6, "c4")):
        moment = dt.datetime.combine(D + dt.timedelta(days=days), dt.time(15))
        made = CorrectionStore(engine, lambda m=moment: m).propose(
            conversation,
            1,
            "intent",
            "asdf",
            bob.id,
            original_intent="nlu_fallback",
            intent="greet",
        )
        if days == 1:
            CorrectionStore(engine, lambda m=moment: m).review(made.id, True, ada.id)


def check_report(engine: Engine) -> None:
    """Every figure, hand-checked (message_data.py's table)."""
    analytics = Analytics(engine)
    data = analytics.report(AnalyticsRange(D, D + dt.timedelta(days=6))).to_dict()
    t = data["totals"]
    assert (t["conversations"], t["contained"], t["handoffs"]) == (6, 2, 4)
    assert t["containment_rate"] == pytest.approx(2 / 6) and t["handoff_rate"] == pytest.approx(
        4 / 6
    )
    assert (t["user_turns"], t["fallback_turns"], t["conversations_with_fallback"]) == (8, 1, 1)
    assert t["fallback_rate"] == 0.125
    assert (t["thumbs_up"], t["thumbs_down"], t["thumbs_up_rate"]) == (1, 1, 0.5)
    days = {d["day"]: d for d in data["conversations_per_day"]}
    assert len(days) == 7
    assert days["2026-12-01"]["channels"] == {"widget": 2}
    assert days["2026-12-02"]["channels"] == {"rest": 2}
    assert days["2026-12-02"]["containment_rate"] == 0.0
    assert days["2026-12-03"]["channels"] == {"widget": 2}
    assert days["2026-12-01"]["fallback_rate"] == 0.25  # 1 of c1's and c2's 4 shopper turns
    assert days["2026-12-04"] == {"day": "2026-12-04", "channels": {}, "conversations": 0,
                                  "containment_rate": None, "fallback_rate": None}  # fmt: skip
    assert [(r["reason"], r["handoffs"]) for r in data["handoffs_by_reason"]] == [
        ("asked", 3),
        ("frustration", 1),
    ]
    assert data["handoffs_by_reason"][0]["rate"] == 0.5
    first = data["first_response"]
    assert (first["answered"], first["unanswered"]) == (3, 1)
    assert (first["median_s"], first["p90_s"]) == (180.0, pytest.approx(516.0))
    assert [b["handoffs"] for b in first["histogram"]] == [0, 1, 1, 0, 1, 0]  # 60, 180, 600 s
    intents = {i["intent"]: i for i in data["top_intents"]}
    assert [i["intent"] for i in data["top_intents"]][:2] == ["contact_human_agent", "cancel_order"]
    assert intents["contact_human_agent"]["turns"] == 2
    assert intents["contact_human_agent"]["mean_confidence"] == pytest.approx(0.75)
    assert intents["contact_human_agent"]["share"] == 0.25
    assert intents["request_refund"]["low_confidence_turns"] == 1
    assert intents["nlu_fallback"]["low_confidence_turns"] == 1
    assert intents["track_order"]["low_confidence_turns"] == 0
    sentiment = {d["day"]: d for d in data["sentiment_per_day"]}
    assert sentiment["2026-12-01"] == {"day": "2026-12-01", "negative": 1, "neutral": 2,
                                       "positive": 1}  # fmt: skip
    assert sentiment["2026-12-02"] == {"day": "2026-12-02", "negative": 1, "neutral": 1,
                                       "positive": 0}  # fmt: skip
    weeks = {w["week"]: w for w in data["corrections_per_week"]}
    assert list(weeks) == ["2026-11-30", "2026-12-07"]
    assert weeks["2026-11-30"] == {"week": "2026-11-30", "corrections": 1, "proposed": 0,
                                   "accepted": 1, "rejected": 0}  # fmt: skip
    assert weeks["2026-12-07"] == {"week": "2026-12-07", "corrections": 1, "proposed": 1,
                                   "accepted": 0, "rejected": 0}  # fmt: skip

    rest = analytics.report(AnalyticsRange(D, D + dt.timedelta(days=2), "rest")).to_dict()
    assert (rest["totals"]["conversations"], rest["totals"]["contained"]) == (2, 0)
    assert rest["first_response"]["median_s"] == 600.0
    assert rest["first_response"]["unanswered"] == 1
    assert [i["intent"] for i in rest["top_intents"]] == ["contact_human_agent"]
    one_day = analytics.report(AnalyticsRange(D + dt.timedelta(days=2), D + dt.timedelta(days=2)))
    assert one_day.to_dict()["totals"]["conversations"] == 2
    assert one_day.first_response_s == [60.0]


def test_report_on_the_hand_checked_conversations(app_engine: Engine) -> None:
    load(app_engine)
    check_report(app_engine)


def test_an_empty_range_has_no_rates_and_no_division_by_zero(app_engine: Engine) -> None:
    data = Analytics(app_engine).report(AnalyticsRange(D, D)).to_dict()
    assert data["totals"]["conversations"] == 0
    assert data["totals"]["containment_rate"] is None and data["first_response"]["median_s"] is None
    assert data["top_intents"] == [] and data["handoffs_by_reason"] == []


def test_range_checks_name_the_values() -> None:
    with pytest.raises(ValueError, match=r"since must be on or before until\. Currently, since"):
        AnalyticsRange(D, D - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="at most 366 days"):
        AnalyticsRange(D, D + dt.timedelta(days=400))


def test_quantiles_interpolate_like_numpy() -> None:
    assert quantile([], 0.5) is None
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([600.0, 60.0, 180.0], 0.5) == 180.0
    assert quantile([600.0, 60.0, 180.0], 0.9) == pytest.approx(516.0)
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
