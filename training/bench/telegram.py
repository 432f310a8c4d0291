"""Benchmark section "Telegram": the Telegram channel's latency, next to the REST channel.

Starts the real action server and Rasa server of ``ctx.preset`` (as the "Widget" section does)
with the Telegram channel pointed at a fake Bot API on loopback (``training.bench.telegram_fake``,
which records the arrival time of every call). For each of the widget section's 100 store
questions, in a fresh private chat each, the update is POSTed to the webhook as Telegram would;
measured from just before the POST:

- **acknowledged**: the webhook's 200 (Telegram waits for nothing else);
- **first Bot API call**: the first call for that chat (the typing action, or the reply itself);
- **final reply**: the last ``sendMessage``/``sendPhoto`` of the turn (the turn is over when no
  call came for :data:`QUIET_S`);
- **REST**: ``POST /webhooks/rest/webhook`` with the same question; the time to the reply.

Both channels alternate question by question. ``ctx.quick``: 10 questions.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from training.bench.report import BenchContext, BenchSection, markdown_table
from training.bench.servers import bench_settings, no_rasa_model, running_servers
from training.bench.telegram_fake import TOKEN, FakeTelegram, deliver, text_update
from training.bench.widget import ANSWER_TIMEOUT_S, against_rest, bench_questions
from training.stats import p50_p95

logger = logging.getLogger(__name__)

TITLE = "Telegram"
SECRET = "bench-telegram-secret-0123456789abcdef"
QUIET_S = 0.6
REPLIES = ("sendMessage", "sendPhoto")
FIRST_CHAT = 900_000


@dataclass
class TelegramTiming:
    """One question through the Telegram channel: ms from the POST to each point."""

    ack_ms: float
    first_call_ms: float | None
    final_ms: float | None
    messages: int = 0


@dataclass
class Measurements:
    """Every question's timings, per channel."""

    telegram: list[TelegramTiming] = field(default_factory=list)
    rest_ms: list[float] = field(default_factory=list)
    rest_failures: int = 0


def ask_telegram(fake: FakeTelegram, webhook: str, chat_id: int, question: str) -> TelegramTiming:
    """Deliver one question as a Telegram update; wait for the turn's last reply."""
    t0 = time.monotonic()
    status, _ = deliver(webhook, text_update(chat_id, question), SECRET)
    ack_ms = (time.monotonic() - t0) * 1000
    if status != 200:
        raise RuntimeError(f"The Telegram webhook answered {status} to {question!r}.")
    deadline = t0 + ANSWER_TIMEOUT_S
    while time.monotonic() < deadline:
        replies = fake.calls_of(*REPLIES, chat_id=chat_id)
        if replies and time.monotonic() - fake.calls_of(chat_id=chat_id)[-1].at >= QUIET_S:
            break
        time.sleep(0.02)
    calls = fake.calls_of(chat_id=chat_id)
    replies = fake.calls_of(*REPLIES, chat_id=chat_id)
    if not replies:
        logger.warning("No Telegram reply within %.0f s to %r", ANSWER_TIMEOUT_S, question)
    return TelegramTiming(
        ack_ms=ack_ms,
        first_call_ms=(calls[0].at - t0) * 1000 if calls else None,
        final_ms=(replies[-1].at - t0) * 1000 if replies else None,
        messages=len(replies),
    )


def measure(
    fake: FakeTelegram, base_url: str, rest_secret: str, questions: Sequence[str]
) -> Measurements:
    """Ask every question through Telegram (each in a fresh chat) and REST, alternating."""
    webhook = f"{base_url}/webhooks/telegram/webhook"
    telegram, rest_ms, failures = against_rest(
        questions,
        lambda i, q: ask_telegram(fake, webhook, FIRST_CHAT + i, q),
        base_url,
        rest_secret,
        "Telegram vs REST",
    )
    return Measurements(telegram, rest_ms, failures)


def section_from(measured: Measurements, n_questions: int, preset: str) -> BenchSection:
    """The report section: the latency table and the numbers."""
    acks = [t.ack_ms for t in measured.telegram]
    first = [t.first_call_ms for t in measured.telegram if t.first_call_ms is not None]
    final = [t.final_ms for t in measured.telegram if t.final_ms is not None]
    rows: list[list[object]] = []
    for label, values in (("Telegram: update → webhook acknowledged", acks),
                          ("Telegram: update → first Bot API call", first),
                          ("Telegram: update → final reply", final),
                          ("REST: request → reply (same questions)", measured.rest_ms)):  # fmt: skip
        p50, p95 = p50_p95(values)
        rows.append([label, f"{len(values)} of {n_questions}", f"{p50:.0f}", f"{p95:.0f}"])
    notes = [
        f"Preset `{preset}`; real Rasa and action servers on loopback, the Telegram channel "
        "talking to a fake Bot API on loopback (python-telegram-bot's HTTP client, "
        f"AIORateLimiter on); {n_questions} store questions (the widget section's), each in a "
        "fresh private chat, alternating with the REST channel. The final reply is the last "
        f"message of the turn (no further call for {QUIET_S:.1f} s).",
        markdown_table(["measure", "questions", "p50 (ms)", "p95 (ms)"], rows),
    ]
    missing = sum(1 for t in measured.telegram if t.final_ms is None)
    if missing or measured.rest_failures:
        notes.append(f"No reply: Telegram {missing}, REST {measured.rest_failures}.")
    numbers = {
        "questions": float(n_questions),
        "ack_ms_p50": p50_p95(acks)[0],
        "ack_ms_p95": p50_p95(acks)[1],
        "first_call_ms_p50": p50_p95(first)[0],
        "first_call_ms_p95": p50_p95(first)[1],
        "final_reply_ms_p50": p50_p95(final)[0],
        "final_reply_ms_p95": p50_p95(final)[1],
        "rest_answer_ms_p50": p50_p95(measured.rest_ms)[0],
        "rest_answer_ms_p95": p50_p95(measured.rest_ms)[1],
    }
    return BenchSection(TITLE, "\n\n".join(notes), [], numbers)


def run_section(ctx: BenchContext) -> BenchSection:
    """Start the servers with the Telegram channel on a fake Bot API; measure; the section."""
    n_questions = 10 if ctx.quick else 100
    missing = no_rasa_model(ctx, TITLE)
    if missing is not None:
        return missing
    questions = bench_questions(ctx.project_root, n_questions)
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as tmp, FakeTelegram() as fake:
        settings = dataclasses.replace(
            bench_settings(ctx, Path(tmp)),
            telegram_token=TOKEN,
            telegram_secret=SECRET,
            telegram_api_url=fake.url,
        )
        with running_servers(settings) as base_url:
            measured = measure(fake, base_url, settings.rest_secret, questions)
    return section_from(measured, len(questions), ctx.preset)
