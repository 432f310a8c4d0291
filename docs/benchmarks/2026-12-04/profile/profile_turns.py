"""Where the CPU time of one shopper turn goes, per kind of turn (issue 17, "Measure first").

Starts the real Rasa server and action server of the ``tiny`` preset on loopback (the end-to-end
tests' :class:`tests.e2e.harness.ShopBotServers` on the bench's private settings,
:func:`training.bench.servers.bench_settings`: free ports, a temporary SQLite tracker store and
application database, a copy of the demo store's order database, fresh secrets; nothing is written
into ``var/``). Then, for each kind of turn, one after the other:

1. the messages are chosen and checked *before* profiling: each candidate goes through
   ``/model/parse`` and is kept only when the NLU gives it the kind's intent, so a kind's load is
   that kind of turn and nothing else (order numbers and emails are read from the servers' copy
   of the store, never written here);
2. every conversation of the kind is opened with one greeting, outside the profile (the
   "new conversation" kind is the exception: it measures exactly that first message, session
   start included), and one turn of the kind is sent as a warm-up;
3. ``py-spy record --format raw --nolineno`` (blocking: see :func:`start_pyspy`) is attached to
   both server processes (neither forks: the script checks that they have no child processes),
   idle threads left out (no ``--idle``), and the kind's messages are sent one at a time through
   the REST channel, each reply awaited before the next message; the wall time of every request
   is kept;
4. py-spy is stopped with SIGINT and each server's CPU time (``/proc/<pid>/stat``, every thread,
   and the main thread's alone) over the same window is read.

Outputs, in ``--out``: per kind and process a flame graph (``<kind>-<process>.svg``, drawn here
from py-spy's collapsed stacks, coloured by the report's buckets: the same data as the tables);
``profile.json`` with every number; ``report.md`` with the tables (``--stacks DIR`` also keeps the
collapsed stacks). A ``## Findings`` section already in ``report.md`` (between the
``<!-- findings -->`` markers) is kept when the report is written again.

What a sample means: py-spy samples a thread when it is not waiting in a system call, so a thread
that is ready to run but waits for a core on a busy machine is sampled too. Sampled ms per turn
(samples ÷ rate ÷ turns) are therefore busy wall time, and exceed CPU time when the machine is
shared; the shares between buckets are what the profile is for, and the ``/proc`` CPU time per
turn is reported beside them. Work that PyTorch or ONNX Runtime hands to their own native thread
pools has no Python stack and is not sampled (it is in the ``/proc`` time). Stacks that end in a
wait py-spy misread as running (``IDLE_LEAF``) are counted apart and left out.

Run (about 6 minutes on 2 cores; the models of ``shopbot prepare/train --preset tiny``, or of
the demo preset with ``--preset demo``)::

    HF_HUB_OFFLINE=1 .venv/bin/python docs/benchmarks/2026-12-04/profile/profile_turns.py
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.bench.load_plan import Kind, served_intent
from training.bench.load_plan import build_kinds as plan_kinds
from training.bench.report import BenchContext, markdown_table
from training.bench.servers import bench_settings
from training.stats import p50_p95

if TYPE_CHECKING:
    from tests.e2e.harness import ShopBotServers

logger = logging.getLogger("profile_turns")

ROOT = Path(__file__).resolve().parents[4]
OUT = Path(__file__).resolve().parent
SEED = 17
FINDINGS_START, FINDINGS_END = "<!-- findings -->", "<!-- /findings -->"
PROCESSES = ("rasa", "actions")

# ---- Sending the load and sampling ------------------------------------------------------------


@dataclass
class KindRun:
    """What one kind's profiled load measured."""

    kind: Kind
    wall_ms: list[float] = field(default_factory=list)
    stacks: dict[str, Counter[str]] = field(default_factory=dict)  # process → collapsed stacks
    proc_cpu_s: dict[str, float] = field(default_factory=dict)  # process → CPU seconds (/proc)
    main_thread_cpu_s: dict[str, float] = field(default_factory=dict)  # of that, the main thread
    failures: int = 0
    answered: Counter[str] = field(default_factory=Counter)  # the last action of each turn
    load_before: float = 0.0
    load_after: float = 0.0


def build_kinds(servers: ShopBotServers, per_kind: int) -> tuple[list[Kind], dict[str, int]]:
    """Every kind's messages (``training/bench/load_plan.py``), checked against the served NLU."""
    parse = functools.partial(served_intent, servers.base_url, servers.settings.api_token)
    store_db = servers.settings.sqlite_path(servers.settings.store_db_url)
    if store_db is None:
        raise SystemExit(f"No SQLite store copy at {servers.settings.store_db_url!r}.")
    return plan_kinds(ROOT, parse, store_db, per_kind)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time of each thread of a process (``/proc/<pid>/task/<tid>/stat``)."""
    times: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        times[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return times


def children(pid: int) -> list[int]:
    """Child processes of ``pid`` (every thread's ``children`` file)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as f:
            found += [int(c) for c in f.read().split()]
    return found


def say(servers: ShopBotServers, sender: str, text: str) -> tuple[float, bool, list[str]]:
    """One message through the REST channel: ms to the reply, whether it came, its texts."""
    body = json.dumps({"sender": sender, "message": text}).encode()
    t0 = time.monotonic()
    reply = servers.post_raw(body, secret=servers.settings.rest_secret)
    elapsed = (time.monotonic() - t0) * 1000
    return elapsed, reply.status == 200 and bool(reply.texts), reply.texts


def last_actions(servers: ShopBotServers, sender: str) -> list[str]:
    """Per user message of a conversation, the last action (not ``action_listen``) it ran."""
    turns: list[str] = []
    for event in servers.tracker(sender)["events"]:
        if event.get("event") == "user":
            turns.append("")
        elif turns and event.get("event") == "action" and event["name"] != "action_listen":
            turns[-1] = event["name"]
    return turns


def start_pyspy(pid: int, out: Path, rate: int) -> subprocess.Popen[bytes]:
    pyspy = Path(sys.executable).with_name("py-spy")
    # Not --nonblocking: py-spy then reads uvloop's wait for I/O (the servers' event loop, in C)
    # as a running thread, and an idle server fills the profile with its event loop. Pausing the
    # process for each sample lets py-spy see that the thread is waiting in a system call.
    # --nolineno: one frame per function, so the flame graphs (and their files) stay readable.
    command = [str(pyspy), "record", "--pid", str(pid), "--rate", str(rate), "--nolineno"]
    command += ["--format", "raw", "--output", str(out)]
    log = out.with_suffix(".log").open("wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def stop_pyspy(process: subprocess.Popen[bytes], out: Path) -> Counter[str]:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if not out.exists():
        log = out.with_suffix(".log").read_text(errors="replace")
        raise SystemExit(f"py-spy wrote no {out.name} (exit code {process.returncode}):\n{log}")
    stacks: Counter[str] = Counter()
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def run_kind(servers: ShopBotServers, kind: Kind, work: Path, rate: int) -> KindRun:
    """Warm up, open the conversations, then profile the kind's turns; read what they answered."""
    senders = [f"prof-{kind.name}-{uuid.uuid4().hex[:10]}" for _ in kind.conversations]
    warm = f"prof-warm-{uuid.uuid4().hex[:10]}"
    say(servers, warm, "hi")
    for text in kind.conversations[0]:
        say(servers, warm, text)
    if kind.open_first:
        for sender in senders:
            say(servers, sender, "hi")
    run = KindRun(kind, load_before=os.getloadavg()[0])
    pids = {"rasa": servers.rasa.process.pid, "actions": servers.actions.process.pid}  # type: ignore[union-attr]
    outs = {name: work / f"{kind.name}-{name}.txt" for name in pids}
    spies = {name: start_pyspy(pid, outs[name], rate) for name, pid in pids.items()}
    time.sleep(1.0)  # py-spy attaches
    cpu_attached = {name: cpu_seconds(pid) for name, pid in pids.items()}
    main_attached = {name: thread_cpu_seconds(pid)[pid] for name, pid in pids.items()}
    for sender, conversation in zip(senders, kind.conversations, strict=True):
        for text in conversation:
            elapsed, ok, _ = say(servers, sender, text)
            run.wall_ms.append(elapsed)
            run.failures += not ok
    time.sleep(0.5)  # the last turn's tracker write and broker publish finish after the reply
    cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    main1 = {name: thread_cpu_seconds(pid)[pid] for name, pid in pids.items()}
    run.main_thread_cpu_s = {name: main1[name] - main_attached[name] for name in pids}
    run.stacks = {name: stop_pyspy(spies[name], outs[name]) for name in pids}
    run.proc_cpu_s = {name: cpu1[name] - cpu_attached[name] for name in pids}
    run.load_after = os.getloadavg()[0]
    for sender in senders:
        turns = last_actions(servers, sender)
        run.answered.update(turns[1:] if kind.open_first else turns)
    return run


# ---- Buckets: what each sampled stack was doing ----------------------------------------------

OTHER = "other (interpreter, GC, unattributed)"
# Stacks that end in a wait: the servers' ``loop.run_forever()`` (uvloop waits for I/O in C) and
# idle thread-pool workers. py-spy (0.4.3) reads a few percent of such waits as running, most
# with --nonblocking but some in blocking mode too; they are counted apart and left out of every
# bucket (what uvloop's C code really spends on loopback I/O is left out with them).
IDLE_LEAF = re.compile(
    r"(serve \(sanic/server/runners\.py(:\d+)?\)|_worker \(concurrent/futures/thread\.py(:\d+)?\)"
    r"|wait \(threading\.py(:\d+)?\)|get \(queue\.py(:\d+)?\)|select \(selectors\.py(:\d+)?\)"
    # the batch decoder (2026-12-06): a caller waiting for its next token, the decoder for a prompt
    r"|tokens \(knowledge/batch_decoding\.py(:\d+)?\)|_serve \(knowledge/batch_decoding\.py(:\d+)?\))$"
)

# (bucket, pattern over the whole collapsed stack), first match wins: the most specific first.
RASA_BUCKETS: list[tuple[str, str]] = [
    ("intent encoder (MiniLM: tokenizer + forward)", r"bot/nlu/intent_classifier\.py"),
    ("sentiment encoder (MiniLM: tokenizer + forward)", r"bot/nlu/sentiment\.py"),
    (
        "CRF + regex entity extraction",
        r"crf_entity_extractor|sklearn_crfsuite|pycrfsuite|regex_entity_extractor|entity_synonyms",
    ),
    ("other NLU (tokenizer, fallback, graph)", r"_parse_message_with_graph|rasa/nlu/"),
    ("event broker (handoff summary, app DB)", r"bot/handoff/broker\.py|rasa/core/brokers/"),
    ("tracker store (SQL, event (de)serialisation)", r"rasa/core/tracker_store\.py"),
    ("action response check (jsonschema, Rasa side)", r"jsonschema/"),
    (
        "frustration slots in the Rasa server (since 2026-12-06)",
        r"bot/local_slot_validation\.py|core/frustration\.py",
    ),
    ("action server HTTP call (Rasa side: aiohttp, JSON)", r"rasa/utils/endpoints\.py|aiohttp/"),
    (
        "policies (next-action prediction)",
        r"_predict_next_with_tracker|rasa/core/policies/|rasa/core/featurizers/",
    ),
    ("forms / other actions (Rasa side)", r"rasa/core/actions/"),
    ("dialogue bookkeeping (tracker, events)", r"rasa/shared/core/|rasa/core/processor\.py"),
    (
        "REST channel + HTTP server (sanic)",
        r"bot/channels/|bot/metrics\.py|rasa/core/channels/|sanic/|httptools|rasa/server\.py",
    ),
]
# The steps of ``MessageProcessor.handle_message`` a Rasa sample was in (first match wins).
RASA_STEPS: list[tuple[str, str]] = [
    ("NLU (parse_message)", r"parse_message \(rasa/core/processor"),
    (
        "slot extraction + frustration slots (action server call before 2026-12-06)",
        r"run_action_extract_slots",
    ),
    (
        "tracker save + event broker",
        r"save_tracker \(rasa/core/processor|rasa/core/tracker_store\.py(:\d+)?\);save|bot/handoff/broker",
    ),
    ("tracker load", r"get_tracker \(rasa/core/processor|fetch_tracker|rasa/core/tracker_store"),
    ("next-action prediction", r"_predict_next_with_tracker|predict_next_with_tracker_if_should"),
    ("running the predicted actions (action server calls)", r"_run_action \(rasa/core/processor"),
    ("channel, HTTP, rest of the turn", r"handle_message|bot/channels/|sanic/"),
]
ACTIONS_BUCKETS: list[tuple[str, str]] = [
    (
        "retrieval embedding (query encoder)",
        r"knowledge/embedder\.py|knowledge/onnx_embedder\.py|onnxruntime|sentence_transformers",
    ),
    ("FAISS search", r"knowledge/vector_index\.py|faiss"),
    ("BM25", r"knowledge/bm25\.py"),
    ("generator decode", r"knowledge/(generator|batch_decoding)\.py"),
    (
        "verifier / answer checks",
        r"knowledge/verifier\.py|knowledge/answer_checks\.py|knowledge/numbers\.py",
    ),
    ("product match / search", r"knowledge/product_match\.py|knowledge/product_search\.py"),
    ("other knowledge (retriever, render, prompt)", r"knowledge/"),
    ("order store (SQL) + identity", r"actions/store/|actions/identity\.py"),
    (
        "slot validation (action_validate_slot_mappings, form validation)",
        r"actions/slot_mappings\.py|actions/validation\.py|actions/forms\.py|rasa_sdk/forms\.py",
    ),
    ("other actions code", r"actions/"),
    ("action SDK dispatch (tracker JSON, executor)", r"rasa_sdk/"),
    ("HTTP server (sanic)", r"sanic/|httptools"),
]


def bucket_of(stack: str, rules: Sequence[tuple[str, re.Pattern[str]]]) -> str:
    for name, pattern in rules:
        if pattern.search(stack):
            return name
    return OTHER


def bucket_counts(stacks: Counter[str], rules: list[tuple[str, str]]) -> tuple[Counter[str], int]:
    """Samples per bucket, and the samples of idle waits (left out of the buckets)."""
    compiled = [(name, re.compile(pattern)) for name, pattern in rules]
    counts: Counter[str] = Counter()
    idle = 0
    for stack, n in stacks.items():
        if IDLE_LEAF.search(stack):
            idle += n
        else:
            counts[bucket_of(stack, compiled)] += n
    return counts, idle


# ---- Flame graphs -----------------------------------------------------------------------------


PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#17becf", "#d37295", "#bcbd22", "#ffbe7d", "#8c564b",
)  # fmt: skip


def flame_svg(
    stacks: Counter[str], rules: list[tuple[str, str]], title: str, min_share: float = 0.003
) -> str:
    """An icicle flame graph (root at the top) of collapsed stacks, idle waits left out, each
    frame coloured by the bucket most of its samples fall in (the legend: the report's buckets).
    Frames under ``min_share`` of the samples are not drawn. Hover a frame for its samples."""
    compiled = [(name, re.compile(pattern)) for name, pattern in rules]
    colours = {name: PALETTE[i % len(PALETTE)] for i, (name, _) in enumerate([*rules, (OTHER, "")])}
    tree: dict[str, Any] = {"n": 0, "c": {}, "b": Counter()}
    for stack, n in stacks.items():
        if IDLE_LEAF.search(stack):
            continue
        bucket = bucket_of(stack, compiled)
        node = tree
        node["n"] += n
        for frame in stack.split(";"):
            node = node["c"].setdefault(frame, {"n": 0, "c": {}, "b": Counter()})
            node["n"] += n
            node["b"][bucket] += n
    total = max(tree["n"], 1)
    width, row = 1200.0, 16
    present = [name for name in colours if any(name in k["b"] for k in tree["c"].values())]
    legend_rows = (len(present) + 1) // 2
    top = 30 + 16 * legend_rows
    parts: list[str] = []
    for i, name in enumerate(present):
        x, y = 4 + 600 * (i % 2), 30 + 16 * (i // 2)
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{x + 14}" y="{y + 9}">{escape(name[:88])}</text>'
        )
    depth = 0

    def draw(node: dict[str, Any], name: str, x: float, level: int) -> None:
        nonlocal depth
        depth = max(depth, level + 1)
        w = node["n"] / total * width
        y = top + row * level
        label = f"{name} ({node['n']} samples, {100 * node['n'] / total:.1f}%)"
        text = ""
        chars = int(w / 6.5)
        if chars >= 4:
            short = name if len(name) <= chars else name[: chars - 2] + ".."
            text = f'<text x="{x + 2:.1f}" y="{y + 11}">{escape(short)}</text>'
        fill = colours[node["b"].most_common(1)[0][0]] if level else "#dddddd"
        parts.append(
            f'<g><title>{escape(label)}</title><rect x="{x:.1f}" y="{y}" width="{w:.1f}" '
            f'height="{row - 1}" fill="{fill}"/>{text}</g>'
        )
        for kid_name, kid in sorted(node["c"].items()):
            if kid["n"] / total >= min_share:
                draw(kid, kid_name, x, level + 1)
            x += kid["n"] / total * width

    draw(tree, f"all ({tree['n']} samples)", 0.0, 0)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{top + row * depth + 10}" font-family="monospace" font-size="11">'
        f'<text x="4" y="18" font-size="14">{escape(title)}</text>'
    )
    return head + "".join(parts) + "</svg>\n"


# ---- The report -------------------------------------------------------------------------------


def _ms(samples: int, rate: int, turns: int) -> float:
    return samples / rate * 1000 / max(turns, 1)


def summarise(run: KindRun, rate: int) -> dict[str, Any]:
    turns = len(run.wall_ms)
    p50, p95 = p50_p95(run.wall_ms)
    summary: dict[str, Any] = {
        "title": run.kind.title,
        "turns": turns,
        "conversations": len(run.kind.conversations),
        "failures": run.failures,
        "wall_ms_p50": p50,
        "wall_ms_p95": p95,
        "answered": dict(run.answered.most_common()),
        # Multi-turn conversations: the wall p50 of each step (all conversations are equally long).
        "wall_ms_p50_by_step": [
            p50_p95(run.wall_ms[step :: len(run.kind.conversations[0])])[0]
            for step in range(len(run.kind.conversations[0]))
        ],
        "expected": run.kind.expected,
        "load_before": run.load_before,
        "load_after": run.load_after,
        "rate": rate,
        "processes": {},
    }
    groupings = (("rasa", "buckets", RASA_BUCKETS), ("rasa", "steps", RASA_STEPS))
    groupings += (("actions", "buckets", ACTIONS_BUCKETS),)
    for process, grouping, rules in groupings:
        counts, idle = bucket_counts(run.stacks[process], rules)
        total = sum(counts.values())
        entry = summary["processes"].setdefault(
            process,
            {
                "samples": total,
                "idle_wait_samples_left_out": idle,
                "sampled_cpu_ms_per_turn": _ms(total, rate, turns),
                "proc_cpu_ms_per_turn": run.proc_cpu_s[process] * 1000 / max(turns, 1),
                "proc_main_thread_cpu_ms_per_turn": run.main_thread_cpu_s[process]
                * 1000
                / max(turns, 1),
            },
        )
        entry[grouping] = {
            name: {"samples": n, "share": n / max(total, 1), "ms_per_turn": _ms(n, rate, turns)}
            for name, n in counts.most_common()
        }
    return summary


def _bucket_matrix(
    results: dict[str, dict[str, Any]], process: str, grouping: str, rules: list[tuple[str, str]]
) -> str:
    """Rows: the buckets (or steps); columns: the kinds; cells: CPU ms per turn (share)."""
    header = ["bucket" if grouping == "buckets" else "step", *(f"`{k}`" for k in results)]
    rows: list[list[object]] = []
    for name in [name for name, _ in rules] + [OTHER]:
        cells: list[object] = [name]
        for summary in results.values():
            bucket = summary["processes"][process][grouping].get(name)
            share = f" ({100 * bucket['share']:.0f}%)" if bucket else ""
            cells.append(f"{bucket['ms_per_turn']:.1f}{share}" if bucket else "–")
        if any(cell != "–" for cell in cells[1:]):
            rows.append(cells)
    totals: list[object] = ["**sampled CPU ms per turn**"]
    totals += [
        f"**{s['processes'][process]['sampled_cpu_ms_per_turn']:.1f}**" for s in results.values()
    ]
    if grouping == "buckets":
        procs: list[object] = ["CPU ms per turn from /proc: all threads (main thread)"]
        procs += [
            f"{s['processes'][process]['proc_cpu_ms_per_turn']:.1f} "
            f"({s['processes'][process]['proc_main_thread_cpu_ms_per_turn']:.1f})"
            for s in results.values()
        ]
        idle: list[object] = ["idle-wait samples left out (ms per turn)"]
        idle += [
            f"{_ms(s['processes'][process]['idle_wait_samples_left_out'], s['rate'], s['turns']):.1f}"
            for s in results.values()
        ]
        return markdown_table(header, [*rows, totals, procs, idle])
    return markdown_table(header, [*rows, totals])


def jsonschema_check_ms(repeats: int = 20) -> dict[str, float]:
    """What Rasa's check of one action server response costs, in this process: ``jsonschema.validate``
    as ``RemoteAction._validate_action_result`` calls it (it checks the schema itself against the
    metaschema first, every call), the schema check alone, and a validator built once.

    The response is a typical one of ``action_validate_slot_mappings``: one ``slot`` event."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    response = {
        "events": [{"event": "slot", "name": "frustrated", "value": False}],
        "responses": [],
    }
    validator = jsonschema.validators.validator_for(schema)(schema)

    def per_call(call: Callable[[], object]) -> float:
        t0 = time.process_time()
        for _ in range(repeats):
            call()
        return (time.process_time() - t0) / repeats * 1000

    return {
        "validate_ms": per_call(lambda: jsonschema.validate(response, schema)),
        "check_schema_ms": per_call(lambda: type(validator).check_schema(schema)),
        "cached_validator_ms": per_call(lambda: validator.validate(response)),
    }


def models(preset: str) -> dict[str, Any]:
    """The sizes of the preset's encoder (sentiment's; the intent model uses the same base) and
    generator, from their saved configs."""
    root = ROOT / "models" / preset
    encoder = json.loads((root / "sentiment/encoder/config.json").read_text())
    generator = json.loads((root / "knowledge/generator/config.json").read_text())
    return {
        "encoder": f"{encoder['model_type']}, {encoder['num_hidden_layers']} layers, "
        f"hidden {encoder['hidden_size']}",
        "generator": f"{generator['model_type']}, {generator['n_layer']} layers, "
        f"n_embd {generator['n_embd']}, vocabulary {generator['vocab_size']}",
    }


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_report(out: Path, info: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    report = out / "report.md"
    findings = f"{FINDINGS_START}\n(to be written after the run)\n{FINDINGS_END}"
    if report.exists():
        old = report.read_text(encoding="utf-8")
        if FINDINGS_START in old and FINDINGS_END in old:
            findings = old[old.index(FINDINGS_START) : old.index(FINDINGS_END) + len(FINDINGS_END)]
    m = info["machine"]
    overview = [
        [
            f"`{kind}`",
            s["title"],
            f"{s['turns']} ({s.get('distinct_messages')})",
            f"{s['wall_ms_p50']:.0f} / {s['wall_ms_p95']:.0f}"
            + (
                f" (p50 by step: {' / '.join(f'{v:.0f}' for v in s['wall_ms_p50_by_step'])})"
                if len(s["wall_ms_p50_by_step"]) > 1
                else ""
            ),
            f"{s['processes']['rasa']['sampled_cpu_ms_per_turn']:.0f} / {s['processes']['rasa']['proc_cpu_ms_per_turn']:.0f}",
            f"{s['processes']['actions']['sampled_cpu_ms_per_turn']:.0f} / {s['processes']['actions']['proc_cpu_ms_per_turn']:.0f}",
            ", ".join(f"{a} {n}" for a, n in s["answered"].items()),
            s["failures"],
        ]
        for kind, s in results.items()
    ]
    lines = [
        '# Where one turn\'s CPU time goes (issue 17, "Measure first")',
        "",
        f"Run {info['started']} – {info['finished']} UTC with "
        "[`profile_turns.py`](profile_turns.py) (its docstring says exactly what it does).",
        "",
        "## Machine and models",
        "",
        f"- {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, no GPU; Python {m['python']}.",
        f"- Load average (1 min) before the run {info['load_before'][0]:.2f} "
        f"(5 min {info['load_before'][1]:.2f}), after it {info['load_after'][0]:.2f} "
        f"(5 min {info['load_after'][1]:.2f}); it counts every job on this shared machine, the "
        "servers and the load included (each kind's is in `profile.json`).",
        f"- Models: the **{info['preset']}** preset (`models/rasa/shopbot-{info['preset']}.tar.gz`, "
        f"`models/{info['preset']}/`), as the end-to-end tests use it. Intent and sentiment: "
        f"two separate MiniLM encoders ({info['models']['encoder']}; the same base in every "
        "preset, the tiny one reads at most 32 tokens, the demo one 40). Generator: "
        f"{info['models']['generator']}. The demo preset's generator is larger (1.1M "
        "parameters), so turns that generate (product and policy questions) cost more there.",
        f"- py-spy {info['pyspy']}, {info['rate']} samples/s, blocking (each sample pauses the process: with "
        "`--nonblocking` py-spy counts uvloop's wait for I/O as running), idle threads excluded, attached to each server process (neither forked: no child processes). "
        "Every message is sent after the previous reply; one turn = one REST request.",
        "",
        "## Per kind: wall time and CPU per turn",
        "",
        "CPU ms per turn are *sampled / `/proc`*: sampled = Python-thread samples (idle waits left "
        "out) ÷ rate ÷ turns, which is busy wall time: a thread that waits for a core counts; "
        "`/proc` = the process's user+system CPU time over the same window ÷ turns (all threads, "
        "native thread pools included). Each turn is one REST request; p50/p95 are its wall time.",
        "",
        markdown_table(
            [
                "kind",
                "turn",
                "turns (distinct messages)",
                "wall p50 / p95 ms",
                "Rasa CPU ms",
                "action server CPU ms",
                "answered by",
                "failed",
            ],
            overview,
        ),
        "",
        "## Rasa server: CPU ms per turn by bucket (share of the process's samples)",
        "",
        _bucket_matrix(results, "rasa", "buckets", RASA_BUCKETS),
        "",
        "The same Rasa samples by the step of `MessageProcessor.handle_message` they were in:",
        "",
        _bucket_matrix(results, "rasa", "steps", RASA_STEPS),
        "",
        "## Action server: CPU ms per turn by bucket (share of the process's samples)",
        "",
        _bucket_matrix(results, "actions", "buckets", ACTIONS_BUCKETS),
        "",
        "Buckets come from the collapsed stacks: the first rule (in the table's order) that "
        "matches any frame of a stack takes the whole sample, so an encoder's tokenizer and "
        'forward pass are in its bucket, "tracker store" holds the SQL and the event '
        "(de)serialisation (the event broker, which runs inside the tracker store's save, is "
        "taken out before it), and the jsonschema check Rasa runs on every action server "
        "response is its own bucket. The rules are `RASA_BUCKETS`, `RASA_STEPS` and "
        "`ACTIONS_BUCKETS` in the script; `IDLE_LEAF` names the waits left out.",
        "",
        "Rasa's check of one action server response (`RemoteAction._validate_action_result`), "
        "measured in the script's own process, CPU time per call: "
        f"{info['jsonschema_check']['validate_ms']:.1f} ms as Rasa 3.6 makes it "
        "(`jsonschema.validate(response, schema)` first checks the schema itself against the "
        f"metaschema: {info['jsonschema_check']['check_schema_ms']:.1f} ms alone), "
        f"{info['jsonschema_check']['cached_validator_ms']:.2f} ms with a validator built once.",
        "",
        "## Flame graphs",
        "",
        "One per kind and process (hover a frame for its samples): "
        + ", ".join(f"`{k}`: [Rasa]({k}-rasa.svg), [actions]({k}-actions.svg)" for k in results)
        + ".",
        "",
        "## Findings",
        "",
        findings,
        "",
    ]
    report.write_text("\n".join(lines), encoding="utf-8")


# ---- Main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=60, help="messages per kind (turns)")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the report and SVGs")
    parser.add_argument("--only", nargs="*", default=None, help="kinds to run (default all)")
    parser.add_argument(
        "--stacks", type=Path, default=None, help="also keep the collapsed stacks here"
    )
    parser.add_argument(
        "--preset", choices=("tiny", "demo"), default="tiny", help="whose models (default tiny)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.per_kind <= 200:
        parser.error(f"--per-kind must be 1..200. Currently, --per-kind is {args.per_kind}.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sys.path.insert(0, str(ROOT))  # tests/ is not an installed package
    from tests.e2e.harness import ShopBotServers

    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_before = os.getloadavg()
    pyspy = subprocess.run(
        [str(Path(sys.executable).with_name("py-spy")), "--version"], capture_output=True, text=True
    ).stdout.split()[-1]
    ctx = BenchContext(out_dir=args.out, project_root=ROOT, shared_data=None, preset=args.preset)
    results: dict[str, dict[str, Any]] = {}
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="profile-turns-") as tmp:
        work = Path(tmp)
        servers = ShopBotServers(bench_settings(ctx, work))
        try:
            t0 = time.monotonic()
            servers.start()
            logger.info("Servers up in %.0f s", time.monotonic() - t0)
            for service in (servers.rasa, servers.actions):
                pid = service.process.pid  # type: ignore[union-attr]
                if children(pid):
                    raise SystemExit(
                        f"{service.name} (pid {pid}) has child processes: use --subprocesses."
                    )
            kinds, distinct = build_kinds(servers, args.per_kind)
            for kind in kinds:
                if args.only and kind.name not in args.only:
                    continue
                logger.info("Profiling %s: %d turns", kind.name, kind.messages)
                run = run_kind(servers, kind, work, args.rate)
                results[kind.name] = summarise(run, args.rate)
                results[kind.name]["distinct_messages"] = distinct.get(kind.name)
                for process, stacks in run.stacks.items():
                    if args.stacks:
                        args.stacks.mkdir(parents=True, exist_ok=True)
                        lines = [f"{stack} {n}" for stack, n in stacks.most_common()]
                        (args.stacks / f"{kind.name}-{process}.txt").write_text(
                            "\n".join(lines) + "\n"
                        )
                    title = (
                        f"{kind.title}: {process} process, {len(run.wall_ms)} turns, "
                        f"py-spy at {args.rate}/s, idle waits left out"
                    )
                    rules = RASA_BUCKETS if process == "rasa" else ACTIONS_BUCKETS
                    svg = flame_svg(stacks, rules, title)
                    (args.out / f"{kind.name}-{process}.svg").write_text(svg)
                logger.info(
                    "%s: p50 %.0f ms; Rasa %.0f ms/turn, actions %.0f ms/turn (sampled)",
                    kind.name,
                    results[kind.name]["wall_ms_p50"],
                    results[kind.name]["processes"]["rasa"]["sampled_cpu_ms_per_turn"],
                    results[kind.name]["processes"]["actions"]["sampled_cpu_ms_per_turn"],
                )
        finally:
            servers.stop()
    info = {
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": machine(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "preset": args.preset,
        "rate": args.rate,
        "per_kind": args.per_kind,
        "pyspy": pyspy,
        "jsonschema_check": jsonschema_check_ms(),
        "models": models(args.preset),
    }
    (args.out / "profile.json").write_text(json.dumps({**info, "kinds": results}, indent=2) + "\n")
    write_report(args.out, info, results)


if __name__ == "__main__":
    main()
