"""The Throughput section: its load plan, Locust's statistics and the report it writes."""

from __future__ import annotations

import math
import sqlite3
import stat
from pathlib import Path

import pytest

from training.bench.load_plan import (
    CANCEL_ASKS,
    DECLINE,
    GREETINGS,
    SEARCH_TEMPLATES,
    THANKS,
    TRACK_ASKS,
    Kind,
    build_kinds,
    keep,
    orders,
)
from training.bench.throughput import (
    WEIGHTS,
    KindStats,
    LevelRun,
    plan_file,
    read_stats,
    section_from,
)
from training.bench.widget import PRODUCT_TEMPLATES

ROOT = Path(__file__).resolve().parents[3]
LOCUST_CSV = ROOT / "tests" / "fixtures" / "bench" / "locust_stats.csv"  # written by locust 2.46


def test_locusts_statistics_are_read_per_kind_and_in_total() -> None:
    stats = read_stats(LOCUST_CSV)
    assert set(stats) == {"greeting", "order_tracking", "silent", "Aggregated"}
    greeting = stats["greeting"]
    assert (greeting.requests, greeting.failures, greeting.p50, greeting.p95) == (45, 0, 3, 8)
    assert stats["silent"].failures == 14
    assert stats["Aggregated"].requests == 98 and stats["Aggregated"].p99 == 32
    assert round(stats["Aggregated"].per_s, 1) == 50.3


def test_keep_repeats_what_parses_and_refuses_when_nothing_does() -> None:
    intents = {"hello": "greet", "hi": "greet", "bye": "goodbye"}
    kept, distinct = keep(lambda text: intents[text], ["hello", "bye", "hi", "hello"], {"greet"}, 5)
    assert kept == ["hello", "hi", "hello", "hi", "hello"] and distinct == 2
    with pytest.raises(SystemExit, match="parses as"):
        keep(lambda text: "goodbye", ["hello"], {"greet"}, 3)


def store(tmp_path: Path) -> Path:
    db_file = tmp_path / "shop.db"
    with sqlite3.connect(db_file) as db:
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        db.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT, customer_id INT, status TEXT)"
        )
        db.executemany("INSERT INTO customers VALUES (?, ?)", [(1, "a@x.org"), (2, "b@x.org")])
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?)",
            [
                (1, "100001", 1, "shipped"),
                (2, "100002", 2, "processing"),
                (3, "100003", 2, "cancelled"),
            ],
        )
    return db_file


def test_orders_come_from_the_store_copy_by_status(tmp_path: Path) -> None:
    db_file = store(tmp_path)
    assert sorted(orders(db_file, 2)) == [("100001", "a@x.org"), ("100002", "b@x.org")]
    assert orders(db_file, 1, ("pending", "processing")) == [("100002", "b@x.org")]
    with pytest.raises(SystemExit, match="1 orders"):
        orders(db_file, 2, ("processing",))


def test_every_kind_is_built_from_the_project_data_and_checked_by_the_nlu(tmp_path: Path) -> None:
    if not (ROOT / "var" / "store" / "catalog.jsonl").exists():
        pytest.skip("needs the prepared store data (shopbot prepare)")
    asked: list[str] = []

    def parse(text: str) -> str:  # a stand-in NLU that knows each kind's own phrasings
        asked.append(text)
        for phrasings, intent in (
            (GREETINGS, "greet"), (THANKS, "thank"), (TRACK_ASKS, "track_order"),
            (CANCEL_ASKS, "cancel_order"),
        ):  # fmt: skip
            if text in phrasings:
                return intent
        if any(text.startswith(t.split("{")[0]) for t in SEARCH_TEMPLATES):
            return "product_search"
        if any(text.startswith(t.split("{")[0]) for t in PRODUCT_TEMPLATES):
            return "product_question"
        return "check_refund_policy"

    kinds, distinct = build_kinds(ROOT, parse, store(tmp_path), per_kind=3, cancellations=True)
    by_name = {k.name: k for k in kinds}
    assert set(WEIGHTS) <= set(by_name)
    assert all(len(k.conversations) >= 1 for k in kinds)
    tracking = by_name["order_tracking"].conversations[0]
    assert tracking[1:] in (["100001", "a@x.org"], ["100002", "b@x.org"])
    cancellation = by_name["cancellation"].conversations[0]
    assert cancellation[1:] == ["100002", "b@x.org", DECLINE]  # only the processing order
    assert set(
        m for k in kinds if k.name != "order_tracking" for c in k.conversations for m in c[:1]
    ) <= set(asked)
    assert distinct["cancellation"] == 1


def test_the_plan_holds_the_weighted_kinds_and_is_private(tmp_path: Path) -> None:
    kinds = [Kind("greeting", "greeting", [["hi"]]), Kind("new_conversation", "first", [["hi"]])]
    written = plan_file(kinds, "s3cret", tmp_path / "plan.json")
    text = written.read_text()
    assert '"new_conversation"' not in text and '"weight": 15' in text and "s3cret" in text
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def run(configuration: str, shoppers: int, per_s: float, p95: float) -> LevelRun:
    total = KindStats(requests=100, failures=0, per_s=per_s, p50=p95 / 2, p95=p95, p99=p95 * 2)
    greeting = KindStats(requests=20, failures=0, per_s=1, p50=40, p95=90, p99=120)
    return LevelRun(configuration, shoppers, 60, {"Aggregated": total, "greeting": greeting})


def test_the_report_says_when_the_goal_is_missed_and_by_how_much() -> None:
    section = section_from(
        [run("baseline", 10, 6.0, 1400), run("current", 10, 8.0, 700)], {"greeting": 7}, "tiny", 60
    )
    assert (
        "**not met**; the most was 8.0 messages/s (current, 10 shoppers, p95 700 ms)"
        in section.markdown
    )
    assert (
        section.numbers["current_10_msgs_per_s"] == 8.0
        and section.numbers["baseline_10_p95_ms"] == 1400
    )
    assert "| current | greeting | 40 |" in section.markdown


def test_the_report_says_what_each_level_can_send_at_most() -> None:
    """Closed loop: 50 shoppers thinking 0.9 s on average send at most 55.6 messages/s; 50
    messages/s from 100 shoppers (the goal's level) needs replies of 1.1 s on average."""
    section = section_from(
        [run("current", 10, 8.0, 700), run("current", 50, 30.0, 900)], {}, "demo", 60
    )
    assert "at most 11 messages/s at 10, 56 messages/s at 50 shoppers" in section.markdown
    assert (
        "50 messages/s from 100 shoppers needs a mean reply of at most 1.10 s" in section.markdown
    )


def test_the_report_names_the_runs_that_meet_the_goal() -> None:
    section = section_from([run("current", 200, 55.0, 900)], {}, "demo", 60)
    assert "met by current at 200" in section.markdown and "not met" not in section.markdown


def test_a_kind_whose_every_request_failed_has_no_percentiles(tmp_path: Path) -> None:
    """Locust writes "N/A" where a request name has no response time (seen in `make test`)."""
    header, *rows = LOCUST_CSV.read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    failed = ["N/A" if c.endswith("%") else "0" for c in columns]
    failed[columns.index("Type")], failed[columns.index("Name")] = "POST", "thanks"
    failed[columns.index("Request Count")] = failed[columns.index("Failure Count")] = "3"
    path = tmp_path / "stats.csv"
    path.write_text("\n".join([header, ",".join(failed), *rows]) + "\n", encoding="utf-8")
    stats = read_stats(path)
    assert stats["thanks"].failures == 3 and math.isnan(stats["thanks"].p95)
    assert stats["Aggregated"].requests == read_stats(LOCUST_CSV)["Aggregated"].requests
