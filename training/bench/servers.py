"""Private servers for the benchmark sections: free loopback ports, temporary databases, fresh
secrets, and the real processes ``shopbot run`` starts (``bot.runner``'s services).

Used by the "Widget" section (Rasa + action server) and the "Console" section (the agent console,
alone on a seeded database or beside Rasa + action server). Nothing is written into ``var/``.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from bot.local_servers import free_port
from core.settings import Settings
from training.bench.report import BenchContext, BenchSection

N_PORTS = 4  # rasa, actions, demo store, console


def bench_settings(
    ctx: BenchContext,
    tmp: Path,
    tracker_store_url: str | None = None,
    app_db_url: str | None = None,
) -> Settings:
    """Settings of a private set of servers: free ports, temporary databases, fresh secrets.

    Args:
        ctx: The benchmark context (project root and preset).
        tmp: A temporary folder for the SQLite files, the order database copy and the logs.
        tracker_store_url: The tracker store; default a new SQLite file in ``tmp``.
        app_db_url: The application database; default a new SQLite file in ``tmp``.
    """
    ports = [free_port() for _ in range(N_PORTS)]
    while len(set(ports)) < N_PORTS:
        ports = [free_port() for _ in range(N_PORTS)]
    store_db = ctx.project_root / "var" / "store" / "shop.db"
    overrides: dict[str, object] = {}
    if store_db.exists():  # a copy: the benchmark never writes into var/
        shutil.copy(store_db, tmp / "shop.db")
        overrides["store_db_url"] = f"sqlite:///{tmp / 'shop.db'}"
    return Settings(
        root=ctx.project_root,
        preset=ctx.preset,
        rasa_port=ports[0],
        actions_port=ports[1],
        demo_port=ports[2],
        console_port=ports[3],
        api_token=secrets.token_urlsafe(24),
        tracker_store_url=tracker_store_url or f"sqlite:///{tmp / 'tracker.db'}",
        app_db_url=app_db_url or f"sqlite:///{tmp / 'app.db'}",
        rest_secret=secrets.token_urlsafe(32),
        rest_auth=True,
        widget_secret=secrets.token_urlsafe(32),
        stream_secret=secrets.token_urlsafe(32),
        client_key_secret=secrets.token_urlsafe(32),
        console_secret=secrets.token_urlsafe(32),
        run_dir=str(tmp / "run"),
        **overrides,  # type: ignore[arg-type]
    )


@contextlib.contextmanager
def running_servers(settings: Settings) -> Iterator[str]:
    """Start the action server and the Rasa server; yield the Rasa server's base URL."""
    from bot.runner import action_server, prepare_app_db, rasa_server

    prepare_app_db(settings)
    services = [action_server(settings), rasa_server(settings)]
    try:
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(timeout=300)
        yield f"http://{settings.host}:{settings.rasa_port}"
    finally:
        for service in reversed(services):
            service.stop()


@contextlib.contextmanager
def running_replicas(settings: Settings, replicas: int) -> Iterator[tuple[str, Settings]]:
    """Start ``shopbot run --replicas`` (``bot.replicas``: HAProxy, PostgreSQL and Redis as a
    deployment on one machine gets them); yield the balancer's URL and the shared settings."""
    from bot.replicas import ScaleOut

    scale = ScaleOut(settings, replicas=replicas, keep_data=False)
    try:
        shared = scale.start()
        yield f"http://{shared.host}:{shared.rasa_port}", shared
    finally:
        scale.stop()


@contextlib.contextmanager
def running_console(settings: Settings) -> Iterator[str]:
    """Start the agent console (``python -m bot.console``); yield its base URL."""
    from bot.runner import console, prepare_app_db

    prepare_app_db(settings)
    service = console(settings)
    try:
        service.start()
        service.wait_ready(timeout=120)
        yield f"http://{settings.host}:{settings.console_port}"
    finally:
        service.stop()


def no_rasa_model(ctx: BenchContext, title: str) -> BenchSection | None:
    """The section that says why it was not measured when the preset's Rasa model is missing."""
    probe = Settings(root=ctx.project_root, preset=ctx.preset)
    if probe.rasa_model.exists():
        return None
    return BenchSection(
        title,
        f"Not measured: no Rasa model at `{probe.rasa_model}` "
        f"(run `shopbot train --preset {ctx.preset}`).",
    )
