"""What one Rasa 3.6 turn costs at the least, beside ShopBot's: CPU per message of the Rasa process.

    python docs/benchmarks/2026-12-06/rasa-floor/rasa_floor.py [SECONDS] [CLIENTS]

Two Rasa servers, one after the other, each driven by the same closed-loop client (``CLIENTS``
concurrent senders posting greetings through the REST channel with no think time, a new sender
every 8 messages so trackers stay short) for ``SECONDS`` after a warm-up:

- **floor**: the smallest useful Rasa assistant — ``WhitespaceTokenizer`` +
  ``KeywordIntentClassifier``, ``RulePolicy`` only, one rule (greet → ``utter_greet``), the
  in-memory tracker store, no action server, no event broker. Whatever it costs is Rasa's own
  price of a turn (Sanic, the REST channel, the lock store, the processor, the policy ensemble,
  the tracker's events), which no ShopBot change can take away.
- **shopbot**: the demo build as ``make demo`` runs it (``bot.runner``: ONNX intent and sentiment,
  CRF entities, the rule, memoization and TED policies, the SQLite tracker store, the handoff
  broker), the same greetings.

Both run through ``python -m bot.rasa_server`` (asyncio's loop). For each: messages per second,
p50/p95 latency, and the Rasa process's CPU (``/proc/<pid>/stat``) per message; also the client's
CPU, which shares the machine's cores. Prints a markdown table and writes ``numbers.json`` to
``/tmp/rasa_floor``. ``SKIP_FLOOR=1`` measures ShopBot's server only; ``PYSPY=1`` also records a
py-spy profile of the measured window (raw stacks, ``/tmp/rasa_floor/<server>.txt``).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.runner import Service
from training.bench.report import BenchContext
from training.bench.servers import bench_settings, running_servers

OUT = Path("/tmp/rasa_floor")
WARMUP_S = 5.0
PER_SENDER = 8
TICK = os.sysconf("SC_CLK_TCK")

FLOOR_CONFIG = """\
recipe: default.v1
language: en
assistant_id: floor
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
policies:
  - name: RulePolicy
"""
FLOOR_DOMAIN = """\
version: "3.1"
intents: [greet]
responses:
  utter_greet:
    - text: "Hi! How can I help?"
session_config:
  session_expiration_time: 60
  carry_over_slots_to_new_session: true
"""
FLOOR_NLU = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hello
      - hi
      - hey
"""
FLOOR_RULES = """\
version: "3.1"
rules:
  - rule: greet
    steps:
      - intent: greet
      - action: utter_greet
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def listening_pid(port: int) -> int:
    """The process listening on ``port`` (``ss -ltnpH``)."""
    rows = subprocess.run(
        ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return int(rows.split("pid=", 1)[1].split(",", 1)[0])


async def drive(url: str, headers: dict[str, str], clients: int, seconds: float) -> list[float]:
    """Closed loop: ``clients`` senders post greetings back to back; latencies measured after the
    warm-up, for ``seconds``."""
    latencies: list[float] = []
    start = time.perf_counter()
    measure_from, stop_at = start + WARMUP_S, start + WARMUP_S + seconds

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        sent = 0
        while time.perf_counter() < stop_at:
            sender = f"floor-{n}-{sent // PER_SENDER}"
            began = time.perf_counter()
            async with session.post(url, json={"sender": sender, "message": "hello"}) as reply:
                body = await reply.json()
                if reply.status != 200 or not body:
                    raise SystemExit(f"HTTP {reply.status}: {body}")
            sent += 1
            if began >= measure_from and time.perf_counter() <= stop_at:
                latencies.append(time.perf_counter() - began)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        await asyncio.gather(*(client(n, session) for n in range(clients)))
    return latencies


def measure(
    name: str, pid: int, url: str, headers: dict[str, str], clients: int, seconds: float
) -> dict:
    """Warm up, then ``seconds`` of load; the Rasa process's CPU over the measured window only."""

    async def run() -> tuple[list[float], float, float, float]:
        task = asyncio.ensure_future(drive(url, headers, clients, seconds))
        await asyncio.sleep(WARMUP_S)
        cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.perf_counter()
        spy = None
        if os.environ.get("PYSPY"):  # a py-spy profile of the measured window (raw stacks)
            spy = subprocess.Popen(
                ["py-spy", "record", "-p", str(pid), "-d", str(int(seconds) - 1), "-r", "200",
                 "-f", "raw", "-o", str(OUT / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        await asyncio.sleep(seconds)
        if spy is not None:
            spy.wait()
        cpu1, own1, t1 = cpu_seconds(pid), time.process_time(), time.perf_counter()
        return await task, cpu1 - cpu0, own1 - own0, t1 - t0

    latencies, rasa_cpu, client_cpu, wall = asyncio.run(run())
    n = len(latencies)
    row = {
        "server": name,
        "messages": n,
        "messages_per_s": n / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * statistics.quantiles(latencies, n=20)[-1],
        "rasa_cpu_ms_per_message": 1000 * rasa_cpu / n,
        "rasa_cores": rasa_cpu / wall,
        "client_cpu_ms_per_message": 1000 * client_cpu / n,
    }
    print(json.dumps(row), flush=True)
    return row


def floor_server(work: Path, port: int) -> Service:
    """Train the floor assistant in ``work`` and describe its server (started by the caller)."""
    project = work / "floor"
    (project / "data").mkdir(parents=True)
    (project / "config.yml").write_text(FLOOR_CONFIG)
    (project / "domain.yml").write_text(FLOOR_DOMAIN)
    (project / "data" / "nlu.yml").write_text(FLOOR_NLU)
    (project / "data" / "rules.yml").write_text(FLOOR_RULES)
    (project / "credentials.yml").write_text("rest:\n")
    (project / "endpoints.yml").write_text("")
    env = {"RASA_TELEMETRY_ENABLED": "false", "SANIC_BACKLOG": "1024"}
    subprocess.run(
        [sys.executable, "-m", "rasa", "train", "--fixed-model-name", "floor", "--quiet"],
        cwd=project, env={**os.environ, **env}, check=True, capture_output=True,
    )  # fmt: skip
    return Service(
        name="floor Rasa server",
        command=[
            sys.executable, "-m", "bot.rasa_server", "run",
            "--model", "models/floor.tar.gz",
            "--credentials", "credentials.yml", "--endpoints", "endpoints.yml",
            "--interface", "127.0.0.1", "--port", str(port),
        ],
        ready_url=f"http://127.0.0.1:{port}/",
        log_file=work / "floor.log",
        env=env,
        cwd=project,
    )  # fmt: skip


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    OUT.mkdir(exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ctx = BenchContext(out_dir=OUT, project_root=Path.cwd(), shared_data=None, preset="demo")
        settings = bench_settings(ctx, work)

        if not os.environ.get("SKIP_FLOOR"):
            floor = floor_server(work, settings.demo_port)
            floor.start()
            try:
                floor.wait_ready(timeout=300)
                assert floor.process is not None
                url = f"http://127.0.0.1:{settings.demo_port}/webhooks/rest/webhook"
                rows.append(measure("floor", floor.process.pid, url, {}, clients, seconds))
            finally:
                floor.stop()

        with running_servers(settings) as base_url:
            url = f"{base_url}/webhooks/rest/webhook"
            headers = {"Authorization": f"Bearer {settings.rest_secret}"}
            pid = listening_pid(settings.rasa_port)
            rows.append(measure("shopbot", pid, url, headers, clients, seconds))

    (OUT / "numbers.json").write_text(json.dumps(rows, indent=2))
    print(
        "\n| server | messages/s | p50 ms | p95 ms | Rasa CPU ms/message | Rasa cores | client CPU ms/message |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['server']} | {r['messages_per_s']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['rasa_cpu_ms_per_message']:.1f} | {r['rasa_cores']:.2f} | "
            f"{r['client_cpu_ms_per_message']:.1f} |"
        )


if __name__ == "__main__":
    main()
