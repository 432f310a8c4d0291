"""A throwaway PostgreSQL server on loopback (the Debian ``postgresql`` package), for the tests and
the benchmarks (``tests/e2e/postgres.py`` re-exports it with a pytest skip helper).

``PostgresServer.start()`` runs ``initdb`` into a fresh folder under ``/tmp``, starts ``postgres``
with ``pg_ctl`` on a free 127.0.0.1 port (unix socket in the same folder, no other listener),
``create_database`` makes a database and returns its SQLAlchemy URL, ``stop()`` shuts the server
down and deletes the folder. PostgreSQL refuses to run as root, so as root everything runs as the
``postgres`` system user (created by the Debian package) through ``runuser``. Nothing is installed
here: ``make system-deps`` installs the package (``SHOPBOT_APT_PACKAGES``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

SUPERUSER = "shopbot"


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
        if os.geteuid() == 0:
            shutil.chown(self.base_dir, "postgres", "postgres")
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

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscores) and return its URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name must be letters, digits and _; got {name!r}.")
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return self.url(name)

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
            shutil.rmtree(self.base_dir, ignore_errors=True)
