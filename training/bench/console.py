"""Benchmark section "Console": the agent console's load times on 100,000 conversations, and how
long an agent's message takes to reach the shopper's widget.

**Loads** (issue 12: p50 and p95 at most 300 ms), once per tracker store / application database
backend (SQLite, and PostgreSQL when its Debian binaries are installed; a throwaway server on
loopback): ``training/bench/seed_conversations.py`` seeds 100,000 conversations into a fresh
tracker store and application database (1% waiting for a human, 0.2% claimed, 3% handed off
earlier), then the real console (``python -m bot.console``, ``bot.runner``'s service, on a free
loopback port) serves a signed-in agent: ``GET /api/queue`` (open handoffs with their last
messages), ``GET /api/conversations?limit=50`` (the newest page), the same with ``before=`` a
keyset cursor 90% deep into the list, the newest page filtered (``low_confidence_below=0.5`` and
``handed_off=true``: two filters, issue 13), full-text search over the messages (``q=``: an
agent's usual queries in turn, alone and with ``handed_off=true``), ``GET /api/conversations/{id}``
(a transcript, a different seeded conversation each time), and the analytics page
(``GET /analytics``: its default 30 days, rendered with every chart) and ``GET /api/analytics``
over all 90 seeded days, 200 of each, interleaved.

**Agent send → widget** (on fresh SQLite stores): the real action server, Rasa server (the
``ctx.preset`` model) and console; a widget conversation asks "can I talk to a human please?",
the bench waits until it is in ``/api/queue``, claims it, then 100 times ``POST .../reply`` with a
support agent's reply (Bitext) and times until the ``agent`` event with that text arrives on the
widget's stream (``GET /webhooks/widget/stream``).

A box plot goes to ``console_latency.png``. ``ctx.quick``: 2,000 conversations, 30 requests of
each kind, 20 sends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import re
import secrets
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tqdm import tqdm

from core.settings import Settings
from training.bench.console_client import ConsoleClient
from training.bench.report import BenchContext, BenchSection, markdown_table
from training.bench.seed_conversations import SeedArgs, SeedReport, seed
from training.bench.servers import bench_settings, running_console, running_servers
from training.bench.shopper_corpus import load_corpus
from training.bench.widget_client import SseEvent, StreamReader, WidgetClient
from training.stats import p50_p95

logger = logging.getLogger(__name__)

TITLE = "Console"
PLOT_FILE = "console_latency.png"
TARGET_MS = 300.0
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DEEP_FRACTION = 0.9  # the deep list page starts this far into the newest-first list
HUMAN_PLEASE = "can I talk to a human please?"
QUEUE_TIMEOUT_S = 120.0
SHOW_TIMEOUT_S = 30.0
BENCH_AGENT = ("bench-agent@example.com", "Bench agent")
SEED = 7
FILTERED = "low_confidence_below=0.5&handed_off=true"  # issue 13's filters, two at once
# What agents search for, in turn (common words and rarer ones, a phrase, an order question).
SEARCHES = (
    "refund",
    "cancel order",
    "delivery address",
    "password",
    "invoice",
    "damaged",
    '"track my order"',
    "shipping",
    "payment method",
    "newsletter",
)
ANALYTICS_DAYS = 90  # the seeded range (SeedArgs.days)
# (key, label, whether the 300 ms target applies)
LOADS = (
    ("queue", "queue `GET /api/queue`", True),
    ("list_first", "conversation list, newest page", True),
    ("list_deep", f"conversation list, page {DEEP_FRACTION:.0%} deep", True),
    ("list_filtered", "conversation list, confidence < 0.5 and handed off", True),
    ("search", "message search `q=`, newest page", True),
    ("search_filtered", "message search `q=` and handed off", True),
    ("transcript", "one conversation's transcript", True),
    ("analytics_page", "analytics page `GET /analytics` (30 days)", False),
    ("analytics_90d", f"analytics `GET /api/analytics`, {ANALYTICS_DAYS} days", False),
)


@dataclass(frozen=True)
class Sizes:
    """How much to seed and measure."""

    conversations: int
    requests: int
    sends: int

    @classmethod
    def of(cls, ctx: BenchContext) -> Sizes:
        """Full (100,000 conversations, 200 requests, 100 sends) or quick."""
        return cls(2_000, 30, 20) if ctx.quick else cls(100_000, 200, 100)


@dataclass
class BackendLoads:
    """One backend's seed and its request latencies (ms) by load key."""

    backend: str
    seeded: SeedReport
    ms: dict[str, list[float]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    queue_entries: int = 0
    filtered_rows: int = 0  # conversations on the filtered page (at most 50)
    search_rows: dict[str, int] = field(default_factory=dict)  # query → rows on its first page


@dataclass
class SendTimes:
    """The agent-send measurement: ms per send to the widget event, and of the POST itself."""

    to_widget_ms: list[float] = field(default_factory=list)
    post_ms: list[float] = field(default_factory=list)
    ask_to_queue_ms: float = float("nan")
    missed: int = 0


# --------------------------------------------------------------------------------- stores


def postgres_missing() -> str | None:
    """Why PostgreSQL cannot be measured here (None when it can)."""
    from bot.local_servers import missing_reason

    return missing_reason()


@contextlib.contextmanager
def fresh_stores(backend: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """Empty tracker store and application database URLs on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'tracker.db'}", f"sqlite:///{tmp / 'app.db'}"
        return
    from bot.local_servers import PostgresServer, find_postgres_bin
    from training.bench.servers import free_port

    bin_dir = find_postgres_bin()
    if bin_dir is None:
        raise RuntimeError(postgres_missing() or "PostgreSQL binaries not found")
    server = PostgresServer(bin_dir, free_port()).start()
    try:
        yield server.create_database("tracker"), server.create_database("app")
    finally:
        server.stop()


def add_bench_agent(app_db_url: str) -> str:
    """Create the agent the bench signs in as; return its password."""
    from bot.console.agents import AgentStore
    from bot.storage.engine import make_engine

    password = secrets.token_urlsafe(18)
    engine = make_engine(app_db_url)
    try:
        AgentStore(engine).add(BENCH_AGENT[0], BENCH_AGENT[1], "agent", password)
    finally:
        engine.dispose()
    return password


def list_probes(app_db_url: str, n: int, rng: random.Random) -> tuple[str, list[str]]:
    """The deep page's ``before`` cursor, and ``n`` seeded conversation ids for transcripts."""
    from sqlalchemy import func, select

    from bot.console.payloads import iso
    from bot.storage.engine import make_engine
    from bot.storage.handoff_tables import conversation_summaries as summaries

    engine = make_engine(app_db_url)
    try:
        with engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(summaries)).scalar_one())
            deep = conn.execute(
                select(summaries.c.last_event_at)
                .order_by(summaries.c.last_event_at.desc())
                .offset(int(total * DEEP_FRACTION))
                .limit(1)
            ).scalar_one()
            ids = [
                str(r)
                for r in conn.execute(
                    select(summaries.c.conversation_id).order_by(summaries.c.conversation_id)
                ).scalars()
            ]
    finally:
        engine.dispose()
    return str(iso(deep)), rng.sample(ids, min(n, len(ids)))


# --------------------------------------------------------------------------------- loads


def _timed(client: ConsoleClient, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    reply = client.get(path)
    return (time.perf_counter() - started) * 1000, reply.status


def measure_loads(
    client: ConsoleClient, before: str, transcript_ids: Sequence[str], n: int, desc: str
) -> tuple[dict[str, list[float]], dict[str, int], int]:
    """``n`` requests of each load, interleaved; the ms of the answered ones, failures per load,
    and how many entries the queue shows."""
    today = dt.datetime.now(dt.timezone.utc).date()
    since = today - dt.timedelta(days=ANALYTICS_DAYS - 1)

    def search(i: int) -> str:
        return quote(SEARCHES[i % len(SEARCHES)])

    paths = {
        "queue": lambda i: "/api/queue",
        "list_first": lambda i: "/api/conversations?limit=50",
        "list_deep": lambda i: f"/api/conversations?limit=50&before={quote(before)}",
        "list_filtered": lambda i: f"/api/conversations?limit=50&{FILTERED}",
        "search": lambda i: f"/api/conversations?limit=50&q={search(i)}",
        "search_filtered": lambda i: f"/api/conversations?limit=50&handed_off=true&q={search(i)}",
        "transcript": lambda i: (
            f"/api/conversations/{quote(transcript_ids[i % len(transcript_ids)], safe='')}"
        ),
        "analytics_page": lambda i: "/analytics",
        "analytics_90d": lambda i: f"/api/analytics?since={since}&until={today}",
    }
    queue = client.get("/api/queue")
    if queue.status != 200:
        raise RuntimeError(f"GET /api/queue answered {queue.status}: {str(queue.body)[:300]}")
    entries = len(queue.body.get("conversations", [])) if isinstance(queue.body, dict) else 0
    for path in paths.values():  # warm-up: connection pools, first-use imports
        for i in range(3):
            _timed(client, path(n + i))
    ms: dict[str, list[float]] = {key: [] for key in paths}
    failures: dict[str, int] = dict.fromkeys(paths, 0)
    for i in tqdm(range(n), desc=desc, unit="round", mininterval=5.0):
        for key, path in paths.items():
            elapsed, status = _timed(client, path(i))
            if status == 200:
                ms[key].append(elapsed)
            else:
                failures[key] += 1
                if failures[key] == 1:
                    logger.warning("GET %s answered %d", path(i), status)
    return ms, failures, entries


def measure_backend(
    ctx: BenchContext, backend: str, sizes: Sizes, rng: random.Random
) -> BackendLoads:
    """Seed fresh stores on ``backend``, start the console on them, time the loads."""
    with tempfile.TemporaryDirectory(prefix=f"bench-console-{backend}-") as tmp_name:
        tmp = Path(tmp_name)
        with fresh_stores(backend, tmp) as (tracker_url, app_url):
            seeded = seed(
                SeedArgs(tracker_url, app_url, conversations=sizes.conversations, seed=SEED),
                ctx.project_root,
            )
            password = add_bench_agent(app_url)
            before, ids = list_probes(app_url, sizes.requests, rng)
            settings = bench_settings(ctx, tmp, tracker_url, app_url)
            logger.info("Console settings (%s): %s", backend, settings.describe())
            with running_console(settings) as url:
                client = ConsoleClient(url)
                client.sign_in(BENCH_AGENT[0], password)
                filtered = client.get(f"/api/conversations?limit=50&{FILTERED}")
                rows = (
                    (filtered.body or {}).get("conversations", []) if filtered.status == 200 else []
                )
                found = {
                    q: client.get(f"/api/conversations?limit=50&q={quote(q)}") for q in SEARCHES
                }
                search_rows = {
                    q: len((r.body or {}).get("conversations", [])) if r.status == 200 else -1
                    for q, r in found.items()
                }
                ms, failures, entries = measure_loads(
                    client, before, ids, sizes.requests, f"console loads ({backend})"
                )
    return BackendLoads(backend, seeded, ms, failures, entries, len(rows), search_rows)


# --------------------------------------------------------------------------------- sending


def agent_replies(root: Path, n: int, rng: random.Random) -> list[str]:
    """``n`` different support agents' replies (first paragraphs of Bitext responses)."""
    corpus = load_corpus(root)
    pool = sorted({text for texts in corpus.agent_replies.values() for text in texts})
    return rng.sample(pool, min(n, len(pool)))


def _agent_event(events: Sequence[SseEvent], text: str) -> SseEvent | None:
    """The widget stream's ``agent`` event carrying ``text``, if it came."""
    return next((e for e in events if e.event == "agent" and e.data.get("text") == text), None)


def _wait_in_queue(console: ConsoleClient, conversation_id: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = console.get("/api/queue")
        if queue.status == 200 and any(
            e.get("conversation_id") == conversation_id
            for e in (queue.body or {}).get("conversations", [])
        ):
            return True
        time.sleep(0.1)
    return False


def send_once(
    console: ConsoleClient, reader: StreamReader, path: str, text: str
) -> tuple[float, float | None]:
    """POST one agent reply; ms until the console answered, and until the widget's stream
    carried it (None when it did not within ``SHOW_TIMEOUT_S``)."""
    seen = len(reader.events)
    t0 = time.monotonic()
    posted = console.post(f"{path}/reply", {"text": text})
    post_ms = (time.monotonic() - t0) * 1000
    if posted.status != 200:
        raise RuntimeError(f"POST {path}/reply answered {posted.status}: {posted.body}")
    reader.wait_for(lambda events: _agent_event(events[seen:], text) is not None, SHOW_TIMEOUT_S)
    shown = _agent_event(list(reader.events)[seen:], text)
    if shown is None:
        logger.warning("Agent message not on the widget stream within %.0f s", SHOW_TIMEOUT_S)
        return post_ms, None
    return post_ms, (shown.at - t0) * 1000


def measure_sends(settings: Settings, password: str, replies: Sequence[str]) -> SendTimes:
    """Hand a widget conversation off, claim it, time each agent reply to the widget's stream."""
    from bot.channels.widget_auth import ConversationTokens

    out = SendTimes()
    with running_servers(settings) as rasa_url, running_console(settings) as console_url:
        widget = WidgetClient(rasa_url)
        started = widget.start()
        if started.status != 200 or widget.token is None:
            raise RuntimeError(f"POST /webhooks/widget/session answered {started.status}")
        conversation_id = ConversationTokens(
            settings.ensure_widget_secret(), settings.widget_session_ttl
        ).verify(widget.token)
        console = ConsoleClient(console_url)
        console.sign_in(BENCH_AGENT[0], password)
        reader = widget.open_stream(after=0)
        try:
            if not reader.connected.wait(30):
                raise RuntimeError(f"The widget stream did not connect (status {reader.status}).")
            asked = time.monotonic()
            sent = widget.send(HUMAN_PLEASE)
            if sent.status != 202:
                raise RuntimeError(f"POST /webhooks/widget/messages answered {sent.status}")
            if not _wait_in_queue(console, conversation_id, QUEUE_TIMEOUT_S):
                raise RuntimeError(
                    f"{HUMAN_PLEASE!r} did not put the conversation in /api/queue within "
                    f"{QUEUE_TIMEOUT_S:.0f} s (is the intent contact_human_agent with the "
                    f"{settings.preset} model?); see {settings.path(settings.run_dir)}/logs."
                )
            out.ask_to_queue_ms = (time.monotonic() - asked) * 1000
            path = f"/api/conversations/{conversation_id}"
            claimed = console.post(f"{path}/claim")
            if claimed.status != 200:
                raise RuntimeError(f"Claiming answered {claimed.status}: {claimed.body}")
            for text in tqdm(replies, desc="agent send → widget", unit="send", mininterval=5.0):
                post_ms, shown_ms = send_once(console, reader, path, text)
                out.post_ms.append(post_ms)
                if shown_ms is None:
                    out.missed += 1
                else:
                    out.to_widget_ms.append(shown_ms)
            console.post(f"{path}/handback")
        finally:
            reader.stop()
    return out


# --------------------------------------------------------------------------------- report


def _plot(loads: Sequence[BackendLoads], sends: SendTimes | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[float]] = {}
    for result in loads:
        name = BACKEND_NAMES[result.backend]
        for key, label, _target in LOADS:
            if result.ms.get(key):
                series[f"{name}: {re.sub(r' ?`[^`]*`', '', label)}"] = result.ms[key]
    if sends is not None and sends.to_widget_ms:
        series["agent send → widget shows it"] = sends.to_widget_ms
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(series) + 1.6))
    if series:
        ax.boxplot(list(series.values()), vert=False, showfliers=True)
        ax.set_yticks(range(1, len(series) + 1), list(series))
    ax.axvline(TARGET_MS, color="tab:red", linestyle="--")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"ms (log scale); dashed: the {TARGET_MS:.0f} ms target of the queue and list")
    ax.set_title("Agent console: load times, and agent send → widget")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section_from(
    loads: Sequence[BackendLoads],
    sends: SendTimes | None,
    sizes: Sizes,
    preset: str,
    notes: Sequence[str] = (),
) -> BenchSection:
    """The report section: the seed table, the load table, the send table and the numbers."""
    numbers: dict[str, float] = {"conversations": float(sizes.conversations)}
    seed_rows: list[list[object]] = []
    load_rows: list[list[object]] = []
    for result in loads:
        name, s = BACKEND_NAMES[result.backend], result.seeded
        ended = sum(v for k, v in s.handoffs.items() if k not in ("waiting", "claimed"))
        seed_rows.append([name, f"{s.conversations:,}", f"{s.events:,}",
                          f"{s.handoffs.get('waiting', 0)} / {s.handoffs.get('claimed', 0)} / {ended}",
                          f"{s.seconds:.0f}", str(result.queue_entries)])  # fmt: skip
        numbers[f"{result.backend}_seed_s"] = s.seconds
        numbers[f"{result.backend}_queue_entries"] = float(result.queue_entries)
        numbers[f"{result.backend}_filtered_rows"] = float(result.filtered_rows)
        for key, label, targeted in LOADS:
            values = result.ms.get(key, [])
            p50, p95 = p50_p95(values)
            numbers[f"{result.backend}_{key}_ms_p50"] = p50
            numbers[f"{result.backend}_{key}_ms_p95"] = p95
            verdict = ""
            if targeted and values:
                verdict = "within" if max(p50, p95) <= TARGET_MS else "OVER"
            answered = f"{len(values)} of {len(values) + result.failures.get(key, 0)}"
            if key == "list_filtered":
                label = f"{label} ({result.filtered_rows} rows)"
            load_rows.append([name, label, answered, f"{p50:.1f}", f"{p95:.1f}",
                              f"{TARGET_MS:.0f}" if targeted else "", verdict])  # fmt: skip
    shares = SeedArgs("", "")
    parts = [
        f"Stores seeded by `python -m training.bench.seed_conversations` ({shares.waiting:.1%} of "
        f"the conversations waiting for a human, {shares.claimed:.1%} claimed, {shares.ended:.0%} "
        f"handed off earlier; over {shares.days:.0f} days); the real console "
        f"(`python -m bot.console`) on loopback and a signed-in agent; {sizes.requests} requests "
        f"of each kind, interleaved, after a warm-up. Issue 12's target: p50 and p95 at most "
        f"{TARGET_MS:.0f} ms for the queue and the list.",
        markdown_table(
            [
                "backend",
                "conversations",
                "tracker events",
                "handoffs waiting / claimed / ended",
                "seed time (s)",
                "entries `/api/queue` shows",
            ],
            seed_rows,
        ),
        markdown_table(
            ["backend", "request", "answered", "p50 (ms)", "p95 (ms)", "target (ms)", ""], load_rows
        ),
    ]
    if sends is not None:
        p50, p95 = p50_p95(sends.to_widget_ms)
        post50, post95 = p50_p95(sends.post_ms)
        n = len(sends.to_widget_ms) + sends.missed
        parts.append(
            f"Agent send → widget (preset `{preset}`, real Rasa + action server + console, fresh "
            f"SQLite stores; one handed-off widget conversation, {n} replies):"
        )
        parts.append(
            markdown_table(
                ["measure", "n", "p50 (ms)", "p95 (ms)"],
                [
                    [
                        "`POST …/reply` → `agent` event on the widget stream",
                        f"{len(sends.to_widget_ms)} of {n}",
                        f"{p50:.0f}",
                        f"{p95:.0f}",
                    ],
                    [
                        "`POST …/reply` answered",
                        str(len(sends.post_ms)),
                        f"{post50:.0f}",
                        f"{post95:.0f}",
                    ],
                    [
                        "shopper asks for a human → in `/api/queue`",
                        "1",
                        f"{sends.ask_to_queue_ms:.0f}",
                        "",
                    ],
                ],
            )
        )
        numbers.update(
            send_to_widget_ms_p50=p50,
            send_to_widget_ms_p95=p95,
            reply_post_ms_p50=post50,
            reply_post_ms_p95=post95,
            ask_to_queue_ms=sends.ask_to_queue_ms,
            sends=float(n),
            sends_missed=float(sends.missed),
        )
    searched = [r for r in loads if r.search_rows]
    if searched:
        parts.append(
            "Searches, in turn (conversations on the first page of 50; a page is full when at "
            "least 50 conversations match):"
        )
        parts.append(
            markdown_table(
                ["query", *(BACKEND_NAMES[r.backend] for r in searched)],
                [[f"`{q}`", *(str(r.search_rows.get(q, "")) for r in searched)] for q in SEARCHES],
            )
        )
    parts += list(notes)
    return BenchSection(TITLE, "\n\n".join(parts), [PLOT_FILE], numbers)


def run_console_section(ctx: BenchContext, backends: Sequence[str]) -> BenchSection:
    """Measure the loads on each of ``backends`` and, with a trained model, agent sends."""
    sizes = Sizes.of(ctx)
    logger.info(
        "Console bench: %s, backends %s, preset %s",
        sizes,
        ", ".join(backends),
        ctx.preset,
    )
    rng = random.Random(SEED)
    notes: list[str] = []
    loads = [measure_backend(ctx, backend, sizes, rng) for backend in backends]
    if "postgresql" in backends:
        notes.append(
            "PostgreSQL: a throwaway server on loopback (Debian's binaries; fsync and synchronous "
            "commit off, which speeds up the seeding, not the reads measured)."
        )
    else:
        notes.append(f"PostgreSQL not measured: {postgres_missing() or 'not asked for'}.")
    sends: SendTimes | None = None
    probe = Settings(root=ctx.project_root, preset=ctx.preset)
    if probe.rasa_model.exists():
        with tempfile.TemporaryDirectory(prefix="bench-console-send-") as tmp:
            settings = bench_settings(ctx, Path(tmp))
            from bot.runner import prepare_app_db

            prepare_app_db(settings)
            password = add_bench_agent(settings.resolve_db_url(settings.app_db_url))
            replies = agent_replies(ctx.project_root, sizes.sends, rng)
            sends = measure_sends(settings, password, replies)
    else:
        notes.append(
            f"Agent send → widget not measured: no Rasa model at `{probe.rasa_model}` "
            f"(run `shopbot train --preset {ctx.preset}`)."
        )
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    _plot(loads, sends, ctx.out_dir / PLOT_FILE)
    return section_from(loads, sends, sizes, ctx.preset, notes)


def run_section(ctx: BenchContext) -> BenchSection:
    """SQLite, and PostgreSQL where its binaries are installed; then agent sends."""
    backends = ["sqlite"] if postgres_missing() else ["sqlite", "postgresql"]
    return run_console_section(ctx, backends)
