"""Rasa's event-type lookup, from a table instead of a walk over every ``Event`` subclass.

Rasa 3.6's ``Event.resolve_by_type`` (used for every event of every tracker the SQL tracker store
reads back, and for every event an action server returns) lists all subclasses of ``Event``
recursively, drops the abstract ones with ``inspect.isabstract``, and compares type names one by
one: 5% of the Rasa server's CPU at 50 shoppers (py-spy, 2026-12-06). :func:`resolve_by_type`
answers from a table built from that same list, in the same order (the first class with a name
wins, as in Rasa's loop); a name it does not know rebuilds the table once (a subclass imported
later) and then gives Rasa's own answer (``topic``, the default, or its ``ValueError``).

Installed by :class:`bot.storage.tracker_store.ShopSQLTrackerStore`, so the throughput baseline
(Rasa's own SQL tracker store) keeps Rasa's lookup.
"""

from __future__ import annotations

import logging
from typing import Any

import rasa.shared.utils.common
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)

_RASA_LOOKUP = Event.resolve_by_type
_table: dict[str, type[Event]] = {}


def _build() -> dict[str, type[Event]]:
    table: dict[str, type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    return table


def resolve_by_type(type_name: str, default: type[Event] | None = None) -> Any:
    """``Event.resolve_by_type`` with the subclasses looked up in a table."""
    global _table
    found = _table.get(type_name)
    if found is None:
        _table = _build()
        found = _table.get(type_name)
    if found is not None:
        return found
    return _RASA_LOOKUP(type_name, default)


def install() -> bool:
    """Put :func:`resolve_by_type` in place of Rasa's; False when Rasa's is not the one expected."""
    current = Event.__dict__.get("resolve_by_type")
    function = getattr(current, "__func__", None)
    if function is resolve_by_type:
        return True
    if function is not _RASA_LOOKUP:
        logger.warning("Rasa's event type lookup is not the one expected; left as it is")
        return False
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    logger.info("Event types are looked up in a table")
    return True
