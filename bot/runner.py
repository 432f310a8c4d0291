"""Start the action server and the Rasa server on loopback, and keep them running.

Used by ``shopbot run`` (the demo) and by the end-to-end tests, which start, stop and restart the
same processes on free ports.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from bot.console.urls import console_url
from bot.runtime_config import render_runtime_config
from bot.storage.migrate import upgrade_to_head
from core.settings import PRESETS, Settings

logger = logging.getLogger(__name__)

LISTEN_BACKLOG = 1024  # pending connections the Rasa server's socket holds (Sanic's default: 100)
SECRET_FLAGS = ("--auth-token=",)  # command-line values never written to a log


def shown_command(command: list[str]) -> str:
    """``command`` as the log shows it: secret values replaced by ``***``."""
    return " ".join(
        next((flag + "***" for flag in SECRET_FLAGS if arg.startswith(flag)), arg)
        for arg in command
    )


class ServiceError(RuntimeError):
    """A server did not come up, or exited."""


@dataclass
class Service:
    """One server process with a readiness URL and a log file."""

    name: str
    command: list[str]
    ready_url: str
    log_file: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the process, appending its output to ``log_file``."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        logger.info("Starting %s: %s", self.name, shown_command(self.command))
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        # The servers run in their own process group: stop them even if our caller forgets to.
        atexit.register(self.stop)

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Poll ``ready_url`` until it answers 200, the process dies, or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_file}:\n{tail(self.log_file)}"
                )
            try:
                with urlopen(self.ready_url, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (URLError, OSError):
                pass
            time.sleep(0.5)
        raise ServiceError(
            f"{self.name} did not answer {self.ready_url} within {timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Terminate the process group (SIGTERM, then SIGKILL after ``timeout``)."""
        if self.process is None or self.process.poll() is not None:
            return
        logger.info("Stopping %s (pid %d)", self.name, self.process.pid)
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None


def tail(path: Path, lines: int = 30) -> str:
    """Return the last ``lines`` lines of a log file (for error messages)."""
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def prepare_app_db(settings: Settings) -> str:
    """Upgrade the application database (the widget's event log) to the newest migration."""
    return upgrade_to_head(settings.resolve_db_url(settings.app_db_url))


def cors_origins(settings: Settings) -> list[str]:
    """Origins allowed to call the Rasa server from a browser: the configured ones and the demo
    store page's (when ``shopbot run`` serves one)."""
    origins = settings.cors_origins.split()
    demo_port = settings.demo_port
    if demo_port:
        for host in dict.fromkeys((settings.host, "127.0.0.1", "localhost")):
            origin = f"http://{host}:{demo_port}"
            if origin not in origins:
                origins.append(origin)
    return origins


def action_server(settings: Settings) -> Service:
    """The Rasa SDK action server, bound to ``settings.host``."""
    settings.ensure_stream_secret()  # it pushes streamed tokens to the widget channel
    return Service(
        name="action server",
        command=[
            sys.executable,
            "-m",
            "actions.serve",  # rasa_sdk's server with a guard on the webhook's body
            "--actions",
            "actions",
            "--port",
            str(settings.actions_port),
        ],
        ready_url=f"http://{settings.host}:{settings.actions_port}/health",
        log_file=settings.path(settings.run_dir) / "logs" / "actions.log",
        env={
            **settings.to_env(),
            "SANIC_HOST": settings.host,
            "SHOPBOT_WARM_KNOWLEDGE": "1",  # load the answer pipeline at start-up, not on first use
            "HF_HUB_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
        },
        cwd=settings.root,
    )


def rasa_server(settings: Settings) -> Service:
    """The Rasa server with the REST channel and the token-protected HTTP API."""
    endpoints, credentials = render_runtime_config(settings, settings.path(settings.run_dir))
    token = settings.ensure_api_token()
    command = [
        sys.executable, "-m", "bot.rasa_server", "run",  # Rasa's CLI on asyncio's loop
        "--enable-api",
        f"--auth-token={token}",  # one argv item: a token may start with '-' (1 in 64 for token_urlsafe)
        "--model", str(settings.rasa_model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials),
        "--interface", settings.host,
        "--port", str(settings.rasa_port),
    ]  # fmt: skip
    origins = cors_origins(settings)
    if origins:
        command += ["--cors", *origins]
    return Service(
        name="Rasa server",
        command=command,
        ready_url=f"http://{settings.host}:{settings.rasa_port}/status?token={token}",
        log_file=settings.path(settings.run_dir) / "logs" / "rasa.log",
        env={
            **settings.to_env(),  # the NLU components and bot.rasa_server read their settings
            "HF_HUB_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            # Rasa listens with Sanic's backlog of 100 pending connections; a burst of new
            # shoppers overflowed it (the kernel then drops their handshakes and they retry).
            "SANIC_BACKLOG": os.environ.get("SANIC_BACKLOG", str(LISTEN_BACKLOG)),
        },
        cwd=settings.root,
    )


def _web_app(settings: Settings, name: str, module: str, port: int, log_name: str) -> Service:
    """``python -m <module>``: one of ShopBot's own web apps, ready when ``/health`` answers."""
    return Service(
        name=name,
        command=[sys.executable, "-m", module],
        ready_url=f"http://{settings.host}:{port}/health",
        log_file=settings.path(settings.run_dir) / "logs" / log_name,
        env=settings.to_env(),
        cwd=settings.root,
    )


def demo_store(settings: Settings) -> Service:
    """The demo store page with the web widget on it (``bot/demo_store``), on ``demo_port``."""
    return _web_app(settings, "demo store", "bot.demo_store", settings.demo_port, "demo_store.log")


def console(settings: Settings) -> Service:
    """The agent console (``bot/console``), on ``console_port``."""
    settings.ensure_console_secret()  # passed on in the environment, so it is the same everywhere
    return _web_app(settings, "agent console", "bot.console", settings.console_port, "console.log")


def telegram_line(settings: Settings) -> str:
    """Register the Telegram webhook when a public URL is configured; the line that says so."""
    if not settings.telegram_token:
        return ""
    if not settings.telegram_public_url:
        return "  Telegram:       no public URL; relay updates with `shopbot telegram --polling`\n"
    from bot.channels.telegram_cli import set_webhook  # python-telegram-bot only when used

    try:
        url = asyncio.run(set_webhook(settings))
    except Exception as exc:  # the rest of the assistant runs without Telegram
        logger.error("Setting the Telegram webhook failed: %s", exc)
        return f"  Telegram:       webhook NOT set ({exc}); see the log\n"
    return f"  Telegram:       webhook {url}\n"


def check_ready_to_run(settings: Settings) -> None:
    """Refuse to start without a trained model, naming the command that builds it."""
    if not settings.rasa_model.exists():
        raise ServiceError(
            f"No trained Rasa model at {settings.rasa_model}. "
            f"Run `shopbot train --preset {settings.preset}` (or `make demo`) first."
        )


def run(settings: Settings, replicas: int = 1) -> int:
    """Start the servers, print where they are, and wait until interrupted or one exits.

    With ``replicas`` > 1, that many Rasa and action servers run behind HAProxy on the usual
    ports, sharing PostgreSQL and Redis (``bot.replicas``); a replica that exits is restarted.
    """
    check_ready_to_run(settings)
    scale = None
    if replicas > 1:
        from bot.replicas import ScaleOut  # it builds on this module's services

        scale = ScaleOut(settings, replicas)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    services: list[Service] = []
    try:
        if scale is not None:
            settings = scale.start_stores()
            services = scale.build()
        else:
            services = [action_server(settings), rasa_server(settings)]
        services += [demo_store(settings), console(settings)]
        prepare_app_db(settings)
        for service in services:
            service.start()
        for service in services:
            service.wait_ready()
        if scale is not None:
            scale.wait_in_rotation()
        print(banner(settings, replicas), flush=True)
        while not stopping:
            if scale is not None:
                scale.supervise()
            for service in services:
                if not service.running:
                    logger.error(
                        "%s exited; see %s\n%s",
                        service.name,
                        service.log_file,
                        tail(service.log_file),
                    )
                    return 1
            time.sleep(1)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
        if scale is not None:
            scale.stop_stores()


def banner(settings: Settings, replicas: int = 1) -> str:
    """What ``shopbot run`` prints once everything answers: where each part is."""
    base = f"http://{settings.host}:{settings.rasa_port}"
    telegram = telegram_line(settings)
    auth = (
        f"-H 'Authorization: Bearer {settings.ensure_rest_secret()}' " if settings.rest_auth else ""
    )
    scale = (
        f"  Replicas:       {replicas} Rasa servers and {replicas} action servers behind HAProxy "
        f"(PostgreSQL and Redis shared; config {settings.path(settings.run_dir) / 'haproxy.cfg'})\n"
        if replicas > 1
        else ""
    )
    return (
        "\nShopBot is running.\n"
        f"  Demo store:     http://{settings.host}:{settings.demo_port}/  (the web widget on a store page)\n"
        f"  Chat (REST):    curl -s {base}/webhooks/rest/webhook {auth}"
        """-d '{"sender":"a","message":"where is my order"}'\n"""
        f'  Web widget:     <script src="{base}/webhooks/widget/widget.js" '
        f'data-server="{base}" defer></script>\n'
        f"  HTTP API:       {base}/status?token={settings.api_token}\n"
        f"  Operations:     {base}/webhooks/ops/ready  (metrics: {base}/webhooks/ops/metrics)\n"
        f"  Action server:  http://{settings.host}:{settings.actions_port}/health\n"
        f"{scale}"
        f"  Agent console:  {console_url(settings)}  (`shopbot agents add` makes accounts)\n"
        f"{telegram}"
        f"  Logs:           {settings.path(settings.run_dir) / 'logs'}\n"
        f"  Demo customers: {settings.var_dir / 'store' / 'demo_customers.md'}\n"
        "Press Ctrl+C to stop."
    )


def main(argv: list[str] | None = None) -> int:
    """``shopbot run``: start the assistant on loopback."""
    parser = argparse.ArgumentParser(prog="shopbot run", description=__doc__)
    parser.add_argument(
        "--preset", choices=PRESETS, help="model preset (default: SHOPBOT_PRESET or demo)"
    )
    parser.add_argument("--port", type=int, help="Rasa server port (default 5005)")
    parser.add_argument("--actions-port", type=int, help="action server port (default 5055)")
    parser.add_argument("--demo-port", type=int, help="demo store page port (default 8000)")
    parser.add_argument("--console-port", type=int, help="agent console port (default 5006)")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="Rasa and action servers behind HAProxy, sharing PostgreSQL and Redis (default 1)",
    )
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be 1 or more")
    overrides: dict[str, object] = {}
    if args.preset:
        overrides["preset"] = args.preset
    if args.port:
        overrides["rasa_port"] = args.port
    if args.actions_port:
        overrides["actions_port"] = args.actions_port
    if args.demo_port:
        overrides["demo_port"] = args.demo_port
    if args.console_port:
        overrides["console_port"] = args.console_port
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    logger.info("Resolved settings: %s", settings.describe())
    try:
        return run(settings, args.replicas)
    except (ServiceError, RuntimeError) as exc:
        logger.error("%s", exc)
        return 1
