"""Locust shoppers of the "Throughput" section: realistic turns, in proportions, with think times.

Run by ``training/bench/throughput.py`` with the load-test environment's ``locust`` (``.venv-load``,
``scripts/load-venv.sh``), never imported by the project: it reads everything from the JSON plan
named by ``SHOPBOT_LOAD_PLAN`` (written by the section: the REST channel's secret, the think
times, and per kind of turn its weight and its conversations, each message already checked
against the served model by :mod:`training.bench.load_plan`).

Each simulated shopper is one visit (its own conversation id): it picks a kind by weight, plays
one of that kind's conversations message by message (thinking between messages and between
conversations), and now and then leaves and comes back as a new visit. Every message is one
request through the REST channel, named by its kind, so Locust's statistics are per kind of turn.
A request fails when it is not answered 200 with at least one reply, or when the reply is the
assistant's "something went wrong" apology (it asks the shopper to try again).

With ``exchange_log`` in the plan (the "Reliability" section), every request is also written as
one JSON line — sender, its number within the sender, the text, the outcome and the times — so the
tracker store can be audited against what the shoppers were answered
(:mod:`training.bench.tracker_audit`).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from typing import Any

import gevent
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["SHOPBOT_LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN: dict[str, Any] = json.load(plan_file)
THINK = tuple(PLAN["think_s"])
NEW_VISIT_CHANCE = float(PLAN.get("new_visit_chance", 0.25))
APOLOGY = "something went wrong"
# Open for the whole run (Locust's process ends with it).
EXCHANGES = open(PLAN["exchange_log"], "a", encoding="utf-8") if PLAN.get("exchange_log") else None  # noqa: SIM115


def record(sender: str, number: int, text: str, error: str, started: float) -> None:
    """One exchange, as a line of the exchange log (gevent: one writer at a time)."""
    if EXCHANGES is not None:
        line = {"s": sender, "n": number, "m": text, "err": error, "t0": started, "t1": time.time()}
        EXCHANGES.write(json.dumps(line, ensure_ascii=False) + "\n")
        EXCHANGES.flush()


class Shopper(FastHttpUser):
    """One shopper: conversations of every kind, by weight, with think times."""

    wait_time = between(*THINK)
    network_timeout = float(PLAN.get("timeout_s", 60))
    connection_timeout = float(PLAN.get("timeout_s", 60))

    def on_start(self) -> None:
        self.sender = f"load-{uuid.uuid4().hex}"
        self.numbers = itertools.count()

    @task
    def converse(self) -> None:
        kinds = PLAN["kinds"]
        kind = random.choices(kinds, weights=[k["weight"] for k in kinds])[0]
        messages = random.choice(kind["conversations"])
        for i, text in enumerate(messages):
            if i:
                gevent.sleep(random.uniform(*THINK))
            if not self.say(kind["name"], text):
                break  # the rest of this conversation would not mean what it should
        if random.random() < NEW_VISIT_CHANCE:
            self.on_start()

    def say(self, kind: str, text: str) -> bool:
        started = time.time()
        error = self.post(kind, text)
        record(self.sender, next(self.numbers), text, error, started)
        return not error

    def post(self, kind: str, text: str) -> str:
        """Send one message; the failure's reason, or "" when it was answered."""
        with self.client.post(
            "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            headers={"Authorization": f"Bearer {PLAN['secret']}"},
            name=kind,
            catch_response=True,
        ) as reply:
            if reply.status_code != 200:
                error = f"HTTP {reply.status_code}"
            else:
                try:
                    messages = reply.json() or []
                except ValueError:
                    messages = []
                texts = [str(m.get("text") or "") for m in messages if isinstance(m, dict)]
                error = "" if messages else "no reply"
                if any(APOLOGY in t for t in texts):
                    error = "apology"
            if error:
                reply.failure(error)
            else:
                reply.success()
            return error
