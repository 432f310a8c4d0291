"""The intents and entities of the assistant's domain (``bot/domain/*.yml``), read with YAML.

The console imports no Rasa, so it reads the domain files itself; they change only with a new
release, so the names are read once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

DOMAIN_DIR = Path(__file__).resolve().parents[1] / "domain"
# Rasa's fallback intent, and ask_faq (only ever a button's payload, never what a typed message
# means): never a right answer for a shopper turn.
NOT_CORRECTABLE = frozenset({"nlu_fallback", "ask_faq"})


@dataclass(frozen=True)
class DomainNames:
    """The domain's intents (sorted; ``out_of_scope`` always among them) and entities."""

    intents: tuple[str, ...]
    entities: frozenset[str]


def _names(values: object) -> list[str]:
    """Names from a domain list (``- greet`` or ``- greet: {use_entities: []}``)."""
    names: list[str] = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, dict):
            names.extend(str(key) for key in value)
    return names


@functools.lru_cache(maxsize=4)
def domain_names(directory: Path = DOMAIN_DIR) -> DomainNames:
    """The intents and entities declared in ``directory``'s ``*.yml`` files."""
    intents: set[str] = {"out_of_scope"}
    entities: set[str] = set()
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict):
            intents.update(_names(data.get("intents")))
            entities.update(_names(data.get("entities")))
    return DomainNames(tuple(sorted(intents - NOT_CORRECTABLE)), frozenset(entities))
