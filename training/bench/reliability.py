"""Benchmark section "Reliability": a soak under load on one server and on two replicas, an audit
of the tracker store afterwards, and faults injected while shoppers are talking.

Both configurations keep their conversations in a real PostgreSQL tracker store with a Redis lock
store (``bot.local_servers``), so they differ only in the servers:

- ``1 server``: one Rasa server and one action server (``shopbot run``);
- ``2 replicas``: two of each behind HAProxy (``shopbot run --replicas 2``, ``bot.replicas``).

Each plays the Throughput section's realistic shoppers (Locust, same mix and think times) —
``SOAK_SHOPPERS`` of them for ``SOAK_S`` seconds — and every message is logged; a message without
a real reply within ``TIMEOUT_S`` is an error. Then the tracker store is audited
(:mod:`training.bench.tracker_audit`): accepted messages lost or stored out of order, replies
missing. The order database is compared before and after (the plan's cancellations are all
declined at the confirmation, so no order may change).

Then, on the replicas, ``FAULT_SHOPPERS`` shoppers talk while the faults of issue 18 are injected
one after the other: ``kill -9`` of a Rasa server and of an action server (restarted by the
supervisor, as ``shopbot run`` does), a PostgreSQL restart, a Redis restart, and an order
database locked for ``LOCK_S`` seconds. Per fault: the seconds until a new shopper is answered
again, the seconds until every server is healthy again, the errors shoppers saw in the fault's
window and the accepted messages lost. ``ctx.quick``: a few shoppers for seconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import signal
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.local_servers import PostgresServer, RedisServer, find_postgres_bin
from bot.replicas import ScaleOut
from core.settings import Settings
from training.bench.load_plan import Kind
from training.bench.report import BenchContext, BenchSection, markdown_table
from training.bench.servers import bench_settings, free_port, no_rasa_model, running_servers
from training.bench.throughput import (
    WEIGHTS,
    KindStats,
    checked_kinds,
    locust_binary,
    plan_file,
    run_level,
    warm_up,
)
from training.bench.tracker_audit import (
    AuditResult,
    audit,
    read_exchanges,
    stored_conversations,
)
from training.bench.widget_client import post_json

logger = logging.getLogger(__name__)

TITLE = "Reliability"
TIMEOUT_S = 30
SOAK_SHOPPERS = 200
SOAK_S = 300.0
FAULT_SHOPPERS = 50
FAULT_GAP_S = 50.0
LOCK_S = 5.0
PROBE_TIMEOUT_S = 10.0
RECOVERY_LIMIT_S = 240.0


@dataclass
class SoakRun:
    """One configuration's soak: Locust's totals, the audit and the order database check."""

    configuration: str
    stats: KindStats
    audit: AuditResult
    orders_changed: bool


@dataclass
class FaultRun:
    """One injected fault and what it cost."""

    name: str
    at: float  # seconds after the load started
    wall: float  # time.time() of the injection
    answered_again_s: float
    healthy_again_s: float
    errors: int = 0
    lost: int = 0


def orders_digest(store_db: Path) -> str:
    """A hash of every order's row: equal before and after means no order changed."""
    with contextlib.closing(sqlite3.connect(store_db)) as db:
        rows = db.execute("SELECT * FROM orders ORDER BY 1").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@contextlib.contextmanager
def shared_stores() -> Iterator[tuple[str, str, str]]:
    """A throwaway PostgreSQL (tracker store, application database) and Redis (lock store)."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (make system-deps)")
    postgres = PostgresServer(bin_dir, free_port()).start()
    redis = RedisServer(free_port()).start()
    try:
        yield postgres.create_database("tracker"), postgres.create_database("app"), redis.url
    finally:
        redis.stop()
        postgres.stop()


def load_plan(kinds: list[Kind], secret: str, work: Path, name: str) -> tuple[Path, Path]:
    """The Throughput plan with this section's timeout and an exchange log; (plan, log)."""
    plan = plan_file(kinds, secret, work / f"plan-{name}.json")
    data = json.loads(plan.read_text(encoding="utf-8"))
    log = work / f"exchanges-{name}.jsonl"
    data |= {"timeout_s": TIMEOUT_S, "exchange_log": str(log)}
    plan.write_text(json.dumps(data), encoding="utf-8")
    return plan, log


def soak(
    ctx: BenchContext,
    name: str,
    base_url: str,
    settings: Settings,
    kinds: list[Kind],
    work: Path,
    shoppers: int,
    seconds: float,
) -> SoakRun:
    """Drive the shoppers, then audit the tracker store and the order database."""
    store_db = work / "shop.db"
    before = orders_digest(store_db)
    plan, log = load_plan(kinds, settings.rest_secret, work, name.replace(" ", "-"))
    stats = run_level(ctx.project_root, base_url, plan, shoppers, seconds, work)
    result = audit(read_exchanges(log), settings.tracker_store_url)
    logger.info("Reliability %s: %s", name, result)
    return SoakRun(name, stats["Aggregated"], result, orders_digest(store_db) != before)


def kinds_for(ctx: BenchContext, base_url: str, settings: Settings, work: Path) -> list[Kind]:
    """The Throughput section's turns, each checked against the served model."""
    kinds, _distinct = checked_kinds(ctx, base_url, settings.api_token, work)
    kinds = [k for k in kinds if k.name in WEIGHTS]
    warm_up(base_url, settings.rest_secret, kinds)
    return kinds


# ------------------------------------------------------------------------------------- faults


def answered(base_url: str, secret: str) -> bool:
    """A new shopper's greeting gets a real reply within ``PROBE_TIMEOUT_S``."""
    try:
        reply = post_json(
            f"{base_url}/webhooks/rest/webhook",
            {"sender": f"probe-{uuid.uuid4().hex}", "message": "hi"},
            headers={"Authorization": f"Bearer {secret}"},
            timeout=PROBE_TIMEOUT_S,
        )
    except OSError:
        return False
    return reply.status == 200 and bool(reply.texts) and "went wrong" not in reply.text


def all_healthy(scale: ScaleOut) -> bool:
    from urllib.request import urlopen

    for service in scale.services:
        try:
            with urlopen(service.ready_url, timeout=2) as reply:
                if reply.status != 200:
                    return False
        except OSError:
            return False
    return True


def until(check: Callable[[], bool], since: float) -> float:
    """Seconds from ``since`` until ``check`` holds (polled; NaN after ``RECOVERY_LIMIT_S``)."""
    while time.monotonic() - since < RECOVERY_LIMIT_S:
        if check():
            return time.monotonic() - since
        time.sleep(0.25)
    return float("nan")


def _kill_9(service_list: list[Any]) -> Callable[[], None]:
    def inject() -> None:
        process = service_list[0].process
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)

    return inject


def _lock_orders(store_db: Path) -> Callable[[], None]:
    def inject() -> None:
        db = sqlite3.connect(store_db, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("BEGIN EXCLUSIVE")

        def release() -> None:
            db.execute("ROLLBACK")
            db.close()

        threading.Timer(LOCK_S, release).start()

    return inject


def faults_of(scale: ScaleOut, store_db: Path) -> list[tuple[str, Callable[[], None]]]:
    """The faults of issue 18, in the order they are injected."""
    assert scale.postgres is not None and scale.redis is not None
    return [
        ("kill -9 a Rasa server", _kill_9(scale.rasa)),
        ("kill -9 an action server", _kill_9(scale.actions)),
        ("restart PostgreSQL", scale.postgres.restart),
        ("restart Redis", scale.redis.restart),
        (f"order database locked {LOCK_S:.0f} s", _lock_orders(store_db)),
    ]


def inject_faults(
    scale: ScaleOut, base_url: str, secret: str, store_db: Path, gap: float, start: float
) -> list[FaultRun]:
    """Inject each fault ``gap`` seconds apart (from ``start``); measure each recovery."""
    runs: list[FaultRun] = []
    for i, (name, inject) in enumerate(faults_of(scale, store_db)):
        time.sleep(max(0.0, start + (i + 1) * gap - time.monotonic()))
        at, wall = time.monotonic(), time.time()
        logger.info("Fault: %s", name)
        inject()
        answered_s = until(lambda: answered(base_url, secret), at)
        healthy_s = until(lambda: all_healthy(scale), at)
        runs.append(FaultRun(name, at - start, wall, answered_s, healthy_s))
    return runs


@contextlib.contextmanager
def supervised(scale: ScaleOut) -> Iterator[None]:
    """Restart exited replicas every half second (what ``shopbot run --replicas`` does)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.5):
            try:
                scale.supervise()
            except Exception:  # a balancer that exited is reported by the health checks
                logger.exception("Supervising the replicas failed")

    thread = threading.Thread(target=loop, name="supervisor", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def fault_run(
    ctx: BenchContext,
    scale: ScaleOut,
    base_url: str,
    kinds: list[Kind],
    work: Path,
    shoppers: int,
    gap: float,
) -> tuple[list[FaultRun], AuditResult]:
    """Shoppers talk while the faults are injected; the faults' costs and the audit."""
    settings = scale.settings
    plan, log = load_plan(kinds, settings.rest_secret, work, "faults")
    faults: list[FaultRun] = []
    seconds = gap * (len(faults_of(scale, work / "shop.db")) + 1)
    with supervised(scale):
        start = time.monotonic() + 5.0  # Locust's spawn time (throughput.SPAWN_S)
        injector = threading.Thread(
            target=lambda: faults.extend(
                inject_faults(scale, base_url, settings.rest_secret, work / "shop.db", gap, start)
            ),
            name="faults",
        )
        injector.start()
        run_level(ctx.project_root, base_url, plan, shoppers, seconds, work)
        injector.join()
    exchanges = read_exchanges(log)
    result = audit(exchanges, settings.tracker_store_url)
    if result.lost:
        keep_evidence(ctx, scale, result)
    for i, fault in enumerate(faults):
        end = faults[i + 1].wall if i + 1 < len(faults) else float("inf")
        fault.errors = sum(1 for e in exchanges if e.error and fault.wall <= e.sent_at < end)
        fault.lost = sum(1 for e in result.lost_messages if fault.wall <= e.sent_at < end)
    return faults, result


def keep_evidence(ctx: BenchContext, scale: ScaleOut, result: AuditResult) -> None:
    """Lost messages are a bug to find: keep the servers' logs and the lost exchanges."""
    import shutil

    out = ctx.out_dir / "reliability-evidence"
    out.mkdir(parents=True, exist_ok=True)
    for logs in scale.run_dir.glob("replica-*/logs"):
        shutil.copytree(logs, out / logs.parent.name, dirs_exist_ok=True)
    stored = stored_conversations(
        scale.settings.tracker_store_url, {e.sender for e in result.lost_messages}
    )
    lost = [dataclasses.asdict(e) | {"stored": stored.get(e.sender)} for e in result.lost_messages]
    (out / "lost.json").write_text(json.dumps(lost, indent=1, ensure_ascii=False), encoding="utf-8")
    logger.warning("Reliability: %d accepted messages lost; evidence in %s", result.lost, out)


# ------------------------------------------------------------------------------------ section


def measure(ctx: BenchContext) -> tuple[list[SoakRun], list[FaultRun], AuditResult | None]:
    """The soak on both configurations, then the faults on the replicas."""
    shoppers, seconds = (10, 20.0) if ctx.quick else (SOAK_SHOPPERS, SOAK_S)
    fault_shoppers, gap = (5, 40.0) if ctx.quick else (FAULT_SHOPPERS, FAULT_GAP_S)
    soaks: list[SoakRun] = []
    steps = tqdm(total=3, desc="reliability", unit="run")
    with tempfile.TemporaryDirectory(prefix="bench-reliability-1-") as tmp:
        work = Path(tmp)
        with shared_stores() as (tracker, app, lock):
            settings = dataclasses.replace(
                bench_settings(ctx, work, tracker, app), lock_store_url=lock
            )
            with running_servers(settings) as base_url:
                kinds = kinds_for(ctx, base_url, settings, work)
                soaks.append(
                    soak(ctx, "1 server", base_url, settings, kinds, work, shoppers, seconds)
                )
                steps.update()
    with tempfile.TemporaryDirectory(prefix="bench-reliability-2-") as tmp:
        work = Path(tmp)
        scale = ScaleOut(bench_settings(ctx, work), replicas=2, keep_data=False)
        try:
            settings = scale.start()
            base_url = f"http://{settings.host}:{settings.rasa_port}"
            kinds = kinds_for(ctx, base_url, settings, work)
            soaks.append(
                soak(ctx, "2 replicas", base_url, settings, kinds, work, shoppers, seconds)
            )
            steps.update()
            faults, fault_audit = fault_run(ctx, scale, base_url, kinds, work, fault_shoppers, gap)
            steps.update()
        finally:
            scale.stop()
    steps.close()
    return soaks, faults, fault_audit


def _fmt(value: float) -> str:
    return "not within 240 s" if value != value else f"{value:.1f}"


def section_from(
    soaks: list[SoakRun], faults: list[FaultRun], fault_audit: AuditResult | None, ctx: BenchContext
) -> BenchSection:
    shoppers, seconds = (10, 20.0) if ctx.quick else (SOAK_SHOPPERS, SOAK_S)
    rows: list[list[object]] = []
    numbers: dict[str, float] = {}
    for run in soaks:
        s, a = run.stats, run.audit
        rows.append(
            [run.configuration, f"{s.per_s:.1f}", f"{s.p50:.0f}", f"{s.p95:.0f}", f"{s.p99:.0f}",
             f"{a.errors} of {a.messages}", a.lost, a.reordered, a.replies_missing,
             "yes" if run.orders_changed else "no"]
        )  # fmt: skip
        key = run.configuration.replace(" ", "_")
        numbers |= a.as_numbers(key) | {f"{key}_msgs_per_s": s.per_s, f"{key}_p95_ms": s.p95}
    fault_rows = [
        [f.name, f"{f.at:.0f}", _fmt(f.answered_again_s), _fmt(f.healthy_again_s), f.errors, f.lost]
        for f in faults
    ]
    for f in faults:
        slug = f.name.split()[0] + "_" + f.name.split()[-1]
        numbers[f"fault_{slug}_healthy_s"] = f.healthy_again_s
        numbers[f"fault_{slug}_errors"] = float(f.errors)
    goal_met = all(
        r.audit.errors == 0 and r.audit.lost == 0 and r.audit.reordered == 0 for r in soaks
    )
    parts = [
        f"Preset `{ctx.preset}`; {shoppers} Locust shoppers for {seconds:.0f} s per configuration "
        f"(the Throughput mix and think times), on this one machine with the servers; a message "
        f"without a real reply within {TIMEOUT_S} s is an error. Both configurations store "
        "conversations in PostgreSQL with a Redis lock store.",
        markdown_table(
            [
                "configuration",
                "messages/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "lost",
                "reordered",
                "replies missing",
                "orders changed",
            ],
            rows,
        ),
        "Goal (0 errors, 0 lost, 0 reordered): " + ("**met**." if goal_met else "**not met**."),
    ]
    if faults:
        assert fault_audit is not None
        parts += [
            f"Faults on the 2 replicas, one every {faults[1].at - faults[0].at if len(faults) > 1 else 0:.0f} s "
            f"while {FAULT_SHOPPERS if not ctx.quick else 5} shoppers talk; the supervisor "
            "restarts killed servers as `shopbot run --replicas` does. *Answered again*: a new "
            "shopper's greeting gets a real reply; *healthy again*: every server answers its "
            "health check.",
            markdown_table(
                [
                    "fault",
                    "at s",
                    "answered again s",
                    "healthy again s",
                    "errors in window",
                    "accepted messages lost",
                ],
                fault_rows,
            ),
            f"Audit of the fault run: {fault_audit.accepted} of {fault_audit.messages} messages "
            f"accepted, {fault_audit.lost} lost, {fault_audit.reordered} reordered, "
            f"{fault_audit.replies_missing} replies missing from the store, "
            f"{fault_audit.stored_despite_error} stored although the shopper got an error.",
        ]
        numbers |= fault_audit.as_numbers("faults")
    return BenchSection(TITLE, "\n\n".join(parts), [], numbers)


def run_section(ctx: BenchContext) -> BenchSection:
    """Soak both configurations, inject the faults; the section."""
    missing = no_rasa_model(ctx, TITLE)
    if missing is not None:
        return missing
    locust_binary(ctx.project_root)  # fail before starting any server
    soaks, faults, fault_audit = measure(ctx)
    return section_from(soaks, faults, fault_audit, ctx)
