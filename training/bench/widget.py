"""Benchmark section "Widget": the web widget's latency through the real channel, and its weight.

Starts the real action server and Rasa server of ``ctx.preset`` (``bot.runner``'s services, as
``shopbot run`` does) on free loopback ports, with a temporary tracker store, application database
and copy of the order database, and fresh secrets (nothing is written into ``var/``). Then, for
each of 100 store questions (product names from ``var/store/catalog.jsonl`` and FAQ questions from
``var/store/faq.jsonl``, sampled with a fixed seed), in a fresh conversation each:

- **widget**: ``POST /session``, open ``GET /stream``, ``POST /messages``; the time from sending to
  the ``typing`` event, to the first ``token`` event (when the generator streams) and to the last
  ``bot`` event of the turn;
- **REST**: ``POST /webhooks/rest/webhook`` with the same question; the time to the reply.

Both channels alternate question by question, so a change in the machine's load hits both alike.
Also the widget's weight: the loader (``widget.js``) and everything it loads when the chat opens,
gzipped as the channel serves them, against the 30 KB budget of the loader. A box plot of the
latencies goes to ``widget_latency.png``. ``ctx.quick``: 10 questions.
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from training.bench.report import BenchContext, BenchSection, markdown_table
from training.bench.servers import bench_settings, no_rasa_model, running_servers
from training.bench.widget_client import SseEvent, WidgetClient, post_json
from training.stats import p50_p95

T = TypeVar("T")

logger = logging.getLogger(__name__)

TITLE = "Widget"
PLOT_FILE = "widget_latency.png"
LOADER_BUDGET_BYTES = 30 * 1024
ANSWER_TIMEOUT_S = 120.0
SEED = 11
FALLBACK_QUESTIONS = (
    "How much is the Delta Kite?",
    "What is your return policy?",
    "What payment methods do you accept?",
    "Is the Woodstock Collage puzzle in stock?",
    "How can I track my order?",
    "How long does shipping take?",
)
PRODUCT_TEMPLATES = ("How much is the {}?", "Is the {} in stock?", "Tell me about the {}.")


@dataclass
class WidgetTiming:
    """One question through the widget: ms from sending to each event (None when none came)."""

    typing_ms: float | None
    token_ms: float | None
    bot_ms: float | None
    bot_messages: int = 0


@dataclass
class Measurements:
    """Every question's timings, per channel."""

    widget: list[WidgetTiming] = field(default_factory=list)
    rest_ms: list[float] = field(default_factory=list)
    rest_failures: int = 0


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _short_name(name: str) -> str:
    """A product name as a shopper types it: before the first comma, dash or bracket, 8 words."""
    head = re.split(r",| - | – |\(|\||\[", name, maxsplit=1)[0]
    return " ".join(head.split()[:8]) or name


def bench_questions(root: Path, n: int, seed: int = SEED) -> list[str]:
    """``n`` store questions, half about products and half from the FAQ, the same every run.

    Product questions name a catalog product (``var/store/catalog.jsonl``) in one of a few
    phrasings; FAQ questions are the FAQ's own (``var/store/faq.jsonl``). Without the prepared
    store data, a fixed list of demo questions is cycled.
    """
    catalog = root / "var" / "store" / "catalog.jsonl"
    faq = root / "var" / "store" / "faq.jsonl"
    if not catalog.exists() or not faq.exists():
        logger.warning("No prepared store data under %s: using fixed questions", catalog.parent)
        return [FALLBACK_QUESTIONS[i % len(FALLBACK_QUESTIONS)] for i in range(n)]
    names = [json.loads(line)["name"] for line in _lines(catalog)]
    faqs = [json.loads(line)["question"] for line in _lines(faq)]
    rng = random.Random(seed)
    n_products = (n + 1) // 2
    products = [
        PRODUCT_TEMPLATES[i % len(PRODUCT_TEMPLATES)].format(_short_name(name))
        for i, name in enumerate(rng.sample(names, min(n_products, len(names))))
    ]
    n_faq = n // 2
    faq_questions = rng.sample(faqs, min(n_faq, len(faqs)))
    faq_questions += [faqs[i % len(faqs)] for i in range(n_faq - len(faq_questions))]
    mixed = [q for pair in zip(products, faq_questions, strict=False) for q in pair]
    mixed += products[len(faq_questions) :] + faq_questions[len(products) :]
    return mixed[:n]


def _after(events: Sequence[SseEvent], kind: str, start: float) -> list[SseEvent]:
    return [e for e in events if e.event == kind and e.at >= start]


def ask_widget(base_url: str, question: str) -> WidgetTiming:
    """One question in a fresh widget conversation; the times to typing, first token and answer."""
    client = WidgetClient(base_url)
    started = client.start()
    if started.status != 200:
        raise RuntimeError(
            f"POST /webhooks/widget/session answered {started.status}: {started.body}"
        )
    reader = client.open_stream(after=0)
    try:
        if not reader.connected.wait(30):
            raise RuntimeError(f"The widget stream did not connect (status {reader.status}).")
        t0 = time.monotonic()
        sent = client.send(question)
        if sent.status != 202:
            raise RuntimeError(
                f"POST /webhooks/widget/messages answered {sent.status}: {sent.body}"
            )
        user_seq = int(sent.body["seq"])

        def done(events: list[SseEvent]) -> bool:
            typing_off = [e for e in _after(events, "typing", t0) if not e.data.get("on")]
            return bool(typing_off) and any(
                e.event == "bot" and (e.id or 0) > user_seq for e in events
            )

        finished = reader.wait_for(done, ANSWER_TIMEOUT_S)
        time.sleep(0.2)  # a reply stored just before "typing off" may follow in the next frame
        events = list(reader.events)
    finally:
        reader.stop()
    typing = [e for e in _after(events, "typing", t0) if e.data.get("on")]
    tokens = _after(events, "token", t0)
    bots = [e for e in events if e.event == "bot" and (e.id or 0) > user_seq]
    if not finished:
        logger.warning("No complete widget answer within %.0f s to %r", ANSWER_TIMEOUT_S, question)
    return WidgetTiming(
        typing_ms=(typing[0].at - t0) * 1000 if typing else None,
        token_ms=(tokens[0].at - t0) * 1000 if tokens else None,
        bot_ms=(max(e.at for e in bots) - t0) * 1000 if bots and finished else None,
        bot_messages=len(bots),
    )


def ask_rest(base_url: str, secret: str, question: str) -> float | None:
    """One question in a fresh REST conversation; ms to the reply (None when it failed)."""
    t0 = time.monotonic()
    reply = post_json(
        f"{base_url}/webhooks/rest/webhook",
        {"sender": f"bench-{uuid.uuid4().hex[:16]}", "message": question},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=ANSWER_TIMEOUT_S,
    )
    elapsed = (time.monotonic() - t0) * 1000
    if reply.status != 200 or not reply.texts:
        logger.warning("REST channel answered %d to %r: %s", reply.status, question, reply.body)
        return None
    return elapsed


def against_rest(
    questions: Sequence[str],
    ask: Callable[[int, str], T],
    base_url: str,
    rest_secret: str,
    desc: str,
) -> tuple[list[T], list[float], int]:
    """Ask every question through ``ask(i, question)`` and the REST channel, alternating which
    goes first, after one warm-up of each (``i = -1``: first-call costs stay out of the figures).

    Returns:
        ``ask``'s results, the REST reply times (ms), and how many REST questions got no reply.
    """
    ask(-1, questions[0])
    ask_rest(base_url, rest_secret, questions[0])
    results: list[T] = []
    rest_ms: list[float] = []
    rest_failures = 0
    for i, question in enumerate(tqdm(questions, desc=desc, unit="question")):
        for channel in ("other", "rest") if i % 2 == 0 else ("rest", "other"):
            if channel == "other":
                results.append(ask(i, question))
                continue
            elapsed = ask_rest(base_url, rest_secret, question)
            if elapsed is None:
                rest_failures += 1
            else:
                rest_ms.append(elapsed)
    return results, rest_ms, rest_failures


def measure(base_url: str, rest_secret: str, questions: Sequence[str]) -> Measurements:
    """Ask every question through the widget and the REST channel, alternating."""
    widget, rest_ms, failures = against_rest(
        questions, lambda _i, q: ask_widget(base_url, q), base_url, rest_secret, "widget vs REST"
    )
    return Measurements(widget, rest_ms, failures)


def _served_size(base_url: str, path: str) -> int:
    """Bytes the channel sends for ``path`` to a client that accepts gzip."""
    parts = base_url.split("//", 1)[1]
    host, port = parts.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        reply = conn.getresponse()
        body = reply.read()
        if reply.status != 200:
            raise RuntimeError(f"GET {path} answered {reply.status}")
        if reply.getheader("Content-Encoding") != "gzip":
            body = gzip.compress(body, 9, mtime=0)
        return len(body)
    finally:
        conn.close()


def asset_sizes(base_url: str, assets_dir: Path) -> dict[str, int]:
    """Gzipped bytes of the loader and of each file it loads when the chat opens, as served."""
    sizes = {"widget.js": _served_size(base_url, "/webhooks/widget/widget.js")}
    for path in sorted(assets_dir.iterdir()):
        if path.is_file() and path.name != "widget.js" and path.suffix in (".js", ".mjs", ".css"):
            sizes[path.name] = _served_size(base_url, f"/webhooks/widget/static/{path.name}")
    return sizes


def _plot(measured: Measurements, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {
        "widget: typing": [t.typing_ms for t in measured.widget if t.typing_ms is not None],
        "widget: first token": [t.token_ms for t in measured.widget if t.token_ms is not None],
        "widget: answer": [t.bot_ms for t in measured.widget if t.bot_ms is not None],
        "REST: answer": measured.rest_ms,
    }
    series = {k: v for k, v in series.items() if v}
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.boxplot(list(series.values()), vert=False, showfliers=True)
    ax.set_yticks(range(1, len(series) + 1), list(series))
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_xlabel("ms from sending (log scale)")
    ax.set_title("Widget vs REST: latency per question")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section_from(
    measured: Measurements, sizes: dict[str, int], n_questions: int, preset: str
) -> BenchSection:
    """The report section: the latency table, the weight table and the numbers."""
    typing = [t.typing_ms for t in measured.widget if t.typing_ms is not None]
    tokens = [t.token_ms for t in measured.widget if t.token_ms is not None]
    answers = [t.bot_ms for t in measured.widget if t.bot_ms is not None]
    rows: list[list[object]] = []
    for label, values in (("widget: send → typing", typing), ("widget: send → first token", tokens),
                          ("widget: send → complete answer", answers),
                          ("REST: request → reply", measured.rest_ms)):  # fmt: skip
        if values:
            p50, p95 = p50_p95(values)
            rows.append([label, f"{len(values)} of {n_questions}", f"{p50:.0f}", f"{p95:.0f}"])
        else:
            rows.append([label, f"0 of {n_questions}", "n/a (no generated answer)", "n/a"])
    loader = sizes["widget.js"]
    lazy = sum(v for k, v in sizes.items() if k != "widget.js")
    size_rows: list[list[object]] = [
        ["loader `widget.js`", f"{loader / 1024:.1f}", f"{LOADER_BUDGET_BYTES // 1024}",
         "within" if loader <= LOADER_BUDGET_BYTES else "OVER"],
        ["lazy part (loaded when the chat opens): " + ", ".join(
            f"`{k}`" for k in sizes if k != "widget.js"), f"{lazy / 1024:.1f}", "", ""],
    ]  # fmt: skip
    missing = sum(1 for t in measured.widget if t.bot_ms is None)
    notes = [
        f"Preset `{preset}`; real Rasa and action servers on loopback; {n_questions} store "
        "questions (half product, half FAQ; seeded), each in a fresh conversation through both "
        "channels, alternating which goes first.",
        markdown_table(["measure", "questions", "p50 (ms)", "p95 (ms)"], rows),
        markdown_table(["asset (gzipped, as served)", "KB", "budget KB", ""], size_rows),
    ]
    if missing or measured.rest_failures:
        notes.append(
            f"No complete answer within {ANSWER_TIMEOUT_S:.0f} s: widget {missing}, "
            f"REST {measured.rest_failures}."
        )
    numbers: dict[str, float] = {
        "questions": float(n_questions),
        "typing_ms_p50": p50_p95(typing)[0],
        "typing_ms_p95": p50_p95(typing)[1],
        "first_token_ms_p50": p50_p95(tokens)[0],
        "first_token_ms_p95": p50_p95(tokens)[1],
        "streamed_answers": float(len(tokens)),
        "widget_answer_ms_p50": p50_p95(answers)[0],
        "widget_answer_ms_p95": p50_p95(answers)[1],
        "rest_answer_ms_p50": p50_p95(measured.rest_ms)[0],
        "rest_answer_ms_p95": p50_p95(measured.rest_ms)[1],
        "loader_gzip_bytes": float(loader),
        "lazy_gzip_bytes": float(lazy),
    }
    return BenchSection(TITLE, "\n\n".join(notes), [PLOT_FILE], numbers)


def run_section(ctx: BenchContext) -> BenchSection:
    """Start the servers, measure both channels and the widget's weight; return the section."""
    from bot.channels.widget import ASSETS_DIR

    n_questions = 10 if ctx.quick else 100
    missing = no_rasa_model(ctx, TITLE)
    if missing is not None:
        return missing
    questions = bench_questions(ctx.project_root, n_questions)
    with tempfile.TemporaryDirectory(prefix="bench-widget-") as tmp:
        settings = bench_settings(ctx, Path(tmp))
        with running_servers(settings) as base_url:
            sizes = asset_sizes(base_url, ASSETS_DIR)
            measured = measure(base_url, settings.rest_secret, questions)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    _plot(measured, ctx.out_dir / PLOT_FILE)
    return section_from(measured, sizes, len(questions), ctx.preset)
