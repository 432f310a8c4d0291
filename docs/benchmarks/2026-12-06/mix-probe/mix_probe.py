"""Where the Throughput mix's CPU goes, per process, at one level: a short probe for issue 17.

    python docs/benchmarks/2026-12-06/mix-probe/mix_probe.py SHOPPERS SECONDS [KEY=VALUE ...]

Serves the demo build with the Throughput section's servers (``Settings`` overrides as
``KEY=VALUE``, e.g. ``nlu_batch=1``), checks the section's conversations against the served
model, then drives ``SHOPPERS`` of its Locust shoppers for ``SECONDS`` and reports messages/s,
p50/p95, and the CPU per message of the Rasa server, the action server and everything else (the
load generator, the machine's other work) over the same window (``/proc``). With the NLU worker
process the load starts once the worker has parsed a message (it loads beside the server). ``PYSPY=1`` also
records raw py-spy stacks of the Rasa server, its child processes (the NLU worker) and the action
server to ``/tmp/mix_probe/{rasa,actions}*.txt``. ``PROBE_START_AT=<epoch seconds>`` holds the
load until then: two probes (two versions of the code) started with the same time run side by
side, on the same cores at the same moment, so the machine's drift cancels out of their CPU per
message. ``PROBE_KEEP_DB=1`` keeps the run's tracker store as ``tracker.db`` there.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "rasa-floor"))

from rasa_floor import cpu_seconds, listening_pid

from training.bench.report import BenchContext
from training.bench.servers import bench_settings, running_servers
from training.bench.throughput import (
    WEIGHTS,
    checked_kinds,
    plan_file,
    run_level,
    warm_up,
)

OUT = Path(os.environ.get("PROBE_OUT", "/tmp/mix_probe"))


def machine_cpu_seconds() -> float:
    """All CPU seconds the machine has spent (user + nice + system + irq + softirq)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = [int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4)]  # not idle, iowait
    return sum(busy) / os.sysconf("SC_CLK_TCK")


def every_process() -> dict[int, tuple[str, float]]:
    """Each process's command line (short) and CPU seconds so far."""
    out: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        pid = int(stat.parent.name)
        try:
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:90]
            out[pid] = (command, cpu_seconds(pid))
        except (OSError, ValueError, IndexError):
            continue
    return out


def spy(pid: str, name: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy recording raw stacks of ``pid`` to ``OUT/<name>.txt`` for the window."""
    command = ["py-spy", "record", "-p", pid, "-d", str(int(seconds) - 2), "-r", "200"]
    command += ["-f", "raw", "-o", str(OUT / f"{name}.txt")]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def worker_parsed(base_url: str) -> float:
    """Messages the Rasa server's NLU worker process has parsed (its metric)."""
    with urllib.request.urlopen(f"{base_url}/webhooks/ops/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("shopbot_nlu_worker_messages_total")
    )


def typed(value: str) -> object:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return None if value == "None" else value


def main() -> None:
    shoppers, seconds = int(sys.argv[1]), float(sys.argv[2])
    overrides = {k: typed(v) for k, v in (a.split("=", 1) for a in sys.argv[3:])}
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ctx = BenchContext(out_dir=OUT, project_root=Path.cwd(), shared_data=None, preset="demo")
        settings = dataclasses.replace(bench_settings(ctx, work), **overrides)
        with running_servers(settings) as base_url:
            kinds, _ = checked_kinds(ctx, base_url, settings.api_token, work)
            plan = plan_file(kinds, settings.rest_secret, work / "plan.json")
            warm_up(base_url, settings.rest_secret, [k for k in kinds if k.name in WEIGHTS])
            deadline = time.monotonic() + 180  # the worker loads beside the server: wait for it
            while settings.nlu_worker == "process" and time.monotonic() < deadline:
                if worker_parsed(base_url) > 0:
                    break
                warm_up(base_url, settings.rest_secret, kinds[:1])
                time.sleep(1.0)
            start_at = float(os.environ.get("PROBE_START_AT", "0"))  # side by side with another
            time.sleep(max(0.0, start_at - time.time()))
            rasa, actions = listening_pid(settings.rasa_port), listening_pid(settings.actions_port)
            marks: dict[str, float] = {}
            before: dict[int, tuple[str, float]] = {}
            after: dict[int, tuple[str, float]] = {}

            def sample() -> None:  # the window: after the 5 s spawn, for SECONDS
                time.sleep(5.0)
                marks.update(r0=cpu_seconds(rasa), a0=cpu_seconds(actions))
                marks.update(m0=machine_cpu_seconds(), t0=time.perf_counter(), w0=time.time())
                before.update(every_process())
                if os.environ.get("PYSPY"):
                    children = subprocess.run(
                        ["pgrep", "-P", str(rasa)], capture_output=True, text=True
                    ).stdout.split()
                    targets = [(str(rasa), "rasa"), (str(actions), "actions")]
                    targets += [(c, f"rasa-child-{c}") for c in children]
                    spies = [spy(pid, name, seconds) for pid, name in targets]
                    for recording in spies:
                        recording.wait()
                    time.sleep(1.5)
                else:
                    time.sleep(seconds - 0.5)
                marks.update(r1=cpu_seconds(rasa), a1=cpu_seconds(actions))
                marks.update(m1=machine_cpu_seconds(), t1=time.perf_counter(), w1=time.time())
                after.update(every_process())

            sampler = threading.Thread(target=sample)
            sampler.start()
            stats = run_level(ctx.project_root, base_url, plan, shoppers, seconds, work)
            sampler.join()
        if os.environ.get("PROBE_KEEP_DB"):  # the run's tracker store, to study its events
            shutil.copy(work / "tracker.db", OUT / "tracker.db")
    total = stats["Aggregated"]
    wall = marks["t1"] - marks["t0"]
    n = total.per_s * wall
    rasa_cpu, action_cpu = marks["r1"] - marks["r0"], marks["a1"] - marks["a0"]
    other = marks["m1"] - marks["m0"] - rasa_cpu - action_cpu
    row = {
        "shoppers": shoppers,
        "overrides": overrides,
        "messages_per_s": round(total.per_s, 1),
        "p50_ms": total.p50,
        "p95_ms": total.p95,
        "failures": total.failures,
        "window_epoch": [round(marks["w0"]), round(marks["w1"])],
        "rasa_cores": round(rasa_cpu / wall, 2),
        "rasa_ms_per_message": round(1000 * rasa_cpu / n, 1),
        "actions_ms_per_message": round(1000 * action_cpu / n, 1),
        "other_ms_per_message": round(1000 * other / n, 1),
        "per_kind": {k: [s.requests, s.p50, s.p95] for k, s in stats.items()},
        "processes_ms_per_message": {
            f"{pid} {command}": round(1000 * (cpu - before.get(pid, (command, 0.0))[1]) / n, 1)
            for pid, (command, cpu) in sorted(after.items(), key=lambda kv: -kv[1][1])
            if cpu - before.get(pid, (command, 0.0))[1] > 0.02 * wall
        },
    }
    print(json.dumps(row, indent=1), flush=True)
    with (OUT / "numbers.jsonl").open("a") as out:
        out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
