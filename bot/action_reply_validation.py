"""Check the action server's replies with one prebuilt JSON-schema validator, not one per call.

Rasa 3.6 checks every action server reply (``RemoteAction._validate_action_result``) with
``jsonschema.validate(result, schema)``, which first validates the schema itself against the
JSON-schema meta-schema and builds a new validator — on every call, for the same constant schema
(``RemoteAction.action_response_format_spec``, all of Rasa's event schemas). The profile of one
turn (docs/benchmarks/2026-12-04/profile/report.md) found that check to be 42–69% of the Rasa
server's CPU time per turn: ~34 ms per reply on this machine, ~0.5 ms with a validator built
once. Every ShopBot turn calls the action server at least once (``action_validate_slot_mappings``
runs on every turn).

:func:`install` replaces that one method with :func:`validate_action_result`, which does exactly
what ``jsonschema.validate`` does (the same validator class, the same ``best_match`` error, the
same message Rasa appends) with a validator checked and built once per process, and lets a
reply through after checking each event against its own kind's schema only
(:class:`EventDispatch`, the same answer; 2026-12-07). It is installed
by the ``ops`` channel at start-up (:mod:`bot.channels.ops`), and does nothing when Rasa's method
is not the one it replaces (another Rasa version): the reply is then checked as before.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot import rasa_methods

logger = logging.getLogger(__name__)

RASA_METHOD = RemoteAction._validate_action_result

# Appended to the error's message by Rasa 3.6's own method, kept word for word.
RASA_ERROR_SUFFIX = (
    f". Failed to validate Action server response from API, "
    f"make sure your response from the Action endpoint is valid. "
    f"For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)


@functools.cache
def reply_validator() -> Validator:
    """The validator of Rasa's action reply schema: the schema is checked once, here."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class EventDispatch:
    """The reply schema's check with each event matched against its own kind's schema only.

    Rasa's event schema is ``oneOf`` 23 alternatives, one per kind of event, so the full check
    tries every event against all 23 (~0.8 ms for a three-event reply, 5–7% of the Rasa server's
    CPU under the Throughput mix). Every alternative fixes ``event`` to its own constant and every
    event must have ``event``, so at most one alternative can hold for an event: the ``oneOf``
    holds exactly when the alternative named by the event's ``event`` does. :meth:`is_valid` is
    therefore the full check's answer; a reply it rejects goes through the full check, which gives
    Rasa's own error."""

    def __init__(self, schema: dict[str, Any]) -> None:
        cls = validator_for(schema)
        items = schema["properties"]["events"]["items"]
        alternatives = items["oneOf"]
        names = [alt["properties"]["event"]["const"] for alt in alternatives]
        if len(set(names)) != len(names) or "event" not in items["required"]:
            raise ValueError("the event alternatives are not told apart by their event name")
        base = {k: v for k, v in items.items() if k != "oneOf"}
        outer = {**schema, "properties": {**schema["properties"]}}
        outer["properties"]["events"] = {**schema["properties"]["events"], "items": base}
        self._outer = cls(outer)
        self._kinds = {name: cls(alt) for name, alt in zip(names, alternatives, strict=True)}

    def is_valid(self, result: Any) -> bool:
        if not self._outer.is_valid(result):
            return False
        for event in result.get("events") or ():
            kind = self._kinds.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


@functools.cache
def event_dispatch() -> EventDispatch | None:
    """The dispatching check of the reply schema; None when the schema does not allow it."""
    try:
        return EventDispatch(RemoteAction.action_response_format_spec())
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("Action replies are checked against every event schema (%s)", exc)
        return None


def validate_action_result(_: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``RemoteAction._validate_action_result``, with the prebuilt validator."""
    dispatch = event_dispatch()
    if dispatch is not None and dispatch.is_valid(result):
        return True
    error: ValidationError | None = best_match(reply_validator().iter_errors(result))
    if error is None:
        return True
    error.message += RASA_ERROR_SUFFIX
    raise error


def install() -> bool:
    """Use :func:`validate_action_result` for every action reply; True when it is in place."""
    reply_validator()  # build them now, not during the first shopper's turn
    event_dispatch()
    return rasa_methods.replace(
        RemoteAction,
        "_validate_action_result",
        validate_action_result,
        RASA_METHOD,
        "Action server replies are checked with a prebuilt JSON-schema validator",
    )
