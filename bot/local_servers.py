"""PostgreSQL and Redis servers on loopback, from the Debian packages: the scale-out setup of
``shopbot run --replicas`` (``bot.replicas``), the tests and the benchmarks.

``PostgresServer.start()`` runs ``initdb`` (into a fresh folder under ``/tmp``, or into ``base_dir``
when that holds no cluster yet), starts ``postgres`` with ``pg_ctl`` on a 127.0.0.1 port (unix
socket in the same folder, no other listener); ``create_database`` makes a database and returns
its SQLAlchemy URL; ``stop()`` shuts the server down and deletes a throwaway folder (a ``keep``
one stays, with its data). PostgreSQL refuses to run as root, so as root everything runs as the
``postgres`` system user (created by the Debian package) through ``runuser``.

:class:`RedisServer` runs ``redis-server`` on a 127.0.0.1 port, no persistence (it holds locks,
rate-limit counters and stream fan-out, all of which may be lost on a restart).

Nothing is installed here: ``make system-deps`` installs the packages (``SHOPBOT_APT_PACKAGES``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SUPERUSER = "shopbot"


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``pg_ctl``, or None."""
    candidates = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            version = bin_dir.parent.name
            candidates.append((int(version) if version.isdigit() else 0, bin_dir))
    return max(candidates)[1] if candidates else None


def missing_reason() -> str | None:
    """Why the PostgreSQL tests cannot run here (None when they can)."""
    if find_postgres_bin() is None:
        return (
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin; install the Debian "
            "package with `make system-deps` (SHOPBOT_APT_PACKAGES includes postgresql)."
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root but `runuser` is missing; PostgreSQL refuses to run as root."
    return None


@dataclass
class PostgresServer:
    """One throwaway PostgreSQL server (a test session's, or a benchmark section's)."""

    bin_dir: Path
    port: int
    base_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shopbot-pg-")))
    keep: bool = False  # keep base_dir (and its data) on stop()
    started: bool = False

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{log}"
            )
        return result

    def start(self) -> PostgresServer:
        """initdb, then start the server on 127.0.0.1:``port`` and wait until it accepts connections."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self._reachable_by_postgres()
            shutil.chown(self.base_dir, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                str(self.bin_dir / "initdb"),
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
            )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.base_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D", str(self.data_dir),
            "-o", options,
            "-l", str(self.log_file),
            "-w", "-t", "60",
            "start",
        )  # fmt: skip
        self.started = True
        logger.info("PostgreSQL running on 127.0.0.1:%d (%s)", self.port, self.base_dir)
        return self

    def _reachable_by_postgres(self) -> None:
        """As root, the ``postgres`` user must reach ``base_dir``; a folder below a private one
        (pytest's, a home folder) moves to one of its own under /tmp, named after it."""
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(self.base_dir.parent)],
            capture_output=True,
        )
        if probe.returncode == 0:
            return
        digest = hashlib.sha1(str(self.base_dir.resolve()).encode()).hexdigest()[:12]
        moved = Path(tempfile.gettempdir()) / f"shopbot-pg-{digest}"
        logger.warning(
            "The postgres user cannot reach %s; PostgreSQL keeps its data in %s",
            self.base_dir,
            moved,
        )
        moved.mkdir(exist_ok=True)
        self.base_dir = moved

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, exist_ok: bool = False) -> str:
        """Create database ``name`` (letters, digits, underscores) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be letters, digits and _; got {name!r}.")
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None or not exist_ok:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

    def pause(self) -> None:
        """Stop the server but keep its data (``start()`` starts it again on the same port)."""
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
        )

    def restart(self) -> None:
        """Restart the server (fast shutdown, same data and port): the fault the benchmark injects."""
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D", str(self.data_dir),
            "-m", "fast",
            "-l", str(self.log_file),  # else the server keeps our stdout pipe open
            "-w", "-t", "60",
            "restart",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its folder."""
        try:
            if self.started:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                )
        finally:
            self.started = False
            if not self.keep:
                shutil.rmtree(self.base_dir, ignore_errors=True)


def find_redis_server() -> str | None:
    """The ``redis-server`` binary (Debian's ``redis-server`` package), or None."""
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
    )


@dataclass
class RedisServer:
    """``redis-server`` on 127.0.0.1:``port``, in memory only, logging into ``base_dir``."""

    port: int
    base_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="shopbot-redis-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> RedisServer:
        """Start the server and wait until it answers PING."""
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError(
                "redis-server not found; install the Debian package with `make system-deps` "
                "(SHOPBOT_APT_PACKAGES includes redis-server)."
            )
        self.base_dir.mkdir(parents=True, exist_ok=True)
        log = (self.base_dir / "redis.log").open("ab")
        command = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.base_dir), "--protected-mode", "yes"]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait(timeout)
        logger.info("Redis running on 127.0.0.1:%d", self.port)
        return self

    def _wait(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.base_dir / 'redis.log'}")
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer within {timeout:.0f} s")

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Kill the server and start it again on the same port (the injected fault)."""
        self.stop()
        self.start()
