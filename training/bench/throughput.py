"""Benchmark section "Throughput": messages per second and latency per kind of turn under load.

Realistic shoppers (Locust, :mod:`training.bench.locustfile`, run from ``.venv-load``) talk to the
real Rasa and action servers of ``ctx.preset`` through the REST channel on loopback, on the same
machine (the load generator's CPU is part of the budget, as the issue asks). The mix, per
conversation a shopper starts: greetings 15, thanks 10, product questions 25, FAQ questions 20,
product searches 10, order tracking with identity 15 (3 messages), cancellations declined at the
confirmation 5 (4 messages); every message is checked against the served model before the load
(:mod:`training.bench.load_plan`). Think times 0.3–1.5 s between messages and conversations.

Each configuration starts its own servers (fresh tracker store, copy of the store) and is driven at
10, 50, 100 and 200 concurrent shoppers (100: the fewest whose shoppers can send the goal's
50 messages/s with replies of about a second), one level after the other, in the same run:

- ``baseline``: the configuration at the start of issue 17: Rasa 3.6's own check of every action
  server reply (``SHOPBOT_RASA_REPLY_CHECK=rasa``) and Rasa's SQL tracker store, which reads the
  session back on every save (``SHOPBOT_TRACKER_STREAMING=rasa``), and the intent and sentiment
  classifiers in PyTorch (``SHOPBOT_NLU_RUNTIME=torch``), the action server called for the
  frustration slots on every turn (``SHOPBOT_SLOT_VALIDATION=remote``), and every answer decoded
  in its own thread with torch's choice of CPU threads (``SHOPBOT_GENERATOR_BATCH=1``, an empty
  ``SHOPBOT_GENERATOR_THREADS``) through transformers' own forward pass
  (``SHOPBOT_GENERATOR_DECODER=transformers``), and every message parsed on its own in the Rasa
  server's event loop (``SHOPBOT_NLU_BATCH=1``, ``SHOPBOT_NLU_WORKER=inline``);
- ``current``: today's defaults;
- ``replicas-2``: today's defaults on two Rasa servers and two action servers behind HAProxy,
  sharing PostgreSQL and Redis (``shopbot run --replicas 2``): Rasa 3.6 parses in its one event
  loop, and more processes are how a store uses more cores — here they share the same two.

Every configuration starts Rasa as ``bot.runner`` does, on asyncio's event loop (decision 029;
the reports before 2026-12-06 12:00 UTC ran every configuration on uvloop).

Statistics are reset once every shopper of a level has started (``--reset-stats``), so the numbers
are the steady state. ``ctx.quick``: 10 shoppers for 20 s. The plot goes to ``throughput.png``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import json
import logging
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.settings import Settings
from training.bench.load_plan import Kind, build_kinds, served_intent
from training.bench.report import BenchContext, BenchSection, markdown_table
from training.bench.servers import (
    bench_settings,
    no_rasa_model,
    running_replicas,
    running_servers,
)
from training.bench.widget_client import post_json

logger = logging.getLogger(__name__)

TITLE = "Throughput"
PLOT_FILE = "throughput.png"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOAD_VENV = Path(".venv-load")
THINK_S = (0.3, 1.5)
MEAN_THINK_S = sum(THINK_S) / 2  # uniform between the two
WEIGHTS = {
    "greeting": 15,
    "thanks": 10,
    "product_question": 25,
    "policy_question": 20,
    "product_search": 10,
    "order_tracking": 15,
    "cancellation": 5,
}
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "baseline": {
        "rasa_reply_check": "rasa",
        "tracker_streaming": "rasa",
        "nlu_runtime": "torch",
        "slot_validation": "remote",
        "generator_batch": 1,
        "generator_threads": None,
        "generator_decoder": "transformers",
        "nlu_batch": 1,
        "nlu_worker": "inline",
        "action_connections": "per-call",
        "gc_freeze": False,
        "shared_states": False,
    },
    "current": {},
    "replicas-2": {},
}
REPLICAS = {"replicas-2": 2}  # configurations served by ``bot.replicas`` (N of each server)
GOAL_MSGS_PER_S = 50.0
GOAL_P95_MS = 1000.0
N_GOAL = 100  # the lowest level whose shoppers can send 50 messages/s with replies of ~1 s
NON_GENERATIVE = ("greeting", "thanks")
SPAWN_S = 5.0
KIND_HEADER = [
    "configuration",
    "shoppers",
    "kind",
    "requests",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "failed",
]


@dataclass
class KindStats:
    """Locust's numbers for one kind of turn (or all of them: ``Aggregated``)."""

    requests: int
    failures: int
    per_s: float
    p50: float
    p95: float
    p99: float


@dataclass
class LevelRun:
    """One configuration at one number of shoppers."""

    configuration: str
    shoppers: int
    seconds: float
    kinds: dict[str, KindStats]

    @property
    def total(self) -> KindStats:
        return self.kinds["Aggregated"]


def locust_binary(root: Path) -> Path:
    """``.venv-load/bin/locust`` (``scripts/load-venv.sh`` builds it)."""
    binary = root / LOAD_VENV / "bin" / "locust"
    if not binary.exists():
        raise RuntimeError(f"No load generator at {binary}: run scripts/load-venv.sh")
    return binary


def read_stats(csv_file: Path) -> dict[str, KindStats]:
    """Locust's ``<prefix>_stats.csv``: per request name, counts, rate and percentiles (ms)."""
    out: dict[str, KindStats] = {}
    with csv_file.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["Name"]] = KindStats(
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                per_s=float(row["Requests/s"]),
                p50=_percentile_ms(row["50%"]),
                p95=_percentile_ms(row["95%"]),
                p99=_percentile_ms(row["99%"]),
            )
    return out


def _percentile_ms(value: str | None) -> float:
    """A percentile cell of Locust's CSV: a number, or NaN where Locust has none ("" or "N/A" —
    a kind whose every request failed has no response times)."""
    try:
        return float(value or "nan")
    except ValueError:
        return float("nan")


def plan_file(
    kinds: list[Kind], secret: str, out: Path, weights: dict[str, int] | None = None
) -> Path:
    """The JSON plan the Locust shoppers read (``SHOPBOT_LOAD_PLAN``); ``weights`` per kind name
    (default: the realistic mix, ``WEIGHTS``)."""
    weights = WEIGHTS if weights is None else weights
    plan = {
        "secret": secret,
        "think_s": list(THINK_S),
        "timeout_s": 60,
        "kinds": [
            {"name": k.name, "weight": weights[k.name], "conversations": k.conversations}
            for k in kinds
            if k.name in weights
        ],
    }
    out.write_text(json.dumps(plan), encoding="utf-8")
    out.chmod(0o600)  # it holds the REST secret
    return out


def run_level(
    root: Path, base_url: str, plan: Path, shoppers: int, seconds: float, work: Path
) -> dict[str, KindStats]:
    """Drive ``shoppers`` Locust users for ``seconds`` (spawned over ~5 s); their statistics."""
    prefix = work / f"locust-{shoppers}-{uuid.uuid4().hex[:6]}"
    command = [
        str(locust_binary(root)), "-f", str(LOCUSTFILE), "--headless",
        "--users", str(shoppers), "--spawn-rate", str(max(1.0, shoppers / SPAWN_S)),
        "--run-time", f"{int(seconds + SPAWN_S)}s", "--stop-timeout", "10",
        "--host", base_url, "--csv", str(prefix), "--reset-stats", "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "SHOPBOT_LOAD_PLAN": str(plan)}
    with (work / "locust.log").open("ab") as log:
        done = subprocess.run(command, env=env, stdout=log, stderr=log, timeout=seconds + 300)
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"Locust wrote no statistics (exit {done.returncode}); see {log.name}")
    return read_stats(stats)


def checked_kinds(
    ctx: BenchContext, base_url: str, api_token: str, work: Path
) -> tuple[list[Kind], dict[str, int]]:
    """The load's turns, each checked against the served model; distinct messages per kind."""
    return build_kinds(
        ctx.project_root,
        functools.partial(served_intent, base_url, api_token),
        work / "shop.db",
        per_kind=20 if ctx.quick else 60,
        cancellations=True,
    )


def warm_up(base_url: str, secret: str, kinds: list[Kind]) -> None:
    """One conversation of each kind, so lazily loaded models are loaded before the load."""
    for kind in kinds:
        sender = f"warm-{uuid.uuid4().hex}"
        for text in kind.conversations[0]:
            post_json(
                f"{base_url}/webhooks/rest/webhook",
                {"sender": sender, "message": text},
                headers={"Authorization": f"Bearer {secret}"},
                timeout=300,
            )


@contextlib.contextmanager
def serving(settings: Settings, replicas: int) -> Iterator[tuple[str, Settings]]:
    """One server of each kind, or ``replicas`` of each behind the balancer; the Rasa URL and the
    settings the servers run with."""
    if replicas > 1:
        with running_replicas(settings, replicas) as served:
            yield served
        return
    with running_servers(settings) as base_url:
        yield base_url, settings


def measure(
    ctx: BenchContext, levels: list[int], seconds: float
) -> tuple[list[LevelRun], dict[str, int]]:
    """Every configuration at every level; also the plan's distinct messages per kind."""
    runs: list[LevelRun] = []
    distinct: dict[str, int] = {}
    kinds: list[Kind] = []
    steps = tqdm(total=len(CONFIGURATIONS) * len(levels), desc="throughput", unit="level")
    for name, overrides in CONFIGURATIONS.items():
        with tempfile.TemporaryDirectory(prefix=f"bench-throughput-{name}-") as tmp:
            work = Path(tmp)
            settings = dataclasses.replace(bench_settings(ctx, work), **overrides)
            logger.info("Throughput %s: %s", name, overrides or "defaults")
            with serving(settings, REPLICAS.get(name, 1)) as (base_url, settings):
                if not kinds:
                    kinds, distinct = checked_kinds(ctx, base_url, settings.api_token, work)
                plan = plan_file(kinds, settings.rest_secret, work / "plan.json")
                warm_up(base_url, settings.rest_secret, [k for k in kinds if k.name in WEIGHTS])
                for shoppers in levels:
                    started = time.monotonic()
                    stats = run_level(ctx.project_root, base_url, plan, shoppers, seconds, work)
                    runs.append(LevelRun(name, shoppers, time.monotonic() - started, stats))
                    total = stats["Aggregated"]
                    logger.info(
                        "%s, %d shoppers: %.1f msg/s, p50 %.0f / p95 %.0f ms, %d failures",
                        name, shoppers, total.per_s, total.p50, total.p95, total.failures,
                    )  # fmt: skip
                    steps.update()
    steps.close()
    return runs, distinct


def _plot(runs: list[LevelRun], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rate, p95) = plt.subplots(1, 2, figsize=(9, 3.5))
    for name in CONFIGURATIONS:
        mine = [r for r in runs if r.configuration == name]
        xs = [r.shoppers for r in mine]
        rate.plot(xs, [r.total.per_s for r in mine], marker="o", label=name)
        p95.plot(xs, [r.total.p95 for r in mine], marker="o", label=name)
    rate.axhline(GOAL_MSGS_PER_S, color="grey", linestyle=":", label="goal")
    p95.axhline(GOAL_P95_MS, color="grey", linestyle=":", label="goal")
    for ax, label in ((rate, "messages/s"), (p95, "p95 latency (ms)")):
        ax.set_xscale("log")
        ax.set_xlabel("concurrent shoppers")
        ax.set_ylabel(label)
        ax.legend()
    p95.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def shoppers_ceiling(shoppers: int) -> float:
    """The most messages a second ``shoppers`` can send: each thinks ``THINK_S`` (0.9 s on average)
    before every message, so even instant replies cap a level at ``shoppers / 0.9``."""
    return shoppers / MEAN_THINK_S


def section_from(
    runs: list[LevelRun], distinct: dict[str, int], preset: str, seconds: float
) -> BenchSection:
    """The report section: totals per configuration and level, then per kind of turn."""
    rows: list[list[object]] = []
    numbers: dict[str, float] = {}
    for run in runs:
        t = run.total
        rows.append(
            [run.configuration, run.shoppers, f"{t.per_s:.1f}", f"{t.p50:.0f}", f"{t.p95:.0f}",
             f"{t.p99:.0f}", f"{t.failures} of {t.requests}"]
        )  # fmt: skip
        key = f"{run.configuration}_{run.shoppers}"
        numbers |= {f"{key}_msgs_per_s": t.per_s, f"{key}_p50_ms": t.p50, f"{key}_p95_ms": t.p95}
        numbers[f"{key}_p99_ms"] = t.p99
        numbers[f"{key}_failures"] = float(t.failures)
    kinds = [k for k in WEIGHTS if any(k in r.kinds for r in runs)]
    kind_rows: list[list[object]] = []
    for run in runs:
        for kind in kinds:
            s = run.kinds.get(kind)
            if s is None:
                continue
            kind_rows.append(
                [run.configuration, run.shoppers, kind, s.requests, f"{s.p50:.0f}",
                 f"{s.p95:.0f}", f"{s.p99:.0f}", s.failures]
            )  # fmt: skip
    best = max((r for r in runs), key=lambda r: r.total.per_s)
    met = [r for r in runs if r.total.per_s >= GOAL_MSGS_PER_S and r.total.p95 <= GOAL_P95_MS]
    low = [r for r in runs if r.shoppers == min(x.shoppers for x in runs)]
    low_rows: list[list[object]] = [
        [r.configuration, kind, f"{r.kinds[kind].p50:.0f}"]
        for r in low
        for kind in NON_GENERATIVE
        if kind in r.kinds
    ]
    notes = [
        f"Preset `{preset}`; real Rasa and action servers and the Locust shoppers on this one "
        f"machine; {seconds:.0f} s per level after all shoppers started; think times "
        f"{THINK_S[0]}–{THINK_S[1]} s. Distinct messages per kind: "
        + ", ".join(f"{k} {v}" for k, v in sorted(distinct.items()))
        + ".",
        markdown_table(
            ["configuration", "shoppers", "messages/s", "p50 ms", "p95 ms", "p99 ms", "failed"],
            rows,
        ),
        f"Goal: ≥ {GOAL_MSGS_PER_S:.0f} messages/s at p95 ≤ {GOAL_P95_MS:.0f} ms — "
        + (
            "met by " + ", ".join(f"{r.configuration} at {r.shoppers}" for r in met)
            if met
            else f"**not met**; the most was {best.total.per_s:.1f} messages/s "
            f"({best.configuration}, {best.shoppers} shoppers, p95 {best.total.p95:.0f} ms)"
        )
        + ".",
        f"A level cannot exceed what its shoppers send: each thinks {MEAN_THINK_S:.1f} s on "
        "average before every message, so even instant replies would give at most "
        + ", ".join(
            f"{shoppers_ceiling(n):.0f} messages/s at {n}"
            for n in sorted({r.shoppers for r in runs})
        )
        + f" shoppers; {GOAL_MSGS_PER_S:.0f} messages/s from {N_GOAL} shoppers needs a mean reply "
        f"of at most {N_GOAL / GOAL_MSGS_PER_S - MEAN_THINK_S:.2f} s.",
        "Non-generative turns at the lowest load, p50 (goal ≤ 50 ms):",
        markdown_table(["configuration", "kind", "p50 ms"], low_rows),
        "Per kind of turn:",
        markdown_table(
            KIND_HEADER,
            kind_rows,
        ),
    ]
    return BenchSection(TITLE, "\n\n".join(notes), [PLOT_FILE], numbers)


def run_section(ctx: BenchContext) -> BenchSection:
    """Every configuration at 10, 50, 100 and 200 shoppers (quick: 10 for 20 s); the section."""
    missing = no_rasa_model(ctx, TITLE)
    if missing is not None:
        return missing
    locust_binary(ctx.project_root)  # fail before starting any server
    levels = [10] if ctx.quick else [10, 50, N_GOAL, 200]
    seconds = 20.0 if ctx.quick else 60.0
    runs, distinct = measure(ctx, levels, seconds)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    _plot(runs, ctx.out_dir / PLOT_FILE)
    return section_from(runs, distinct, ctx.preset, seconds)
