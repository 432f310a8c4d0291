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
A request fails when it is not answered 200 with at least one reply.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

import gevent
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["SHOPBOT_LOAD_PLAN"], encoding="utf-8") as plan_file:
    PLAN: dict[str, Any] = json.load(plan_file)
THINK = tuple(PLAN["think_s"])
NEW_VISIT_CHANCE = float(PLAN.get("new_visit_chance", 0.25))


class Shopper(FastHttpUser):
    """One shopper: conversations of every kind, by weight, with think times."""

    wait_time = between(*THINK)
    network_timeout = float(PLAN.get("timeout_s", 60))
    connection_timeout = float(PLAN.get("timeout_s", 60))

    def on_start(self) -> None:
        self.sender = f"load-{uuid.uuid4().hex}"

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
            self.sender = f"load-{uuid.uuid4().hex}"

    def say(self, kind: str, text: str) -> bool:
        with self.client.post(
            "/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            headers={"Authorization": f"Bearer {PLAN['secret']}"},
            name=kind,
            catch_response=True,
        ) as reply:
            if reply.status_code != 200:
                reply.failure(f"HTTP {reply.status_code}")
                return False
            try:
                answered = bool(reply.json())
            except ValueError:
                answered = False
            if not answered:
                reply.failure("no reply")
                return False
            reply.success()
            return True
