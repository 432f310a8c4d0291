"""Where the 200-shopper tail waits: one Throughput level with the exchange log, the Rasa server's
listen queue sampled with ``ss`` and (with ``--strace``) its ``accept4`` calls traced.

    python docs/benchmarks/2026-12-06/throughput-asyncio/burst_probe.py [SHOPPERS] [SECONDS] [--strace]

Starts the demo servers as the Throughput section does (``bot.runner``), plays one level of
Locust shoppers, and prints: every second, the listen queue's length (``Recv-Q`` of the LISTEN
socket) and the established connections; then the requests slower than 20 s (when each started,
and whether it was its shopper's first); then the server's own longest turns
(``shopbot_reply_seconds``). With ``--strace`` it writes ``strace.txt`` (``accept4`` and the event
loop's waits, 15 s) beside this file's output folder ``/tmp/burst_probe``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.request import urlopen

from training.bench import throughput as T
from training.bench.report import BenchContext
from training.bench.servers import bench_settings, running_servers

OUT = Path("/tmp/burst_probe")


def _sockets(flags: str, port: int, column: int) -> list[list[str]]:
    """``ss -H <flags>`` rows whose address in ``column`` ends with ``:port``."""
    rows = subprocess.run(["ss", "-H", flags], capture_output=True, text=True).stdout.splitlines()
    return [row.split() for row in rows if row.split()[column].endswith(f":{port}")]


def sample_listen_queue(port: int, seconds: float) -> None:
    started = time.time()
    while time.time() - started < seconds:
        listen = _sockets("-ltn", port, 3)  # State Recv-Q Send-Q Local Peer
        connected = _sockets("-tn", port, 4)  # established: State Recv-Q Send-Q Local Peer
        queue = listen[0][1] if listen else "?"
        print(f"{time.time() - started:5.1f} s  listen queue {queue}  connected {len(connected)}")
        time.sleep(1)


def main() -> None:
    shoppers = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
    OUT.mkdir(exist_ok=True)
    ctx = BenchContext(out_dir=OUT, project_root=Path.cwd(), shared_data=None, preset="demo")
    exchanges = OUT / "exchanges.jsonl"
    exchanges.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = bench_settings(ctx, work)
        with running_servers(settings) as base_url:
            kinds, _ = T.checked_kinds(ctx, base_url, settings.api_token, work)
            plan = T.plan_file(kinds, settings.rest_secret, work / "plan.json")
            plan.write_text(
                json.dumps({**json.loads(plan.read_text()), "exchange_log": str(exchanges)})
            )
            T.warm_up(base_url, settings.rest_secret, [k for k in kinds if k.name in T.WEIGHTS])
            threading.Thread(
                target=sample_listen_queue, args=(settings.rasa_port, seconds + 10), daemon=True
            ).start()
            if "--strace" in sys.argv:
                pid = subprocess.run(
                    ["pgrep", "-f", "--", f"bot.rasa_server run .*--port {settings.rasa_port}"],
                    capture_output=True,
                    text=True,
                ).stdout.split()[0]
                subprocess.Popen(
                    ["timeout", "15", "strace", "-f", "-tt", "-e",
                     "trace=accept4,epoll_wait,epoll_pwait", "-o", str(OUT / "strace.txt"), "-p", pid]
                )  # fmt: skip
            stats = T.run_level(ctx.project_root, base_url, plan, shoppers, seconds, work)[
                "Aggregated"
            ]
            print(f"{shoppers} shoppers: {stats.per_s:.1f} msg/s, p50 {stats.p50:.0f} / p95 "
                  f"{stats.p95:.0f} / p99 {stats.p99:.0f} ms, {stats.failures} failed")  # fmt: skip
            metrics = urlopen(f"{base_url}/webhooks/ops/metrics", timeout=30).read().decode()
    rows = [json.loads(line) for line in exchanges.open(encoding="utf-8")]
    start = min(r["t0"] for r in rows)
    slow = sorted((r for r in rows if r["t1"] - r["t0"] > 20), key=lambda r: r["t0"])
    print(f"{len(slow)} of {len(rows)} requests took over 20 s; "
          f"{sum(r['n'] == 0 for r in slow)} of them were their shopper's first message")  # fmt: skip
    for r in slow[:10]:
        print(f"  sent at {r['t0'] - start:5.1f} s, answered after {r['t1'] - r['t0']:5.1f} s")
    over = [line for line in metrics.splitlines() if 'le="15.0"' in line or "_count{" in line]
    print("Server-side turns (count, and within 15 s):", *over[:8], sep="\n  ")


if __name__ == "__main__":
    main()
