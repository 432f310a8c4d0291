"""Build the assistant's NLU training data from the Bitext corpus, hand-written YAML and the catalog.

Inputs:

* ``data/demo/bitext/v11_instruction_intent.csv`` (``text,category``; ``category`` is the intent):
  27 customer-service intents with ``{{Order Number}}``-style placeholders.
* Hand-written sources under ``bot/data/nlu/`` (``chitchat.yml``, ``handoff.yml``, ``inform.yml``,
  ``out_of_scope.yml``): Rasa-style blocks under the top-level key ``nlu_source`` so that Rasa
  does not load them directly, and ``product_templates.yml`` (templates filled from the catalog).
* Product names and category paths: ``var/store/catalog.jsonl`` when it exists, else the demo CSV
  ``data/demo/catalog/amazon_products_sample1000.csv``.

Pipeline: read → dedup → fill placeholders (seeded, entity-annotated) → paraphrase groups →
grouped train/test split → write.

Decisions:

* **Dedup.** Texts are compared after lower-casing and collapsing whitespace (Bitext placeholders
  still in place). Repeats within one intent keep the first occurrence. A text under two or more
  intents keeps the **majority label** (counted over raw rows) and drops the other copies; on a tie
  every copy is dropped, since no label can be trusted. Counts are logged and returned. (The
  Bitext file itself has no cross-intent conflicts; the rule guards hand-written and generated
  data.)
* **Paraphrase groups.** Bitext utterances are templated variations (typos, "order"/"purchase"
  swaps, prefixes such as "i need help"), so a random split leaks near-copies into the test set.
  Each text is normalised (lower case, entities/placeholders replaced by their entity name,
  punctuation dropped) and embedded with character 3–5-gram TF-IDF (word-bounded, sublinear tf);
  within each intent, pairs with cosine ≥ ``similarity_threshold`` (0.70) are merged with
  union-find in order of decreasing similarity, refusing merges that would grow a group beyond
  ``max_group_fraction`` (5 %) of its intent. Why: plain union-find chains templated data into
  one giant component (at 0.80 one intent has 50 % of its rows in one group; at 0.70 85 %), which
  makes a stratified split impossible; at 0.85 groups stay small but 36 % of test rows still have
  a training row with cosine ≥ 0.80. With 0.70 and the 5 % cap, measured on Bitext: ~4.7k groups,
  test rows with a training neighbour ≥ 0.80 drop from 68 % (random split) to ~7 %, and every
  intent's test share stays within 3 points of the target. Pairs at 0.70–0.75 are still clear
  paraphrases ("i need help with canceling purchase" / "i need help with cancelling order").
  Catalog-generated examples take their template as group, so whole templates are held out.
* **Out of scope.** The Rasa intent is ``out_of_scope`` (Rasa NLU YAML, train split only in
  ``bot/data/nlu/generated/``, test split in ``var/nlu/test.yml``). In the CSVs for the BERT
  intent classifier the label is ``oos`` and never appears in ``var/nlu/train.csv``: its train
  split goes to ``var/nlu/oos_train.csv`` (usable as a trained OOS class or for calibration) and
  its test split is part of ``var/nlu/test.csv``, so OOS detection is always evaluated on unseen
  out-of-scope messages.
* **Honest Rasa evaluation.** Rasa trains only on the train split (written to
  ``bot/data/nlu/generated/``, capped per intent by the preset); ``var/nlu/test.yml`` holds the
  full test split for ``rasa test nlu --nlu var/nlu/test.yml``. The CSVs are always full size.
* **Annotation safety.** Rasa reads ``[text](entity)`` inside examples, so square brackets and
  braces in source text become parentheses, control characters become spaces, and whitespace is
  collapsed before any entity offsets are computed. CSV text and Rasa text are identical.
* **Order numbers** keep an optional leading ``#`` inside the entity span ("#482913"), because
  Rasa's WhitespaceTokenizer keeps it as one token; strip the ``#`` when filling the slot.

Run: ``python -m training.prepare_nlu --preset demo`` (or ``shopbot prepare --preset demo``).
The output is a pure function of the inputs and the arguments (byte-identical on re-runs).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import logging
import math
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from training.cli_args import parse_args
from training.labelled_csv import OOS_LABEL

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Examples per intent in the Rasa training files, by preset (None: all). The CSVs are never capped.
PRESET_CAPS: dict[str, int | None] = {"tiny": 25, "demo": 150, "full": None}

OOS_INTENT = "out_of_scope"  # the Rasa intent; its CSV label is OOS_LABEL ("oos")
_DESCRIPTION = (
    "Build the NLU training data (Rasa YAML + classifier CSVs) from Bitext and the catalog."
)

BITEXT_INTENTS: tuple[str, ...] = (
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "complaint",
    "contact_customer_service",
    "contact_human_agent",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "get_refund",
    "newsletter_subscription",
    "payment_issue",
    "place_order",
    "recover_password",
    "registration_problems",
    "review",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
    "track_refund",
)

#: Rasa NLU file (under bot/data/nlu/generated/) for every intent.
TOPIC_OF_INTENT: dict[str, str] = {
    "cancel_order": "orders",
    "change_order": "orders",
    "check_cancellation_fee": "orders",
    "place_order": "orders",
    "track_order": "orders",
    "check_refund_policy": "refunds",
    "get_refund": "refunds",
    "track_refund": "refunds",
    "change_shipping_address": "delivery",
    "delivery_options": "delivery",
    "delivery_period": "delivery",
    "set_up_shipping_address": "delivery",
    "create_account": "account",
    "delete_account": "account",
    "edit_account": "account",
    "recover_password": "account",
    "registration_problems": "account",
    "switch_account": "account",
    "check_payment_methods": "payment",
    "payment_issue": "payment",
    "check_invoice": "invoice",
    "get_invoice": "invoice",
    "complaint": "feedback",
    "review": "feedback",
    "contact_customer_service": "contact",
    "contact_human_agent": "contact",
    "human_handoff": "contact",
    "newsletter_subscription": "newsletter",
    "product_question": "products",
    "product_search": "products",
    "greet": "chitchat",
    "goodbye": "chitchat",
    "affirm": "chitchat",
    "deny": "chitchat",
    "thank": "chitchat",
    "bot_challenge": "chitchat",
    "inform": "inform",
    "out_of_scope": "out_of_scope",
}

#: Bitext placeholder name → Rasa entity.
PLACEHOLDER_ENTITIES: dict[str, str] = {
    "Order Number": "order_number",
    "Refund Amount": "amount",
    "Currency Symbol": "amount",
    "Person Name": "person_name",
    "Account Type": "account_type",
    "Account Category": "account_category",
    "Delivery City": "city",
    "Delivery Country": "country",
    "Invoice Number": "invoice_number",
}

HANDWRITTEN_FILES: tuple[str, ...] = (
    "chitchat.yml",
    "handoff.yml",
    "inform.yml",
    "out_of_scope.yml",
)
SEED_FILES: tuple[str, ...] = ("shopper_phrasings.yml",)
"""Hand-written seed phrasings the Bitext data lacks: always trained on, never held out or capped."""
PRODUCT_TEMPLATES_FILE = "product_templates.yml"
SOURCE_KEY = "nlu_source"
TEMPLATES_KEY = "product_templates"

GENERATED_HEADER = (
    "# Generated by training/prepare_nlu.py (shopbot prepare) — do not edit; edit the sources\n"
    "# (data/demo/bitext, bot/data/nlu/*.yml, the catalog) and regenerate.\n"
)

# --- value pools for placeholders (small, realistic, deliberately varied) ---------------------
_FIRST_NAMES = (
    "Maria", "John", "Aisha", "Wei", "Carlos", "Emma", "Olusegun", "Priya", "Liam", "Sofia",
    "Hiroshi", "Fatima", "Noah", "Ana", "Mateo", "Chloe", "Dmitri", "Grace", "Omar", "Isabella",
    "Kwame", "Hannah", "Luca", "Mei", "Samuel", "Zara", "Jonas", "Leila", "Patrick", "Yuki",
)  # fmt: skip
_LAST_NAMES = (
    "Lopez", "Smith", "Khan", "Chen", "Garcia", "Johnson", "Adeyemi", "Patel", "O'Connor",
    "Rossi", "Tanaka", "Haddad", "Williams", "Silva", "Fernandez", "Martin", "Ivanov", "Lee",
    "Nguyen", "Brown", "Mensah", "Fischer", "Bianchi", "Wang", "Taylor", "Ali", "Schmidt",
    "Kowalski", "Murphy", "Sato",
)  # fmt: skip
_ACCOUNT_TYPES = (
    "premium", "gold", "platinum", "business", "free", "pro", "standard", "basic", "plus",
    "vip", "silver", "freemium",
)  # fmt: skip
_ACCOUNT_CATEGORIES = (
    "personal", "business", "family", "student", "corporate", "shared", "kids", "team",
)  # fmt: skip
_CITIES = (
    "New York", "Los Angeles", "Chicago", "Houston", "Toronto", "London", "Manchester",
    "Dublin", "Paris", "Berlin", "Madrid", "Barcelona", "Rome", "Amsterdam", "Sydney",
    "Melbourne", "Auckland", "Mumbai", "Singapore", "Tokyo", "Mexico City", "São Paulo",
    "Cape Town", "Austin", "Seattle", "Vancouver", "Lisbon", "Vienna", "Stockholm", "Warsaw",
)  # fmt: skip
_COUNTRIES = (
    "Canada", "Mexico", "United Kingdom", "UK", "Germany", "France", "Spain", "Italy",
    "Australia", "New Zealand", "Japan", "India", "Brazil", "Ireland", "Netherlands", "Sweden",
    "Poland", "South Africa", "Singapore", "Portugal", "Norway", "USA", "United States",
    "Switzerland", "Belgium",
)  # fmt: skip
_PRICES = (5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 75, 80, 100, 120, 150, 200, 250, 300, 500)
_CENTS = ("99", "49", "95", "00", "50", "25")

# --- regular expressions ------------------------------------------------------------------------
_PLACEHOLDER_RE = re.compile(r"\{\{([^{}]+)\}\}")
# `{{Currency Symbol}}{{Refund Amount}}` is one amount; `{{Refund Amount}} dollars` keeps its
# (often misspelt: "dollras", "doolars") currency word inside the amount span.
_FILL_RE = re.compile(
    r"(?P<money>\{\{Currency Symbol\}\}\s*\{\{Refund Amount\}\})"
    r"|\{\{Refund Amount\}\}(?P<unit>\s+d+o+l[a-z]*)?"
    r"|\{\{(?P<name>[^{}]+)\}\}"
)
_ANNOTATION_RE = re.compile(r"\[(?P<text>[^\]]+?)\]\((?P<entity>[^:)]+?)\)")
_TEMPLATE_SLOT_RE = re.compile(r"\{(product2?|category|amount2?)\}")
_NON_WORD_RE = re.compile(r"[^\w\s]|_")
_SANITIZE = str.maketrans({"[": "(", "]": ")", "{": "(", "}": ")", "\t": " ", "\n": " ", "\r": " "})
_MENTION_CUT_RE = re.compile(r"\s[-–—|:;/]\s|:\s|[,(\[{;|]|\s(?:with|for|by|in|featuring)\s", re.I)
_MENTION_DROP_RE = re.compile(r"[\"“”®™©\[\]{}()]")
_MENTION_TRAILING_WORDS = frozenset(
    {"and", "with", "for", "of", "by", "the", "a", "an", "in", "to", "&", "-", "–", "or", "on"}
)
_GENERIC_CATEGORIES = frozenset(
    {
        "accessories", "kids & baby", "girls", "boys", "men", "women", "baby", "unisex",
        "novelty", "toys & games", "hobbies", "clothing, shoes & jewelry", "home & kitchen",
        "sports & outdoors", "baby products", "more", "collectibles", "kids", "toys",
        "games & accessories", "clothing", "shoes", "jewelry",
    }
)  # fmt: skip


@dataclass(frozen=True)
class EntitySpan:
    """One entity annotation: ``text[start:end] == value``."""

    start: int
    end: int
    entity: str
    value: str


@dataclass(frozen=True)
class NluExample:
    """One training utterance with its intent, entity spans and paraphrase group.

    Attributes:
        text: The plain utterance (no annotation markup).
        intent: The Rasa intent name (``out_of_scope`` for out-of-scope messages).
        entities: Entity spans over ``text``, sorted by start.
        group: Paraphrase group id (``"<intent>/<n>"``); empty until groups are assigned.
        source: ``"bitext"``, ``"handwritten"`` or ``"catalog"``.
    """

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()
    group: str = ""
    source: str = ""


@dataclass(frozen=True)
class DedupStats:
    """What :func:`dedup_examples` removed.

    Attributes:
        rows_in: Examples before dedup.
        duplicates_dropped: Repeats of a text within the same intent.
        conflict_texts: Distinct texts found under two or more intents.
        conflict_rows_dropped: Rows dropped to resolve those conflicts (minority labels and ties).
        conflict_ties: Conflicting texts dropped entirely because no label had a majority.
    """

    rows_in: int
    duplicates_dropped: int
    conflict_texts: int
    conflict_rows_dropped: int
    conflict_ties: int


@dataclass(frozen=True)
class CatalogTerms:
    """Product names and category paths read from a catalog file."""

    names: tuple[str, ...]
    category_paths: tuple[tuple[str, ...], ...]


# --- text building ------------------------------------------------------------------------------
def sanitize_text(text: str) -> str:
    """Make text safe for Rasa's annotation syntax and YAML block scalars.

    Square brackets and braces become parentheses (Rasa would read ``[x](y)`` or ``[x]{...}`` as
    an entity), control characters become spaces or are dropped, whitespace runs collapse.

    Args:
        text: Any text.

    Returns:
        The sanitized text (may be shorter than the input).
    """
    text = text.translate(_SANITIZE)
    text = "".join(ch for ch in text if ch.isprintable())
    return " ".join(text.split())


def _build(pieces: Iterable[tuple[str, str | None]]) -> tuple[str, tuple[EntitySpan, ...]]:
    """Concatenate ``(text, entity_or_None)`` pieces into sanitized text plus entity spans."""
    text = ""
    spans: list[EntitySpan] = []
    for raw, entity in pieces:
        piece = raw.translate(_SANITIZE)
        piece = "".join(ch for ch in piece if ch.isprintable())
        if entity is None:
            piece = re.sub(r"\s+", " ", piece)
            if not text or text.endswith(" "):
                piece = piece.lstrip(" ")
            text += piece
            continue
        piece = " ".join(piece.split())
        if not piece:
            continue
        start = len(text)
        text += piece
        spans.append(EntitySpan(start, len(text), entity, piece))
    stripped = text.rstrip(" ")
    return stripped, tuple(s for s in spans if s.end <= len(stripped))


def _capitalise_sometimes(value: str, rng: random.Random, p: float = 0.2) -> str:
    return value.capitalize() if rng.random() < p else value


def _amount_number(rng: random.Random) -> str:
    base = rng.choice((*_PRICES[:-2], 35, 45, 65, 89, 129, 199))
    return f"{base - 1}.{rng.choice(_CENTS)}" if rng.random() < 0.55 else str(base)


def _placeholder_value(name: str, rng: random.Random) -> str:
    """A realistic value for one Bitext placeholder (raises for an unknown placeholder)."""
    if name == "Order Number":
        number = str(rng.randint(100000, 999999))
        return f"#{number}" if rng.random() < 0.25 else number
    if name == "Refund Amount":
        number = _amount_number(rng)
        return rng.choice((f"${number}", f"${number}", f"{number} dollars", f"€{number}", number))
    if name == "Person Name":
        first = rng.choice(_FIRST_NAMES)
        return first if rng.random() < 0.15 else f"{first} {rng.choice(_LAST_NAMES)}"
    if name == "Account Type":
        return _capitalise_sometimes(rng.choice(_ACCOUNT_TYPES), rng)
    if name == "Account Category":
        return _capitalise_sometimes(rng.choice(_ACCOUNT_CATEGORIES), rng)
    if name == "Delivery City":
        city = rng.choice(_CITIES)
        return city.lower() if rng.random() < 0.2 else city
    if name == "Delivery Country":
        return rng.choice(_COUNTRIES)
    if name == "Invoice Number":
        return f"INV-{rng.choice((2023, 2024, 2025))}-{rng.randint(0, 999999):06d}"
    if name == "Currency Symbol":
        return rng.choice(("$", "$", "€", "£"))
    raise ValueError(
        f"placeholder={{{{{name}}}}} is not a known Bitext placeholder; add it to "
        f"PLACEHOLDER_ENTITIES and _placeholder_value in training/prepare_nlu.py."
    )


def clean_placeholders(text: str) -> str:
    """Replace every ``{{Placeholder}}`` with the name of its entity (the template skeleton).

    Args:
        text: A Bitext utterance, e.g. ``"cancel order {{Order Number}}"``.

    Returns:
        e.g. ``"cancel order order_number"``; unknown placeholders become ``"entity"``.
    """
    return _PLACEHOLDER_RE.sub(
        lambda m: f" {PLACEHOLDER_ENTITIES.get(m.group(1).strip(), 'entity')} ", text
    )


def fill_placeholders(text: str, rng: random.Random) -> tuple[str, tuple[EntitySpan, ...]]:
    """Replace Bitext placeholders with realistic values and annotate them as entities.

    ``{{Currency Symbol}}{{Refund Amount}}`` becomes one ``amount`` ("$49.99", "€120"), and a
    currency word after ``{{Refund Amount}}`` ("49.99 dollars") is kept inside the span. A
    placeholder glued to a word ("invoice{{Invoice Number}}") gets a space so that the entity
    aligns with tokens. The text is sanitized (see :func:`sanitize_text`).

    Args:
        text: A Bitext utterance with ``{{...}}`` placeholders.
        rng: The random source; seed it for reproducible values.

    Returns:
        The filled text and its entity spans, with ``text[start:end] == value`` for each.

    Raises:
        ValueError: If ``text`` holds a placeholder not in ``PLACEHOLDER_ENTITIES``.
    """
    text = re.sub(r"(?<=\w)\{\{", " {{", text)
    text = re.sub(r"\}\}(?=\w)", "}} ", text)
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in _FILL_RE.finditer(text):
        pieces.append((text[position : match.start()], None))
        position = match.end()
        name = match.group("name")
        if match.group("money"):
            symbol = rng.choice(("$", "$", "$", "€", "£"))
            pieces.append((f"{symbol}{_amount_number(rng)}", "amount"))
        elif name is None:
            unit = match.group("unit")
            value = _amount_number(rng) + unit if unit else _placeholder_value("Refund Amount", rng)
            pieces.append((value, "amount"))
        elif name.strip() == "Currency Symbol":  # a lone symbol is not an amount
            pieces.append((_placeholder_value("Currency Symbol", rng), None))
        else:
            entity = PLACEHOLDER_ENTITIES.get(name.strip())
            value = _placeholder_value(name.strip(), rng)  # raises for unknown placeholders
            pieces.append((value, entity))
    pieces.append((text[position:], None))
    return _build(pieces)


# --- Rasa annotation ----------------------------------------------------------------------------
def to_rasa_annotation(text: str, entities: Sequence[EntitySpan]) -> str:
    """Render text with entities in Rasa's markdown-style annotation, e.g. ``[100234](order_number)``.

    Args:
        text: The plain utterance (sanitized; brackets are replaced defensively anyway, which
            keeps the length and so the offsets).
        entities: Non-overlapping spans with ``text[start:end] == value``.

    Returns:
        The annotated example line.

    Raises:
        ValueError: If a span is out of range, overlaps another, or does not match its value.
    """
    safe = text.translate(_SANITIZE)
    out: list[str] = []
    position = 0
    for span in sorted(entities, key=lambda s: s.start):
        if (
            span.start < position
            or span.end > len(text)
            or text[span.start : span.end] != span.value
        ):
            raise ValueError(
                f"entities={span!r} does not fit text={text!r} (overlap, out of range, or "
                f"text[start:end] != value); build spans with fill_placeholders/parse_rasa_annotation."
            )
        out.append(safe[position : span.start])
        out.append(f"[{safe[span.start : span.end]}]({span.entity})")
        position = span.end
    out.append(safe[position:])
    return "".join(out)


def parse_rasa_annotation(line: str) -> tuple[str, tuple[EntitySpan, ...]]:
    """Parse one ``[text](entity)``-annotated example into plain text and spans.

    Only the short ``[text](entity)`` form is supported (no synonyms, roles or groups).

    Args:
        line: An example line without the leading ``- ``.

    Returns:
        The sanitized plain text and its entity spans.
    """
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in _ANNOTATION_RE.finditer(line):
        pieces.append((line[position : match.start()], None))
        pieces.append((match.group("text"), match.group("entity").strip()))
        position = match.end()
    pieces.append((line[position:], None))
    return _build(pieces)


# --- reading sources ----------------------------------------------------------------------------
def read_bitext(path: Path) -> list[NluExample]:
    """Read the Bitext CSV (``text,category``) as raw examples (placeholders still in the text).

    Args:
        path: The CSV file.

    Returns:
        One example per row, in file order, with ``source="bitext"``.

    Raises:
        ValueError: If the CSV lacks the ``text`` or ``category`` column.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "category"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"bitext_csv={str(path)!r} lacks columns {sorted(missing)}; expected the Bitext "
                f"v11 file with columns text,category (data/demo/bitext/v11_instruction_intent.csv)."
            )
        return [
            NluExample(text=row["text"], intent=row["category"].strip(), source="bitext")
            for row in reader
            if row["text"] and row["text"].strip()
        ]


def _load_yaml(path: Path) -> Any:
    import yaml  # local import: only the readers need it

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def read_handwritten(path: Path) -> list[NluExample]:
    """Read a hand-written source file (Rasa NLU blocks under the top-level key ``nlu_source``).

    Args:
        path: A YAML file such as ``bot/data/nlu/chitchat.yml``.

    Returns:
        The examples in file order, with ``source="handwritten"``.

    Raises:
        ValueError: If the file has no ``nlu_source`` list or a block lacks ``intent``/``examples``.
    """
    data = _load_yaml(path)
    blocks = data.get(SOURCE_KEY) if isinstance(data, dict) else None
    if not isinstance(blocks, list):
        raise ValueError(
            f"source file={str(path)!r} has no '{SOURCE_KEY}:' list; write "
            f"'{SOURCE_KEY}:' followed by '- intent: X' / 'examples: |' blocks (see chitchat.yml)."
        )
    examples: list[NluExample] = []
    for block in blocks:
        if not isinstance(block, dict) or "intent" not in block or "examples" not in block:
            raise ValueError(
                f"source file={str(path)!r} block={block!r} needs 'intent' and 'examples' keys."
            )
        for line in str(block["examples"]).splitlines():
            line = line.strip()
            if not line.startswith("-"):
                continue
            text, spans = parse_rasa_annotation(line[1:].strip())
            if text:
                examples.append(NluExample(text, str(block["intent"]), spans, source="handwritten"))
    return examples


def load_product_templates(path: Path) -> dict[str, list[str]]:
    """Read the catalog templates (``product_templates: {intent: [template, ...]}``).

    Args:
        path: ``bot/data/nlu/product_templates.yml``.

    Returns:
        Templates per intent, in file order.

    Raises:
        ValueError: If the file lacks the ``product_templates`` mapping.
    """
    data = _load_yaml(path)
    templates = data.get(TEMPLATES_KEY) if isinstance(data, dict) else None
    if not isinstance(templates, dict):
        raise ValueError(
            f"templates file={str(path)!r} has no '{TEMPLATES_KEY}:' mapping of intent → list of "
            f"templates; see bot/data/nlu/product_templates.yml."
        )
    for intent, items in templates.items():
        bad = [t for t in items or () if not isinstance(t, str)]
        if not items or bad:
            raise ValueError(
                f"templates file={str(path)!r} intent={intent!r} needs a list of strings; got "
                f"{bad or items!r} (quote templates that contain ': ' or start with '{{')."
            )
    return {str(intent): list(items) for intent, items in templates.items()}


def load_catalog_terms(path: Path) -> CatalogTerms:
    """Read product names and category paths from the normalised catalog or the demo CSV.

    Args:
        path: ``var/store/catalog.jsonl`` (JSON lines with ``name`` and ``category`` list) or a
            CSV with ``Product Name`` and ``Category`` (``"A | B | C"``) columns.

    Returns:
        Names and category paths, in file order.

    Raises:
        ValueError: If the file is neither format.
    """
    names: list[str] = []
    paths: list[tuple[str, ...]] = []
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                product = json.loads(line)
                if "name" not in product:
                    raise ValueError(
                        f"catalog={str(path)!r} line {number} has no 'name'; expected one "
                        f"Product per line (docs/CONVENTIONS.md)."
                    )
                names.append(str(product["name"]))
                category = product.get("category") or ()
                paths.append(tuple(str(c) for c in category))
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if "Product Name" not in (reader.fieldnames or ()):
                raise ValueError(
                    f"catalog={str(path)!r} has no 'Product Name' column; pass the demo CSV "
                    f"data/demo/catalog/amazon_products_sample1000.csv or var/store/catalog.jsonl."
                )
            for row in reader:
                names.append(row["Product Name"])
                paths.append(
                    tuple(p.strip() for p in (row.get("Category") or "").split("|") if p.strip())
                )
    else:
        raise ValueError(
            f"catalog={str(path)!r} must be a .jsonl (normalised catalog) or .csv (demo) file."
        )
    return CatalogTerms(tuple(n for n in names if n.strip()), tuple(paths))


# --- catalog-generated intents ------------------------------------------------------------------
def _mention_words(name: str) -> list[str]:
    """The words of a catalog title up to its first separator, without quotes or lone symbols."""
    segments = _MENTION_CUT_RE.split(name)
    head = segments[0]
    for segment in segments[1:]:  # a lone word ("Candylocks, 3-pack") takes the next segment too
        if len(head.split()) >= 2:
            break
        head = f"{head} {segment}"
    words = sanitize_text(_MENTION_DROP_RE.sub(" ", head)).split()
    return [w for w in words if any(ch.isalnum() for ch in w)]


def _trim_mention(words: list[str]) -> str:
    words = list(words)
    while len(words) > 1 and words[-1].lower() in _MENTION_TRAILING_WORDS:
        words.pop()
    return re.sub(r"^\W+|\W+$", "", " ".join(words))


def product_lookup(product_names: Iterable[str]) -> list[str]:
    """Lookup-table entries for the ``product`` entity: each title's first three words.

    Args:
        product_names: Catalog product names.

    Returns:
        Sorted distinct entries, as written and lower-cased (Rasa lookups are case-sensitive
        by default).
    """
    entries: set[str] = set()
    for name in product_names:
        mention = _trim_mention(_mention_words(name)[:3])
        if len(mention) > 2:
            entries.update((mention, mention.lower()))
    return sorted(entries)


def short_product_mention(name: str, rng: random.Random) -> str:
    """Shorten a catalog title to what a shopper would type: its first 3–6 words.

    The title is cut at separators (" - ", commas, brackets, "with"/"for"), quotes and
    trademark signs are dropped, and trailing joining words are trimmed.

    Args:
        name: A catalog product name.
        rng: The random source (chooses the length and, sometimes, lower case).

    Returns:
        A short mention such as ``"Snap Circuits Mini Kits"``.
    """
    mention = _trim_mention(_mention_words(name)[: rng.randint(3, 6)]) or sanitize_text(name)
    return mention.lower() if rng.random() < 0.3 else mention


def category_keywords(category_paths: Iterable[Sequence[str]]) -> list[str]:
    """Turn catalog category paths into shopper keywords ("board games", "plush toys").

    Each path node is split at "&" and commas, lower-cased; generic nodes ("accessories",
    "girls", "toys & games") and phrases over three words are dropped.

    Args:
        category_paths: Category paths, root first.

    Returns:
        The distinct keywords, sorted.
    """
    keywords: set[str] = set()
    for path in category_paths:
        for node in path:
            node_lower = node.strip().lower()
            if not node_lower or node_lower in _GENERIC_CATEGORIES:
                continue
            for part in re.split(r"\s*&\s*|\s*,\s*|\s+and\s+", node_lower):
                part = sanitize_text(part).strip(" .'-")
                if part and part not in _GENERIC_CATEGORIES and len(part.split()) <= 3:
                    keywords.add(part)
    return sorted(keywords)


_AMOUNT_FORMS = ("$V", "$V", "$V", "$V", "V dollars", "V dollars", "V bucks", "€V", "$V.99")


def _amount_phrase(value: int, form: str) -> str:
    """Render a price in a shopper's style: ``$25``, ``25 dollars``, ``25 bucks``, ``€25``..."""
    return form.replace("V", str(value - 1 if form.endswith(".99") else value))


def generate_product_examples(
    product_names: Sequence[str],
    category_paths: Sequence[Sequence[str]],
    templates: Mapping[str, Sequence[str]],
    n_per_intent: int,
    seed: int,
) -> list[NluExample]:
    """Fill product templates with catalog names, category keywords and prices.

    Templates are used round-robin so each appears about equally often; a template without
    slots is used once. Each template is its own paraphrase group (``"<intent>/t<index>"``).

    Args:
        product_names: Catalog product names (a list works; so does ``CatalogTerms.names``).
        category_paths: Category paths for the search keywords.
        templates: Templates per intent, with ``{product}``, ``{product2}``, ``{category}``,
            ``{amount}``, ``{amount2}`` slots.
        n_per_intent: Examples to generate per intent (before dedup).
        seed: Seed of the random source.

    Returns:
        The examples (``source="catalog"``), products annotated as ``product`` and prices as
        ``amount``.

    Raises:
        ValueError: If a template needs products or categories and none were given.
    """
    keywords = category_keywords(category_paths)
    examples: list[NluExample] = []
    for intent in sorted(templates):
        rng = random.Random(f"{seed}:catalog:{intent}")
        intent_templates = list(templates[intent])
        for index in range(n_per_intent):
            t_index = index % len(intent_templates)
            template = intent_templates[t_index]
            slots = _TEMPLATE_SLOT_RE.findall(template)
            if not slots and index >= len(intent_templates):
                continue
            if any(s.startswith("product") for s in slots) and not product_names:
                raise ValueError(
                    f"product_names is empty but template={template!r} needs {{product}}; pass "
                    f"the catalog's product names (load_catalog_terms)."
                )
            if "category" in slots and not keywords:
                raise ValueError(
                    f"category_paths gave no keywords but template={template!r} needs "
                    f"{{category}}; pass the catalog's category paths (load_catalog_terms)."
                )
            first = rng.choice(product_names) if product_names else ""
            second = (
                rng.choice([n for n in product_names if n != first] or [first]) if first else ""
            )
            form = rng.choice(_AMOUNT_FORMS)  # one style per utterance: "$20 and $40"
            value = rng.choice(_PRICES[:-1])
            value2 = rng.choice([p for p in _PRICES if p > value])
            values = {
                "product": (short_product_mention(first, rng) if first else "", "product"),
                "product2": (short_product_mention(second, rng) if second else "", "product"),
                "category": (rng.choice(keywords) if keywords else "", None),
                "amount": (_amount_phrase(value, form), "amount"),
                "amount2": (_amount_phrase(value2, form), "amount"),
            }
            pieces: list[tuple[str, str | None]] = []
            position = 0
            for match in _TEMPLATE_SLOT_RE.finditer(template):
                pieces.append((template[position : match.start()], None))
                pieces.append(values[match.group(1)])
                position = match.end()
            pieces.append((template[position:], None))
            text, spans = _build(pieces)
            examples.append(NluExample(text, intent, spans, f"{intent}/t{t_index:02d}", "catalog"))
    return examples


# --- dedup, groups, split -----------------------------------------------------------------------
def _dedup_key(text: str) -> str:
    return " ".join(text.lower().split())


def dedup_examples(examples: Sequence[NluExample]) -> tuple[list[NluExample], DedupStats]:
    """Drop exact duplicates (case- and whitespace-insensitive) and resolve cross-intent conflicts.

    Within an intent the first occurrence is kept. A text under several intents keeps the
    majority label (by raw row count); on a tie all copies are dropped.

    Args:
        examples: Examples in a stable order.

    Returns:
        The kept examples in input order, and what was dropped.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for example in examples:
        counts[_dedup_key(example.text)][example.intent] += 1
    winner: dict[str, str | None] = {}
    conflict_texts = conflict_rows = ties = 0
    for key, labels in counts.items():
        if len(labels) == 1:
            winner[key] = next(iter(labels))
            continue
        conflict_texts += 1
        ranked = labels.most_common()
        if ranked[0][1] == ranked[1][1]:
            winner[key] = None
            ties += 1
            conflict_rows += len(labels)
        else:
            winner[key] = ranked[0][0]
            conflict_rows += len(labels) - 1
    kept: list[NluExample] = []
    seen: set[str] = set()
    duplicates = 0
    for example in examples:
        key = _dedup_key(example.text)
        if winner[key] != example.intent:
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        kept.append(example)
    stats = DedupStats(len(examples), duplicates, conflict_texts, conflict_rows, ties)
    if conflict_texts:
        logger.warning(
            "%d texts appear under several intents: kept the majority label, dropped %d "
            "distinct copies (%d texts tied and were dropped entirely).",
            conflict_texts,
            conflict_rows,
            ties,
        )
    return kept, stats


def paraphrase_key(example: NluExample) -> str:
    """The text compared for paraphrase grouping: entities → entity names, lower case, no punctuation.

    Args:
        example: An example (raw Bitext text with placeholders, or filled text with spans).

    Returns:
        The normalised text (falls back to the lower-cased text when nothing else remains).
    """
    text = example.text
    for span in sorted(example.entities, key=lambda s: s.start, reverse=True):
        text = f"{text[: span.start]} {span.entity} {text[span.end :]}"
    text = clean_placeholders(text).lower()
    normalised = " ".join(_NON_WORD_RE.sub(" ", text).split())
    return normalised or example.text.lower()


class _UnionFind:
    """Union-find with union by size and a cap on the merged size."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int, cap: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b or self.size[root_a] + self.size[root_b] > cap:
            return
        if self.size[root_a] < self.size[root_b] or (
            self.size[root_a] == self.size[root_b] and root_b < root_a
        ):
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.size[root_a] += self.size[root_b]


def _tfidf(texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    return vectorizer.fit_transform(texts)


def _similar_pairs(texts: Sequence[str], threshold: float) -> list[tuple[float, int, int]]:
    """Pairs ``(similarity, i, j)`` with i < j and cosine ≥ threshold, most similar first."""
    if len(texts) < 2:
        return []
    try:
        matrix = _tfidf(texts)
    except ValueError:  # empty vocabulary: nothing to compare
        return []
    from scipy import sparse

    similarity = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    keep = similarity.data >= threshold - 1e-9
    sims = np.round(similarity.data[keep], 6)
    rows, cols = similarity.row[keep], similarity.col[keep]
    order = np.lexsort((cols, rows, -sims))
    return [(float(sims[k]), int(rows[k]), int(cols[k])) for k in order]


def assign_paraphrase_groups(
    examples: Sequence[NluExample],
    threshold: float = 0.7,
    max_group_fraction: float = 0.05,
) -> list[NluExample]:
    """Give every example without a group a paraphrase group id, per intent.

    Pairs within one intent whose character n-gram TF-IDF cosine (over :func:`paraphrase_key`)
    is at least ``threshold`` are merged with union-find, most similar first; a merge that would
    make a group larger than ``max(2, ceil(max_group_fraction * n_intent))`` is refused, so
    chains of templated variants cannot swallow an intent. Examples that already have a group
    (catalog templates) keep it.

    Args:
        examples: Examples in a stable order.
        threshold: Cosine similarity at or above which two texts are paraphrases, in (0, 1].
        max_group_fraction: Largest group, as a fraction of its intent's examples, in (0, 1].

    Returns:
        The examples in input order, each with a group ``"<intent>/<nnnn>"`` (or its own).

    Raises:
        ValueError: If ``threshold`` or ``max_group_fraction`` is outside (0, 1].
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1]. Currently, threshold is {threshold}.")
    if not 0 < max_group_fraction <= 1:
        raise ValueError(
            f"max_group_fraction must be in (0, 1]. Currently, max_group_fraction is "
            f"{max_group_fraction}."
        )
    by_intent: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        if not example.group:
            by_intent[example.intent].append(index)
    groups: dict[int, str] = {}
    progress = tqdm(
        sorted(by_intent),
        desc="paraphrase groups",
        unit="intent",
        disable=not logger.isEnabledFor(logging.INFO),
    )
    for intent in progress:
        indices = by_intent[intent]
        cap = max(2, math.ceil(max_group_fraction * len(indices)))
        union_find = _UnionFind(len(indices))
        for _, i, j in _similar_pairs([paraphrase_key(examples[k]) for k in indices], threshold):
            union_find.union(i, j, cap)
        numbering: dict[int, int] = {}
        for local, index in enumerate(indices):
            root = union_find.find(local)
            numbering.setdefault(root, len(numbering))
            groups[index] = f"{intent}/{numbering[root]:04d}"
    return [
        dataclasses.replace(example, group=groups[i]) if i in groups else example
        for i, example in enumerate(examples)
    ]


def split_grouped(
    rows: Sequence[NluExample], test_fraction: float, seed: int
) -> tuple[list[NluExample], list[NluExample]]:
    """Split into train and test by whole paraphrase groups, stratified by intent.

    Each group belongs to the intent most of its rows carry. Per intent, groups are shuffled
    (seeded) and a group goes to test when that brings the intent's test count closer to
    ``test_fraction`` of its rows; an intent with two or more groups always gets at least one
    group on each side.

    Args:
        rows: Examples with groups (see :func:`assign_paraphrase_groups`).
        test_fraction: Target share of each intent in the test split, in (0, 1).
        seed: Seed of the shuffle.

    Returns:
        ``(train, test)``, each in input order.

    Raises:
        ValueError: If ``test_fraction`` is outside (0, 1) or a row has no group.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"test_fraction must be in (0, 1). Currently, test_fraction is {test_fraction}."
        )
    members: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if not row.group:
            raise ValueError(
                f"rows[{index}]={row!r} has no group; call assign_paraphrase_groups first."
            )
        members[row.group].append(index)
    groups_of_label: dict[str, list[str]] = defaultdict(list)
    for group, indices in members.items():
        labels = Counter(rows[i].intent for i in indices).most_common()
        top = min(label for label, count in labels if count == labels[0][1])
        groups_of_label[top].append(group)
    test_groups: set[str] = set()
    for label in sorted(groups_of_label):
        groups = sorted(groups_of_label[label])
        random.Random(f"{seed}:split:{label}").shuffle(groups)
        total = sum(len(members[g]) for g in groups)
        target = test_fraction * total
        chosen: list[str] = []
        count = 0
        for group in groups:
            size = len(members[group])
            if abs(count + size - target) < abs(count - target):
                chosen.append(group)
                count += size
        if len(groups) >= 2:
            if not chosen:
                chosen = [min(groups, key=lambda g: (len(members[g]), g))]
            elif len(chosen) == len(groups):
                chosen.remove(max(chosen, key=lambda g: (len(members[g]), g)))
        test_groups.update(chosen)
    train = [row for row in rows if row.group not in test_groups]
    test = [row for row in rows if row.group in test_groups]
    return train, test


def near_duplicate_rate(
    train: Sequence[NluExample], test: Sequence[NluExample], threshold: float = 0.8
) -> float:
    """Share of test rows with a same-intent train row at TF-IDF cosine ≥ ``threshold``.

    A leakage measure for the split (a random split of Bitext scores about 0.68 at 0.8).

    Args:
        train: The train split.
        test: The test split.
        threshold: Cosine similarity that counts as a near duplicate.

    Returns:
        The share in [0, 1] (0.0 when ``test`` is empty).
    """
    train_keys: dict[str, list[str]] = defaultdict(list)
    test_keys: dict[str, list[str]] = defaultdict(list)
    for row in train:
        train_keys[row.intent].append(paraphrase_key(row))
    for row in test:
        test_keys[row.intent].append(paraphrase_key(row))
    hits = 0
    for intent, keys in test_keys.items():
        if not train_keys.get(intent):
            continue
        matrix = _tfidf(train_keys[intent] + keys)
        n_train = len(train_keys[intent])
        similarity = (matrix[n_train:] @ matrix[:n_train].T).max(axis=1).toarray().ravel()
        hits += int((similarity >= threshold).sum())
    return hits / len(test) if test else 0.0


def cap_per_intent(
    examples: Sequence[NluExample], limit: int | None, seed: int
) -> list[NluExample]:
    """Keep at most ``limit`` examples per intent, spread over as many groups as possible.

    Groups are visited in a seeded order, taking one example from each in turn, so a capped
    intent still covers many paraphrase groups.

    Args:
        examples: Examples with groups.
        limit: Maximum per intent; ``None`` keeps everything.
        seed: Seed of the group order.

    Returns:
        The kept examples, in input order.
    """
    if limit is None:
        return list(examples)
    by_intent: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    keep: set[int] = set()
    for index, example in enumerate(examples):
        if example.source == "seed":  # seed phrasings are never capped away
            keep.add(index)
            continue
        by_intent[example.intent][example.group].append(index)
    for intent in sorted(by_intent):
        groups = sorted(by_intent[intent])
        random.Random(f"{seed}:cap:{intent}").shuffle(groups)
        queues = [list(by_intent[intent][g]) for g in groups]
        taken = 0
        depth = 0
        while taken < limit and any(depth < len(q) for q in queues):
            for queue in queues:
                if depth < len(queue) and taken < limit:
                    keep.add(queue[depth])
                    taken += 1
            depth += 1
    return [example for index, example in enumerate(examples) if index in keep]


# --- writers ------------------------------------------------------------------------------------
def _yaml_block_lines(lines: Iterable[str]) -> list[str]:
    return [f"    - {line}" for line in lines]


def render_rasa_nlu(
    examples: Sequence[NluExample], lookups: Mapping[str, Sequence[str]] | None = None
) -> str:
    """Render examples (and lookup tables) as a Rasa 3.x NLU YAML document.

    Args:
        examples: Examples of one or more intents; written sorted by intent, then text.
        lookups: Optional lookup tables, name → elements.

    Returns:
        The YAML text (``version: "3.1"``, ``nlu:`` with ``- intent:`` / ``examples: |``).
    """
    by_intent: dict[str, list[NluExample]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    lines = [GENERATED_HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for intent in sorted(by_intent):
        rendered = sorted(
            {to_rasa_annotation(e.text, e.entities) for e in by_intent[intent]},
            key=lambda line: (line.lower(), line),
        )
        lines += [f"- intent: {intent}", "  examples: |", *_yaml_block_lines(rendered)]
    for name in sorted(lookups or {}):
        elements = sorted({sanitize_text(e) for e in (lookups or {})[name] if sanitize_text(e)})
        lines += [f"- lookup: {name}", "  examples: |", *_yaml_block_lines(elements)]
    return "\n".join(lines) + "\n"


def _write_if_changed(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(content, encoding="utf-8", newline="\n")
    temporary.replace(path)


def write_rasa_nlu(
    examples: Sequence[NluExample],
    out_dir: Path,
    preset: str,
    seed: int = 13,
    lookups: Mapping[str, Sequence[str]] | None = None,
) -> list[Path]:
    """Write the train split as Rasa NLU YAML, one file per topic, capped per intent by preset.

    Files: orders, refunds, delivery, account, payment, invoice, feedback, contact, newsletter,
    products, chitchat, inform, out_of_scope (``.yml``), plus ``lookups.yml`` when ``lookups``
    is given. Stale generated ``.yml`` files in ``out_dir`` are removed.

    Args:
        examples: The TRAIN split (never the test split: ``rasa test nlu`` must stay honest).
        out_dir: ``bot/data/nlu/generated/``.
        preset: ``tiny`` (25 per intent), ``demo`` (150) or ``full`` (all).
        seed: Seed of the per-intent selection.
        lookups: Optional lookup tables (e.g. ``{"product": [...]}``).

    Returns:
        The files written, sorted.

    Raises:
        ValueError: If ``preset`` is unknown or an intent has no topic in ``TOPIC_OF_INTENT``.
    """
    if preset not in PRESET_CAPS:
        raise ValueError(
            f"preset must be one of {sorted(PRESET_CAPS)}. Currently, preset is {preset!r}."
        )
    unknown = sorted({e.intent for e in examples} - set(TOPIC_OF_INTENT))
    if unknown:
        raise ValueError(
            f"intents {unknown} have no topic file; add them to TOPIC_OF_INTENT in "
            f"training/prepare_nlu.py."
        )
    capped = cap_per_intent(examples, PRESET_CAPS[preset], seed)
    by_topic: dict[str, list[NluExample]] = defaultdict(list)
    for example in capped:
        by_topic[TOPIC_OF_INTENT[example.intent]].append(example)
    written: list[Path] = []
    for topic in sorted(by_topic):
        path = out_dir / f"{topic}.yml"
        _write_if_changed(path, render_rasa_nlu(by_topic[topic]))
        written.append(path)
    if lookups:
        path = out_dir / "lookups.yml"
        _write_if_changed(path, render_rasa_nlu([], lookups))
        written.append(path)
    for stale in sorted(out_dir.glob("*.yml")):
        if stale not in written and stale.read_text(encoding="utf-8").startswith(GENERATED_HEADER):
            logger.info("removing stale generated file %s", stale)
            stale.unlink()
    return sorted(written)


def _csv_label(intent: str) -> str:
    return OOS_LABEL if intent == OOS_INTENT else intent


def write_split_csv(rows: Sequence[NluExample], path: Path) -> None:
    """Write ``text,label,group`` rows (``out_of_scope`` → ``oos``), sorted by label, group, text.

    Args:
        rows: The examples.
        path: The CSV file to write.
    """
    records = sorted(
        ((e.text, _csv_label(e.intent), e.group) for e in rows), key=lambda r: (r[1], r[2], r[0])
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("text", "label", "group"))
    writer.writerows(records)
    _write_if_changed(path, buffer.getvalue())


# --- entry point --------------------------------------------------------------------------------
def _default_catalog() -> Path:
    normalised = REPO_ROOT / "var" / "store" / "catalog.jsonl"
    return (
        normalised
        if normalised.exists()
        else REPO_ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
    )


@dataclass
class PrepareNluArgs:
    """Arguments of :func:`run_prepare_nlu` (and of ``python -m training.prepare_nlu``)."""

    bitext_csv: Path = field(
        default=REPO_ROOT / "data/demo/bitext/v11_instruction_intent.csv",
        metadata={"help": "Bitext CSV with columns text,category (category holds the intent)."},
    )
    catalog: Path | None = field(
        default=None,
        metadata={
            "help": "Product names source: var/store/catalog.jsonl (normalised catalog) or a CSV "
            "with 'Product Name'/'Category'. Default: the jsonl when it exists, else "
            "data/demo/catalog/amazon_products_sample1000.csv."
        },
    )
    source_dir: Path = field(
        default=REPO_ROOT / "bot/data/nlu",
        metadata={"help": "Folder with the hand-written sources and product_templates.yml."},
    )
    rasa_out_dir: Path = field(
        default=REPO_ROOT / "bot/data/nlu/generated",
        metadata={"help": "Where the Rasa NLU YAML of the train split goes (one file per topic)."},
    )
    csv_out_dir: Path = field(
        default=REPO_ROOT / "var/nlu",
        metadata={"help": "Where train.csv, test.csv, oos_train.csv, test.yml, stats.json go."},
    )
    preset: str = field(
        default="demo",
        metadata={
            "help": "Cap per intent for the Rasa files: tiny=25, demo=150, full=all.",
            "choices": sorted(PRESET_CAPS),
        },
    )
    seed: int = field(default=13, metadata={"help": "Seed of every random choice."})
    test_fraction: float = field(
        default=0.2, metadata={"help": "Share of each intent held out for test, in (0, 1)."}
    )
    similarity_threshold: float = field(
        default=0.7,
        metadata={"help": "Char n-gram TF-IDF cosine at which two texts are paraphrases, (0, 1]."},
    )
    max_group_fraction: float = field(
        default=0.05,
        metadata={"help": "Largest paraphrase group as a share of its intent, (0, 1]."},
    )
    product_examples: int = field(
        default=800,
        metadata={"help": "Examples generated per catalog intent (product_question/search)."},
    )

    def __post_init__(self) -> None:
        """Resolve defaults, coerce paths and check every value."""
        self.bitext_csv = Path(self.bitext_csv)
        self.catalog = Path(self.catalog) if self.catalog is not None else _default_catalog()
        self.source_dir = Path(self.source_dir)
        self.rasa_out_dir = Path(self.rasa_out_dir)
        self.csv_out_dir = Path(self.csv_out_dir)
        if self.preset not in PRESET_CAPS:
            raise ValueError(
                f"preset must be one of {sorted(PRESET_CAPS)}. Currently, preset is {self.preset!r}."
            )
        if not 0 < self.test_fraction < 1:
            raise ValueError(
                f"test_fraction must be in (0, 1). Currently, test_fraction is {self.test_fraction}."
            )
        if not 0 < self.similarity_threshold <= 1:
            raise ValueError(
                f"similarity_threshold must be in (0, 1]. Currently, similarity_threshold is "
                f"{self.similarity_threshold}."
            )
        if not 0 < self.max_group_fraction <= 1:
            raise ValueError(
                f"max_group_fraction must be in (0, 1]. Currently, max_group_fraction is "
                f"{self.max_group_fraction}."
            )
        if self.product_examples < 1:
            raise ValueError(
                f"product_examples must be at least 1. Currently, product_examples is "
                f"{self.product_examples}."
            )
        for name in ("bitext_csv", "catalog"):
            path = getattr(self, name)
            if not path.is_file():
                raise ValueError(
                    f"{name}={str(path)!r} does not exist; pass an existing file (see --help)."
                )
        for name in (*HANDWRITTEN_FILES, *SEED_FILES, PRODUCT_TEMPLATES_FILE):
            if not (self.source_dir / name).is_file():
                raise ValueError(
                    f"source_dir={str(self.source_dir)!r} lacks {name}; point it at bot/data/nlu."
                )


def _sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_prepare_nlu(args: PrepareNluArgs) -> dict[str, Any]:
    """Build all NLU data: Rasa YAML (train, capped by preset), test YAML and full-size CSVs.

    Args:
        args: The resolved arguments.

    Returns:
        Counts: rows read per source, duplicates and conflicts dropped, groups, train/test sizes
        per intent (Rasa label names), Rasa training examples per intent, the near-duplicate
        leak rate of the split, and the files written. Also saved as ``stats.json``.
    """
    catalog_path = args.catalog if args.catalog is not None else _default_catalog()
    config = {k: (_display(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    logger.info("prepare_nlu configuration: %s", json.dumps(config, sort_keys=True))

    bitext = read_bitext(args.bitext_csv)
    handwritten = [
        e for name in HANDWRITTEN_FILES for e in read_handwritten(args.source_dir / name)
    ]
    handwritten += [
        dataclasses.replace(e, source="seed")
        for name in SEED_FILES
        for e in read_handwritten(args.source_dir / name)
    ]
    terms = load_catalog_terms(catalog_path)
    templates = load_product_templates(args.source_dir / PRODUCT_TEMPLATES_FILE)
    catalog = generate_product_examples(
        terms.names, terms.category_paths, templates, args.product_examples, args.seed
    )
    logger.info(
        "read %d Bitext rows, %d hand-written examples, %d catalog products; generated %d "
        "catalog examples",
        len(bitext),
        len(handwritten),
        len(terms.names),
        len(catalog),
    )

    # Whitespace is collapsed before dedup so "rebating  {{X}}" equals "rebating {{X}}".
    bitext = [dataclasses.replace(e, text=" ".join(e.text.split())) for e in bitext]
    examples, dedup = dedup_examples([*bitext, *handwritten, *catalog])
    filled: list[NluExample] = []
    for example in examples:
        if example.source == "bitext":
            rng = random.Random(f"{args.seed}:fill:{example.intent}:{example.text}")
            text, spans = fill_placeholders(example.text, rng)
            example = dataclasses.replace(example, text=text, entities=spans)
        filled.append(example)
    grouped = assign_paraphrase_groups(filled, args.similarity_threshold, args.max_group_fraction)
    train, test = split_grouped(grouped, args.test_fraction, args.seed)
    # Seed phrasings are part of the assistant's design, not of the measured data: always train.
    train = [*train, *(e for e in test if e.source == "seed")]
    test = [e for e in test if e.source != "seed"]

    rasa_files = write_rasa_nlu(
        train, args.rasa_out_dir, args.preset, args.seed, {"product": product_lookup(terms.names)}
    )
    out = args.csv_out_dir
    write_split_csv([e for e in train if e.intent != OOS_INTENT], out / "train.csv")
    write_split_csv([e for e in train if e.intent == OOS_INTENT], out / "oos_train.csv")
    write_split_csv(test, out / "test.csv")
    _write_if_changed(out / "test.yml", render_rasa_nlu(test))

    rasa_counts = Counter(
        e.intent for e in cap_per_intent(train, PRESET_CAPS[args.preset], args.seed)
    )
    stats: dict[str, Any] = {
        "config": config,
        "inputs_sha256": _sha256(
            [
                args.bitext_csv,
                catalog_path,
                *(
                    args.source_dir / n
                    for n in (*HANDWRITTEN_FILES, *SEED_FILES, PRODUCT_TEMPLATES_FILE)
                ),
            ]
        ),
        "rows_read": {
            "bitext": len(bitext),
            "handwritten": len(handwritten),
            "catalog_generated": len(catalog),
            "catalog_products": len(terms.names),
        },
        "dedup": dataclasses.asdict(dedup),
        "examples": len(grouped),
        "examples_per_source": dict(sorted(Counter(e.source for e in grouped).items())),
        "groups": len({e.group for e in grouped}),
        "intents": len({e.intent for e in grouped}),
        "train_size": len(train),
        "test_size": len(test),
        "train_per_intent": dict(sorted(Counter(e.intent for e in train).items())),
        "test_per_intent": dict(sorted(Counter(e.intent for e in test).items())),
        "rasa_train_per_intent": dict(sorted(rasa_counts.items())),
        "test_near_duplicate_rate_cos80": round(near_duplicate_rate(train, test, 0.8), 4),
        "files": sorted(
            _display(p)
            for p in [
                *rasa_files,
                out / "train.csv",
                out / "oos_train.csv",
                out / "test.csv",
                out / "test.yml",
                out / "stats.json",
            ]
        ),
    }
    _write_if_changed(out / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    logger.info(
        "NLU data: %d examples (%d duplicates, %d conflict rows dropped), %d groups, "
        "train %d / test %d, test near-duplicate rate %.3f",
        stats["examples"],
        dedup.duplicates_dropped,
        dedup.conflict_rows_dropped,
        stats["groups"],
        stats["train_size"],
        stats["test_size"],
        stats["test_near_duplicate_rate_cos80"],
    )
    return stats


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse arguments, build the NLU data and return the counts of :func:`run_prepare_nlu`.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The counts dictionary.
    """
    args = parse_args(PrepareNluArgs, argv, "python -m training.prepare_nlu", _DESCRIPTION)
    return run_prepare_nlu(args)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    result = main(sys.argv[1:])
    summary = {k: v for k, v in result.items() if k not in ("config", "files")}
    print(json.dumps(summary, indent=2, sort_keys=True))
