"""Seed a tracker store and the application database with many realistic conversations.

``python -m training.bench.seed_conversations --conversations 100000`` writes into the configured
stores (``SHOPBOT_TRACKER_STORE_URL``, ``SHOPBOT_APP_DB_URL``; SQLite or PostgreSQL) or into the
ones given with ``--tracker-url``/``--app-db-url``:

- the tracker store's ``events`` table, created the way Rasa's ``SQLTrackerStore`` creates it,
  one row per event as Rasa writes it (``training/bench/seed_plan.py``), shopper text from the
  project's prepared data (``training/bench/shopper_corpus.py``);
- the application database (upgraded to head first): a ``conversation_summaries`` row per
  conversation, a ``conversation_messages`` row per message (their full-text index kept by the
  migration's triggers on SQLite, its GIN index on PostgreSQL), the ``shopper_turns_daily``
  counts and a ``handoffs`` row per
  handed-off one, consistent with those events, as the Rasa server's event broker would have left
  them; a few console agents (``--agents``, random passwords nobody knows) who claimed the
  handed-off ones.

By default 1% of the conversations wait for a human (all older than the wait timeout, so each got
the "no agent online" notice), 0.2% are claimed by an agent, 3% were handed off and ended
(returned to the bot, closed, or the shopper left the queue); the rest never asked. Times spread
over the last ``--days`` days. The same ``--seed`` gives the same conversations; seeding a store
that already has conversations is refused unless ``--allow-existing`` (then pass another seed).
Rows go in by batches (``--batch`` conversations per transaction; tracker events with ``COPY`` on
PostgreSQL, ``executemany`` elsewhere): 100,000 conversations take two to three minutes on two
cores. The "Console" benchmark section uses it.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import random
import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from tqdm import tqdm

from training.bench.seed_plan import Agent, ConversationBuilder, Plan, Seeded, Texts, add_turns
from training.bench.shopper_corpus import ShopperCorpus, load_corpus

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0
ENDED_SPLIT = (("returned", 0.45), ("closed", 0.45), ("left", 0.10))
FRUSTRATED_SHARE = 0.25  # handoffs after an accepted offer (the rest asked outright)
TURN_WEIGHTS = {1: 35, 2: 30, 3: 20, 4: 10, 5: 5}  # shopper turns with the bot
TURNS_BEFORE_HANDOFF = (0, 1, 1, 2, 3)


@dataclass
class SeedArgs:
    """What to seed, and where.

    Args:
        tracker_url: SQLAlchemy URL of the tracker store (``sqlite:////abs/tracker.db``,
            ``postgresql://user@host:5432/db``).
        app_db_url: SQLAlchemy URL of the application database.
        conversations: How many conversations.
        waiting: Share of conversations waiting for a human now.
        claimed: Share of conversations an agent has claimed now.
        ended: Share of conversations handed off earlier and ended.
        days: Conversations spread over this many days before now.
        rest_share: Share of conversations from the REST channel (the rest: web widget).
        customer_share: Share of order conversations whose shopper was verified (a customer id
            from the store's order database).
        agents: Console agents created to hold the claimed and ended handoffs.
        wait_timeout: Seconds after which a waiting shopper got the "no agent online" notice
            (``Settings.handoff_wait_timeout``).
        seed: Random seed.
        batch: Conversations per transaction.
        allow_existing: Seed into stores that already hold conversations.
        now: Epoch seconds treated as now (default: the clock).
    """

    tracker_url: str = field(metadata={"help": "tracker store URL"})
    app_db_url: str = field(metadata={"help": "application database URL"})
    conversations: int = field(default=100_000, metadata={"help": "conversations to seed"})
    waiting: float = field(default=0.01, metadata={"help": "share waiting for a human now"})
    claimed: float = field(default=0.002, metadata={"help": "share claimed by an agent now"})
    ended: float = field(default=0.03, metadata={"help": "share handed off earlier, ended"})
    days: float = field(default=90.0, metadata={"help": "spread over this many days"})
    rest_share: float = field(default=0.15, metadata={"help": "share from the REST channel"})
    customer_share: float = field(default=0.3, metadata={"help": "verified share of order chats"})
    agents: int = field(default=8, metadata={"help": "console agents holding the handoffs"})
    wait_timeout: int = field(default=300, metadata={"help": "seconds before the notice"})
    seed: int = field(default=12, metadata={"help": "random seed"})
    batch: int = field(default=2000, metadata={"help": "conversations per transaction"})
    allow_existing: bool = field(default=False, metadata={"help": "seed non-empty stores"})
    now: float | None = field(default=None, metadata={"help": "epoch seconds treated as now"})

    def __post_init__(self) -> None:
        if self.conversations <= 0:
            raise ValueError(
                f"conversations must be greater than 0. Currently, conversations is "
                f"{self.conversations}."
            )
        for name in ("waiting", "claimed", "ended", "rest_share", "customer_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1. Currently, {name} is {value}.")
        total = self.waiting + self.claimed + self.ended
        if total > 1.0:
            raise ValueError(
                f"waiting + claimed + ended must be at most 1. Currently, it is {total:.3f} "
                f"(waiting {self.waiting}, claimed {self.claimed}, ended {self.ended})."
            )
        if self.agents < 1 and (self.claimed or self.ended):
            raise ValueError(
                f"agents must be at least 1 when claimed or ended is above 0. Currently, agents "
                f"is {self.agents} (claimed {self.claimed}, ended {self.ended})."
            )
        if self.days * 24 <= 4:
            raise ValueError(f"days must be more than 4 hours. Currently, days is {self.days}.")
        if self.batch <= 0 or self.wait_timeout <= 0:
            raise ValueError(
                f"batch and wait_timeout must be greater than 0. Currently, batch is "
                f"{self.batch} and wait_timeout is {self.wait_timeout}."
            )


@dataclass
class SeedReport:
    """What was written, and how long it took."""

    conversations: int
    events: int
    handoffs: dict[str, int]
    seconds: float

    @property
    def open_handoffs(self) -> int:
        """Waiting plus claimed."""
        return self.handoffs.get("waiting", 0) + self.handoffs.get("claimed", 0)


def safe_url(url: str) -> str:
    """``url`` with its password hidden (for logs)."""
    return make_url(url).render_as_string(hide_password=True)


def live_texts(wait_timeout: int) -> Texts:
    """The texts the live system writes, taken from the code that writes them."""
    from actions.handoff import handoff_text
    from bot.channels.widget import LEFT_QUEUE
    from bot.console.handoff_views import END_TEXT
    from bot.console.waiting import notice_text
    from core.settings import Settings

    settings = Settings(root=ROOT, handoff_wait_timeout=wait_timeout)
    return Texts(handoff_text(settings), notice_text(settings), LEFT_QUEUE, dict(END_TEXT))


def customer_ids(root: Path) -> list[str]:
    """Customer ids of the store's order database (empty when there is none)."""
    from core.settings import Settings

    settings = Settings(root=root)
    url = settings.resolve_db_url(settings.store_db_url)
    path = settings.sqlite_path(url)
    if path is not None and not path.exists():
        logger.info("No order database at %s: no conversation has a verified customer", path)
        return []
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return [str(v) for v in conn.execute(text("SELECT id FROM customers")).scalars()]
    except Exception as exc:  # optional realism: the seed works without customers
        logger.warning("Cannot read customers from %s (%s): none verified", safe_url(url), exc)
        return []
    finally:
        engine.dispose()


def plan_conversations(
    args: SeedArgs, rng: random.Random, agents: list[Agent], customers: list[str]
) -> list[Plan]:
    """Every conversation's channel, start, length and handoff state, oldest first."""
    n = args.conversations
    now = args.now if args.now is not None else time.time()
    n_waiting, n_claimed = round(n * args.waiting), round(n * args.claimed)
    n_ended = round(n * args.ended)
    statuses = ["waiting"] * n_waiting + ["claimed"] * n_claimed
    for status, share in ENDED_SPLIT:
        statuses += [status] * round(n_ended * share)
    statuses += ["none"] * (n - len(statuses))
    rng.shuffle(statuses)
    oldest = now - args.days * 24 * HOUR
    plans = []
    for status in statuses:
        if status == "waiting":  # asked 30 min to 3 h ago: past the wait timeout, notified
            start = rng.uniform(now - 3 * HOUR, now - HOUR / 2 - args.wait_timeout)
        elif status == "claimed":
            start = rng.uniform(now - 3 * HOUR, now - HOUR)
        else:
            start = rng.uniform(oldest, now - 3 * HOUR)
        channel = "rest" if rng.random() < args.rest_share else "widget"
        handed = status != "none"
        plans.append(
            Plan(
                conversation_id="",
                channel=channel,
                start=start,
                status=status,
                turns=rng.choice(TURNS_BEFORE_HANDOFF)
                if handed
                else rng.choices(list(TURN_WEIGHTS), list(TURN_WEIGHTS.values()))[0],
                reason="frustration" if rng.random() < FRUSTRATED_SHARE else "asked",
                customer=rng.choice(customers)
                if customers and rng.random() < args.customer_share
                else None,
                agent=rng.choice(agents) if status in ("claimed", "returned", "closed") else None,
            )
        )
    plans.sort(key=lambda p: p.start)
    from training.bench.seed_plan import conversation_id

    for plan in plans:
        plan.conversation_id = conversation_id(rng, plan.channel)
    return plans


def tracker_table() -> Any:
    """Rasa's ``events`` table (``SQLTrackerStore.SQLEvent``)."""
    from rasa.core.tracker_store import SQLTrackerStore

    return SQLTrackerStore.SQLEvent.__table__


def create_tracker_table(engine: Engine) -> None:
    """Create the ``events`` table (and its ``sender_id`` index) as Rasa's tracker store does."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore.Base.metadata.create_all(engine)


def seed_agents(engine: Engine, count: int) -> list[Agent]:
    """``count`` console agents who hold the seeded handoffs (reused when already there)."""
    from bot.console.agents import AgentStore

    store = AgentStore(engine)
    agents = []
    for k in range(1, count + 1):
        email = f"seed-agent-{k}@example.com"
        agent = store.get(email) or store.add(
            email, f"Support agent {k}", "agent", secrets.token_urlsafe(24)
        )
        agents.append(Agent(agent.id, agent.name))
    return agents


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _tracker_engine(url: str) -> Engine:
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        @event.listens_for(engine, "connect")
        def _fast(dbapi_connection: Any, _record: Any) -> None:
            # A bulk load that can simply be run again if the machine dies halfway.
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    return engine


EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


def _copy_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: the rows in one ``COPY ... FROM STDIN`` (CSV; an empty field is NULL)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([row[c] for c in EVENT_COLUMNS] for row in rows)
    buffer.seek(0)
    cursor = conn.connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buffer
        )
    finally:
        cursor.close()


def _write(tracker: Engine, app: Engine, batch: list[Seeded]) -> int:
    from bot.storage.handoff_tables import conversation_summaries, handoffs
    from bot.storage.message_tables import conversation_messages

    rows = [row for seeded in batch for row in seeded.rows]
    with tracker.begin() as conn:
        if tracker.dialect.name == "postgresql":
            _copy_events(conn, rows)
        else:
            conn.execute(insert(tracker_table()), rows)
    with app.begin() as conn:
        conn.execute(insert(conversation_summaries), [s.summary for s in batch])
        conn.execute(insert(conversation_messages), [m for s in batch for m in s.messages])
        opened = [s.handoff for s in batch if s.handoff is not None]
        if opened:
            conn.execute(insert(handoffs), opened)
    return len(rows)


def _write_daily(app: Engine, daily: dict[tuple[Any, ...], dict[str, Any]]) -> None:
    """The shopper turns per day, channel, intent and sentiment (added to rows already there)."""
    from bot.storage.messages import add_turn_counts

    rows = [
        {"day": day, "channel": channel, "intent": intent, "sentiment": sentiment, **counts}
        for (day, channel, intent, sentiment), counts in sorted(daily.items())
    ]
    with app.begin() as conn:
        for start in range(0, len(rows), 5000):
            add_turn_counts(conn, rows[start : start + 5000])


def seed(args: SeedArgs, root: Path = ROOT, corpus: ShopperCorpus | None = None) -> SeedReport:
    """Seed ``args.conversations`` conversations into both stores; return what was written.

    Raises:
        RuntimeError: When a store already has conversations and ``allow_existing`` is off.
    """
    from bot.storage.engine import make_engine
    from bot.storage.handoff_tables import conversation_summaries
    from bot.storage.migrate import upgrade_to_head

    config = {k: v for k, v in asdict(args).items() if k not in ("tracker_url", "app_db_url")}
    logger.info(
        "Seeding conversations: tracker %s, application database %s, %s",
        safe_url(args.tracker_url),
        safe_url(args.app_db_url),
        config,
    )
    started = time.monotonic()
    corpus = corpus or load_corpus(root)
    upgrade_to_head(args.app_db_url)
    tracker, app = _tracker_engine(args.tracker_url), make_engine(args.app_db_url)
    try:
        create_tracker_table(tracker)
        existing = _count(tracker, tracker_table()), _count(app, conversation_summaries)
        if any(existing) and not args.allow_existing:
            raise RuntimeError(
                f"The stores already hold conversations ({existing[0]} tracker events, "
                f"{existing[1]} summaries): refusing to seed into them. Use empty stores, or "
                "pass --allow-existing with a --seed not used before."
            )
        rng = random.Random(args.seed)
        agents = seed_agents(app, args.agents) if args.claimed or args.ended else []
        plans = plan_conversations(args, rng, agents, customer_ids(root))
        builder = ConversationBuilder(corpus, live_texts(args.wait_timeout), rng, args.wait_timeout)
        n_events = 0
        statuses: Counter[str] = Counter()
        pending: list[Seeded] = []
        daily: dict[tuple[Any, ...], dict[str, Any]] = {}
        show = logger.isEnabledFor(logging.INFO)
        bar = tqdm(plans, desc="seed conversations", unit="conv", mininterval=5.0, disable=not show)
        for plan in bar:
            pending.append(builder.build(plan))
            add_turns(daily, pending[-1].messages)
            statuses[plan.status] += 1
            if len(pending) >= args.batch:
                n_events += _write(tracker, app, pending)
                pending = []
        if pending:
            n_events += _write(tracker, app, pending)
        _write_daily(app, daily)
        for engine in (tracker, app):  # fresh planner statistics, as autovacuum would gather
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    finally:
        tracker.dispose()
        app.dispose()
    statuses.pop("none", None)
    report = SeedReport(len(plans), n_events, dict(statuses), time.monotonic() - started)
    logger.info(
        "Seeded %d conversations (%d events, handoffs %s) in %.0f s",
        report.conversations,
        report.events,
        report.handoffs,
        report.seconds,
    )
    return report


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, seed, print what was written."""
    from core.logging_setup import configure_logging
    from core.settings import Settings

    settings = Settings(root=ROOT)
    parser = argparse.ArgumentParser(
        prog="python -m training.bench.seed_conversations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = {
        "tracker_url": settings.resolve_db_url(settings.tracker_store_url),
        "app_db_url": settings.resolve_db_url(settings.app_db_url),
        "wait_timeout": settings.handoff_wait_timeout,
    }
    for f in SeedArgs.__dataclass_fields__.values():
        flag = "--" + f.name.replace("_", "-")
        help_text = str(f.metadata.get("help", ""))
        if f.type in ("bool", bool):
            parser.add_argument(flag, action="store_true", help=help_text)
            continue
        kind = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
        default = defaults.get(f.name, f.default)
        parser.add_argument(
            flag,
            type=kind,
            default=default,
            help=f"{help_text} (default: {safe_url(str(default)) if 'url' in f.name else default})",
        )
    parsed = vars(parser.parse_args(argv))
    configure_logging()
    try:
        args = SeedArgs(**parsed)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        report = seed(args)
    except (RuntimeError, FileNotFoundError) as exc:
        logger.error("%s", exc)
        return 1
    print(
        f"Seeded {report.conversations} conversations ({report.events} tracker events; "
        f"handoffs {report.handoffs}) in {report.seconds:.0f} s."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
