"""``shopbot agents``: add, list, disable and enable console agents; set a password; make the
demo agent.

Passwords come from a prompt (typed twice, not echoed) or, for scripts, from the first line of
standard input with ``--password-stdin``; they are never accepted as an argument (that would
leave them in the shell history and the process list) and never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import secrets
import sys
from pathlib import Path

from bot.console.agents import ROLES, AgentError, AgentStore
from bot.console.urls import console_url
from bot.storage.engine import make_engine
from bot.storage.migrate import upgrade_to_head
from core.settings import Settings

logger = logging.getLogger(__name__)

DEMO_EMAIL = "demo@shopbot.local"
DEMO_NAME = "Demo Admin"
DEMO_PASSWORD_FILE = "console_demo_password"


def build_parser() -> argparse.ArgumentParser:
    """The ``shopbot agents`` command line."""
    parser = argparse.ArgumentParser(prog="shopbot agents", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add an agent (password from a prompt or --password-stdin)")
    add.add_argument("email", help="the agent's email address (the sign-in name)")
    add.add_argument("--name", required=True, help="the agent's name, shown in the console")
    add.add_argument("--role", choices=ROLES, default="agent", help="agent (default) or admin")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    sub.add_parser("list", help="list every agent")
    for name, help_ in (
        ("disable", "disable an agent and end their sessions"),
        ("enable", "enable a disabled agent again"),
    ):
        sub.add_parser(name, help=help_).add_argument("email", help="the agent's email address")
    password = sub.add_parser("set-password", help="set a new password (ends the agent's sessions)")
    password.add_argument("email", help="the agent's email address")
    password.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    sub.add_parser(
        "ensure-demo",
        help=f"create the demo admin ({DEMO_EMAIL}) if missing; password into var/{DEMO_PASSWORD_FILE}",
    )
    return parser


def read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise AgentError("The two passwords differ; run the command again.")
    return first


def write_secret_file(path: Path, value: str) -> None:
    """Write ``value`` to ``path`` readable by its owner only (mode 600 from the start)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    path.chmod(0o600)


def ensure_demo(store: AgentStore, settings: Settings) -> None:
    """Create the demo admin with a random password (or a new one if its file is gone)."""
    password_file = settings.var_dir / DEMO_PASSWORD_FILE
    agent = store.get(DEMO_EMAIL)
    if agent is None or not password_file.exists():
        password = secrets.token_urlsafe(16)
        if agent is None:
            store.add(DEMO_EMAIL, DEMO_NAME, "admin", password)
        else:
            store.set_password(DEMO_EMAIL, password)
        write_secret_file(password_file, password)
    agent = store.get(DEMO_EMAIL)
    state = " (disabled: `shopbot agents enable` it)" if agent and agent.disabled else ""
    print(
        f"Agent console: {console_url(settings)}  sign in as {DEMO_EMAIL}{state} with the "
        f"password in {password_file} (`cat {password_file}`)",
        flush=True,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one parsed ``shopbot agents`` command."""
    url = settings.resolve_db_url(settings.app_db_url)
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        store = AgentStore(engine)
        if args.command == "add":
            agent = store.add(args.email, args.name, args.role, read_password(args.password_stdin))
            print(f"Added {agent.role} {agent.email} ({agent.name}).")
        elif args.command == "list":
            agents = store.list()
            if not agents:
                print("No agents yet: `shopbot agents add EMAIL --name NAME --role admin`.")
            for a in agents:
                last = (
                    a.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC")
                    if a.last_sign_in_at
                    else "never"
                )
                status = "disabled" if a.disabled else "active"
                print(f"{a.email:<32} {a.role:<6} {status:<9} last sign-in {last:<21} {a.name}")
        elif args.command in ("disable", "enable"):
            agent = store.set_disabled(args.email, args.command == "disable")
            print(f"{args.command.capitalize()}d {agent.email}.")
        elif args.command == "set-password":
            agent = store.set_password(args.email, read_password(args.password_stdin))
            print(f"New password set for {agent.email}; their sessions have ended.")
        elif args.command == "ensure-demo":
            ensure_demo(store, settings)
        return 0
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """``shopbot agents ...``."""
    args = build_parser().parse_args(argv)
    try:
        return run(args, Settings())
    except (AgentError, ValueError) as exc:
        print(f"shopbot agents: {exc}", file=sys.stderr)
        return 2
