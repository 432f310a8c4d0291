"""``shopbot run --replicas N``: N Rasa servers and N action servers behind HAProxy, sharing a
PostgreSQL tracker store and application database and a Redis lock store, all on loopback.

The public ports stay what one server uses (``rasa_port``, ``actions_port``): HAProxy listens
there (``bot.balancer``) and spreads the requests over the replicas, which listen on free
loopback ports. Every piece of state that must be seen by all replicas lives in PostgreSQL (the
conversations, the event log, handoffs, deduplication of messages and Telegram updates, the
order database's identity lockouts when the store runs on PostgreSQL) or in Redis (the lock that
keeps one conversation's turns in order, rate-limit counters, the widget's stream bus). A store
that configures its own PostgreSQL (``SHOPBOT_TRACKER_STORE_URL``/``SHOPBOT_APP_DB_URL``) and
Redis (``SHOPBOT_LOCK_STORE_URL``) gets those; otherwise a PostgreSQL cluster under
``<run_dir>/postgres`` (kept between runs) and an in-memory Redis are started here.

A replica that exits is started again (:meth:`ScaleOut.supervise`), while the others serve.
See docs/decisions/023-replicas.md.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.balancer import LB_METRICS, Backend, balancer_service
from bot.local_servers import PostgresServer, RedisServer, find_postgres_bin, free_port
from bot.runner import Service, ServiceError, action_server, prepare_app_db, rasa_server
from core.settings import Settings

logger = logging.getLogger(__name__)

RASA_HEALTH = "/webhooks/ops/health"
ACTIONS_HEALTH = "/health"
TRACKER_DB = "shopbot_tracker"
APP_DB = "shopbot_app"


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@dataclass
class ScaleOut:
    """The replicas, their load balancer and (unless the settings name their own) the stores.

    Args:
        settings: The public settings (ports of the load balancer, secrets, model).
        replicas: How many Rasa servers and action servers (2 or more).
        keep_data: Keep the data of a PostgreSQL started here (``shopbot run``); a benchmark's
            is thrown away.
    """

    settings: Settings
    replicas: int
    keep_data: bool = True  # keep the PostgreSQL started here (its data) between runs
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    rasa: list[Service] = field(default_factory=list)
    actions: list[Service] = field(default_factory=list)
    balancer: Service | None = None
    rasa_urls: list[str] = field(default_factory=list)  # each Rasa server's own address
    restarts: int = 0

    def __post_init__(self) -> None:
        if self.replicas < 2:
            raise ValueError(f"replicas must be 2 or more. Currently, replicas is {self.replicas}.")

    @property
    def run_dir(self) -> Path:
        return self.settings.path(self.settings.run_dir)

    def start_stores(self) -> Settings:
        """Start PostgreSQL and Redis where the settings name none; return the shared settings."""
        settings = self.settings
        changes: dict[str, str] = {}
        if not (_is_postgres(settings.tracker_store_url) and _is_postgres(settings.app_db_url)):
            bin_dir = find_postgres_bin()
            if bin_dir is None:
                raise ServiceError(
                    "Replicas share a PostgreSQL tracker store, and none is configured or "
                    "installed: set SHOPBOT_TRACKER_STORE_URL and SHOPBOT_APP_DB_URL, or install "
                    "Debian's postgresql (`make system-deps`)."
                )
            self.postgres = PostgresServer(
                bin_dir, free_port(), base_dir=self.run_dir / "postgres", keep=self.keep_data
            ).start()
            if not _is_postgres(settings.tracker_store_url):
                changes["tracker_store_url"] = self.postgres.create_database(TRACKER_DB, True)
            if not _is_postgres(settings.app_db_url):
                changes["app_db_url"] = self.postgres.create_database(APP_DB, True)
        if not settings.lock_store_url:
            self.redis = RedisServer(free_port(), base_dir=self.run_dir / "redis").start()
            changes["lock_store_url"] = self.redis.url
        self.settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
        return self.settings

    def _replica_settings(self, index: int, rasa_port: int, actions_port: int) -> Settings:
        """One replica's settings: its own ports and logs, the shared everything else."""
        proxies = ",".join(p for p in (self.settings.trusted_proxies, "127.0.0.1") if p)
        return dataclasses.replace(
            self.settings,
            rasa_port=rasa_port,
            actions_port=actions_port,
            run_dir=str(Path(self.settings.run_dir) / f"replica-{index}"),
            trusted_proxies=proxies,  # HAProxy forwards the client address
            # Tokens go through the balancer, which routes by conversation (bot.balancer).
            stream_push_url=self.settings.widget_push_url,
        )

    def build(self) -> list[Service]:
        """The replicas' and the balancer's services (not started), action servers first."""
        public = self.settings
        for secret in (
            public.ensure_api_token,
            public.ensure_stream_secret,
            public.ensure_widget_secret,
            public.ensure_rest_secret,
            public.ensure_client_key_secret,
            public.ensure_telegram_secret,
        ):
            secret()  # generated once, so that every replica gets the same
        rasa_ports, action_ports = [], []
        for index in range(self.replicas):
            rasa_port, actions_port = free_port(), free_port()
            while rasa_port == actions_port or rasa_port in (public.rasa_port, public.actions_port):
                rasa_port, actions_port = free_port(), free_port()
            # An action server: its own port, pushing through the balancer.
            self.actions.append(
                _named(
                    action_server(self._replica_settings(index, public.rasa_port, actions_port)),
                    index,
                )
            )
            # A Rasa server: its own port, calling the action servers through the balancer.
            self.rasa.append(
                _named(
                    rasa_server(self._replica_settings(index, rasa_port, public.actions_port)),
                    index,
                )
            )
            rasa_ports.append(rasa_port)
            action_ports.append(actions_port)
            self.rasa_urls.append(f"http://{public.host}:{rasa_port}")
        self.balancer = balancer_service(
            [
                Backend("rasa", public.rasa_port, tuple(rasa_ports), RASA_HEALTH),
                Backend("actions", public.actions_port, tuple(action_ports), ACTIONS_HEALTH),
            ],
            self.run_dir,
            public.host,
        )
        return [*self.actions, *self.rasa, self.balancer]

    def supervise(self) -> None:
        """Start again every replica, and the Redis started here, that exited (once a second)."""
        if self.redis is not None and not self.redis.running:
            logger.error("Redis exited; starting it again (locks and counters start empty)")
            self.restarts += 1
            self.redis.start()
        for service in (*self.actions, *self.rasa):
            if not service.running:
                logger.error(
                    "%s exited; starting it again (see %s)", service.name, service.log_file
                )
                self.restarts += 1
                service.start()
        if self.balancer is not None and not self.balancer.running:
            raise ServiceError(f"The load balancer exited; see {self.balancer.log_file}")

    @property
    def services(self) -> list[Service]:
        """Every process of :meth:`build`, action servers first, the balancer last."""
        return [*self.actions, *self.rasa, *([self.balancer] if self.balancer else [])]

    def start(self, timeout: float = 300.0) -> Settings:
        """Start the stores, the replicas and the balancer; wait until all answer."""
        settings = self.start_stores()
        prepare_app_db(settings)
        for service in self.build():
            service.start()
        wait_all_ready(self.services, timeout)
        self.wait_in_rotation()
        return settings

    def wait_in_rotation(self, timeout: float = 30.0) -> None:
        """Wait until the balancer counts every replica up (two passed checks after it is ready)."""
        from urllib.request import urlopen

        url = f"http://{self.settings.host}:{self.settings.rasa_port}{LB_METRICS}"
        wanted = [
            f'haproxy_backend_active_servers{{proxy="{name}"}} {self.replicas}'
            for name in ("rasa", "actions")
        ]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urlopen(url, timeout=5) as reply:
                    metrics = reply.read().decode()
                if all(line in metrics for line in wanted):
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise ServiceError(
            f"The balancer did not count {self.replicas} replicas up within {timeout:.0f} s"
        )

    def stop(self) -> None:
        """Stop every process started here (PostgreSQL's data stays when it is kept)."""
        for service in reversed(self.services):
            service.stop()
        self.stop_stores()

    def stop_stores(self) -> None:
        """Stop the PostgreSQL and Redis started here (PostgreSQL's data stays)."""
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _named(service: Service, index: int) -> Service:
    service.name = f"{service.name} {index + 1}"
    return service


def wait_all_ready(services: list[Service], timeout: float = 300.0) -> None:
    """Wait until every service answers its readiness URL."""
    deadline = time.monotonic() + timeout
    for service in services:
        service.wait_ready(timeout=max(10.0, deadline - time.monotonic()))
