"""Teaching from the console (admins): export accepted corrections, retrain behind the gate.

Both run the same commands a store owner runs from a shell (``shopbot corrections export``,
``shopbot retrain``) as child processes: the console never imports the training code, and a
retrain that takes minutes does not hold a request open. A retrain is one row in
``retrain_runs`` (shared by every replica; one at a time), finished by the command itself with
the gate's report, which the page polls. Every export and retrain is in the audit log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from bot.console.access import console_of
from bot.console.context import Console
from bot.console.handoff_views import error
from bot.console.views import current_session
from bot.storage.audit import AuditLog
from bot.storage.retrain_runs import RetrainRuns

logger = logging.getLogger(__name__)

EXPORT_FILES = {
    "nlu_corrections.yml": "application/yaml; charset=utf-8",
    "faq_additions.csv": "text/csv; charset=utf-8",
}
EXPORT_TIMEOUT_S = 300
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d[ ,.]")  # a log line, not the summary
# Child processes still running, so they are reaped (and not garbage-collected mid-run).
_CHILDREN: set[asyncio.Task[None]] = set()


def corrections_dir(console: Console) -> Path:
    """Where ``shopbot corrections export`` writes (``SHOPBOT_CORRECTIONS_DIR``)."""
    return console.settings.corrections_path


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


async def export_corrections(request: Request) -> Response:
    """Run ``shopbot corrections export`` and return its summary and the files' links."""
    console = console_of(request)
    agent = current_session(request).agent
    process = await asyncio.create_subprocess_exec(
        *_command("corrections", "export", "--out", str(corrections_dir(console))),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **console.settings.to_env()},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), EXPORT_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        return error(504, "The export took too long; run `shopbot corrections export` instead.")
    text = output.decode("utf-8", "replace")
    if process.returncode != 0:
        logger.error("shopbot corrections export failed (%s): %s", process.returncode, text[-2000:])
        return error(500, "The export failed; the console's log has the reason.")
    summary = [line for line in text.splitlines() if line.strip() and not LOG_LINE.match(line)]
    await run_in_threadpool(
        AuditLog(console.engine).record,
        "corrections_export",
        agent.id,
        None,
        str(corrections_dir(console)),
        {"summary": summary[:1]},
    )
    return JSONResponse(
        {
            "summary": "\n".join(summary[-50:]),
            "files": [f"/api/corrections/export/{name}" for name in EXPORT_FILES],
        }
    )


async def exported_file(request: Request) -> Response:
    """One exported file (``nlu_corrections.yml`` or ``faq_additions.csv``) as a download."""
    name = str(request.path_params.get("name", ""))
    if name not in EXPORT_FILES:
        return error(404, f"There is no export named {name[:40]!r}.")
    path = corrections_dir(console_of(request)) / name
    if not path.exists():
        return error(404, "Nothing exported yet: export the corrections first.")
    return FileResponse(path, media_type=EXPORT_FILES[name], filename=name)


async def _reap(
    process: asyncio.subprocess.Process, runs: RetrainRuns, run_id: int, log: Path
) -> None:
    """Wait for a retrain; if it died without recording a result, record the failure."""
    code = await process.wait()
    logger.info("shopbot retrain (run %d) exited with %s", run_id, code)
    current = next((r for r in await run_in_threadpool(runs.recent, 20) if r.id == run_id), None)
    if current is not None and current.status == "running":
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:] if log.exists() else ""
        await run_in_threadpool(
            runs.finish, run_id, "failed", None, f"The retrain stopped (exit {code}).\n{tail}"
        )


async def start_retrain(request: Request) -> Response:
    """Start ``shopbot retrain`` for the served preset (one at a time, on any replica)."""
    console = console_of(request)
    agent = current_session(request).agent
    runs = RetrainRuns(console.engine, console.clock)
    running = await run_in_threadpool(runs.running)
    if running is not None:
        return error(409, "A retrain is already running.", run=running.as_json())
    preset = console.settings.preset
    run_id = await run_in_threadpool(runs.start, preset, agent.id)
    log_dir = console.settings.retrain_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"run-{run_id}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *_command("retrain", "--preset", preset, "--run-id", str(run_id), "--reload"),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            env={**os.environ, **console.settings.to_env()},
            start_new_session=True,  # a console restart does not kill a retrain half-way
        )
    task = asyncio.create_task(_reap(process, runs, run_id, log), name=f"retrain-{run_id}")
    _CHILDREN.add(task)
    task.add_done_callback(_CHILDREN.discard)
    await run_in_threadpool(
        AuditLog(console.engine).record, "retrain_started", agent.id, None, preset, {"run": run_id}
    )
    logger.info("Agent %s started retrain run %d (preset %s)", agent.id, run_id, preset)
    started = next(r for r in await run_in_threadpool(runs.recent, 5) if r.id == run_id)
    return JSONResponse({"run": started.as_json()}, status_code=202)


async def api_retrain(request: Request) -> Response:
    """The newest retrain runs with their reports."""
    console = console_of(request)
    runs = RetrainRuns(console.engine, console.clock)
    await run_in_threadpool(runs.running)  # marks a run whose process vanished as failed
    return JSONResponse({"runs": [r.as_json() for r in await run_in_threadpool(runs.recent, 10)]})
