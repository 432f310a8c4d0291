"""``shopbot faq-intents``: the intent the trained NLU gives each FAQ entry's own ways of asking.

For every FAQ entry, its question and phrasings (``also_asked``) are parsed by the preset's Rasa
model; the entry's intent is the one most of them get, with its share. The action server reads
the result (``faq_intents.json`` in the knowledge directory, ``actions.order_questions``): a
message NLU reads as an order request (``track_order``) but that is asked like an FAQ entry whose
own phrasings NLU reads as something else ("it's sold out, can i still order one?", like the
backorder entry, which NLU reads as ``place_order``) is a misread question, answered from the FAQ.

Written by ``shopbot train`` (step ``faq-intents``, after the Rasa model), again whenever the FAQ
or the Rasa model changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from knowledge.faq import read_faq_jsonl
from knowledge.faq_rank import FAQ_INTENTS_FILE

logger = logging.getLogger(__name__)

FILE_NAME = FAQ_INTENTS_FILE  # in the knowledge directory (actions.order_questions reads it)


def entry_intents(
    entries: list[Any], intents_of: Any, progress: bool = True
) -> dict[str, dict[str, Any]]:
    """Each entry's majority intent over its question and phrasings, with its share and count.

    Args:
        entries: FAQ entries (``knowledge.faq.FaqEntry``).
        intents_of: Parses a list of texts into their intent names, in order.
        progress: Show a progress bar per entry.
    """
    result: dict[str, dict[str, Any]] = {}
    for entry in tqdm(entries, desc="FAQ entries", unit="entry", disable=not progress):
        texts = [entry.question, *entry.also_asked]
        votes = Counter(intents_of(texts))
        intent, count = votes.most_common(1)[0]
        result[entry.id] = {
            "intent": intent,
            "share": round(count / len(texts), 3),
            "texts": len(texts),
        }
    return result


def rasa_intents_of(model: Path) -> Any:
    """A parser of texts into intent names with the Rasa model at ``model`` (loaded once)."""
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level through structlog; the progress bar says enough.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    agent = Agent.load(str(model))

    async def parse(texts: list[str]) -> list[str]:
        return [str((await agent.parse_message(t))["intent"]["name"]) for t in texts]

    return lambda texts: asyncio.run(parse(texts))


def main(argv: list[str] | None = None) -> int:
    """Parse the FAQ's phrasings with the Rasa model; write the entries' intents."""
    parser = argparse.ArgumentParser(prog="shopbot faq-intents", description=__doc__)
    parser.add_argument("--model", type=Path, required=True, help="the Rasa model (.tar.gz)")
    parser.add_argument("--faq", type=Path, required=True, help="the store's faq.jsonl")
    parser.add_argument("--out", type=Path, required=True, help=f"where to write {FILE_NAME}")
    args = parser.parse_args(argv)
    logger.info("FAQ intents: model %s, FAQ %s, out %s", args.model, args.faq, args.out)
    if not args.model.is_file():
        parser.error(f"no Rasa model at {args.model}: run `shopbot train` (step rasa) first")
    entries = read_faq_jsonl(args.faq)
    intents = entry_intents(entries, rasa_intents_of(args.model))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"model": args.model.name, "faq": str(args.faq), "entries": intents}
    args.out.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    by_intent = Counter(v["intent"] for v in intents.values())
    logger.info("FAQ intents of %d entries written to %s: %s", len(intents), args.out, by_intent)
    return 0
