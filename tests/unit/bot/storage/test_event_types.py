"""The event-type table answers exactly what Rasa's subclass walk answers."""

from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import Event, SlotSet, UserUttered

from bot.storage import event_types


def test_every_event_type_resolves_to_rasas_class() -> None:
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert len(names) > 20  # user, bot, action, slot, pause, resume, session_started, ...
    for name in sorted(names):
        assert event_types.resolve_by_type(name) is event_types._RASA_LOOKUP(name)


def test_unknown_names_get_rasas_answer() -> None:
    assert event_types.resolve_by_type("topic") is None  # Rasa's backwards compatibility
    assert event_types.resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        event_types.resolve_by_type("no_such_event")


def test_a_subclass_defined_later_is_found() -> None:
    class StoreNote(SlotSet):  # a store's own event type, imported after the table was built
        type_name = "shopbot_test_store_note"

    assert event_types.resolve_by_type("user") is UserUttered  # the table exists now
    assert event_types.resolve_by_type("shopbot_test_store_note") is StoreNote


def test_install_replaces_rasas_lookup_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(event_types._RASA_LOOKUP))
    assert event_types.install()
    assert Event.resolve_by_type is event_types.resolve_by_type
    assert event_types.install()  # idempotent
    assert isinstance(
        Event.from_parameters({"event": "user", "text": "hi", "parse_data": {}}), UserUttered
    )


def test_install_leaves_an_unknown_lookup_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def other(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        return default

    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(other))
    assert not event_types.install()
    assert Event.resolve_by_type is other
