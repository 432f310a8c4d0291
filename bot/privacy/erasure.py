"""Erasing and anonymising conversations in the tracker store and ShopBot's own tables.

:class:`Eraser` finds a shopper's conversations (by the verified customer's email, the email
anywhere in their text, or conversation ids) and deletes them: the application database first,
then the tracker store, so a run that stops halfway is found and finished by the next one (the
tracker still names the email). :class:`Anonymiser` masks them in place instead: every text of
every event and row goes through the masker, personal slots and entities become tokens, event
metadata (customer tokens, client hashes) is dropped, and each event is marked
``shopbot_anonymised`` so a later run skips it.

The store's order database is the store's system of record (orders, invoices, refunds, and its
own audit of order changes): it is never changed here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.privacy.app_rows import AppRows
from bot.privacy.directory import Person
from bot.privacy.masking import Masker, MaskerSource, token
from bot.privacy.tracker_rows import ANONYMISED_KEY, TrackerRows

logger = logging.getLogger(__name__)

# Slots that hold personal data whatever it looks like, and their mask.
PERSONAL_SLOTS = {
    "email": "email",
    "verified_customer": "email",
    "person_name": "name",
    "new_address": "address",
    "customer_token": "token",
}
PERSONAL_ENTITIES = {"email": "email", "person_name": "name", "new_address": "address"}
# Keys whose values are names of things (intents, actions, policies, channels), never text.
STRUCTURAL_KEYS = frozenset(
    {
        "event",
        "name",
        "policy",
        "input_channel",
        "message_id",
        "entity",
        "extractor",
        "processors",
        "utter_action",
        "kind",
        "model",
        "label",
    }
)


def email_digest(email: str, key: str) -> str:
    """A keyed hash of an email for the audit log (``hmac-sha256:<hex>``; the email itself is
    never written): whoever holds ``key`` can check whether an email was erased."""
    normalised = email.strip().lower().encode("utf-8")
    digest = hmac.new(key.encode("utf-8"), normalised, hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


@dataclass
class Outcome:
    """What an erasure or anonymisation did (or, in a dry run, would do)."""

    conversations: int = 0
    tracker_events: int = 0
    app_rows: dict[str, int] = field(default_factory=dict)

    def add(self, other: Outcome) -> None:
        """Add another batch's counts."""
        self.conversations += other.conversations
        self.tracker_events += other.tracker_events
        for name, n in other.app_rows.items():
            self.app_rows[name] = self.app_rows.get(name, 0) + n

    def to_dict(self) -> dict[str, Any]:
        """Counts only, for the audit log and the command's output."""
        return {
            "conversations": self.conversations,
            "tracker_events": self.tracker_events,
            "app_rows": dict(sorted(self.app_rows.items())),
        }


class Eraser:
    """Finds and deletes conversations everywhere ShopBot keeps them.

    Args:
        app: The application database's rows.
        tracker: Rasa's tracker store, writable.
    """

    def __init__(self, app: AppRows, tracker: TrackerRows) -> None:
        self.app = app
        self.tracker = tracker

    def find(self, email: str | None = None, conversation_ids: Iterable[str] = ()) -> list[str]:
        """The conversations to erase: those given, and with ``email`` those whose verified
        customer it is or whose text (messages, slots, entities, rows) contains it."""
        wanted = {c for c in conversation_ids if c}
        if email:
            wanted |= self.app.customer_conversations(email)
            wanted |= self.app.mentioning(email)
            wanted |= self.tracker.senders_mentioning(email)
        present = self.app.existing(sorted(wanted)) | self.tracker.existing(sorted(wanted))
        return sorted(present)

    def erase(self, conversation_ids: Sequence[str], dry_run: bool = False) -> Outcome:
        """Delete the conversations (``dry_run``: only count what would go)."""
        ids = list(conversation_ids)
        if dry_run:
            return Outcome(len(ids), self.tracker.count(ids), self.app.count(ids))
        app_rows = self.app.delete(ids)
        events = self.tracker.delete(ids)
        if ids:
            self.app.scrub()
            self.tracker.scrub()
        return Outcome(len(ids), events, app_rows)


class Anonymiser:
    """Masks conversations in place (the retention command's ``anonymise`` mode).

    Args:
        app: The application database's rows.
        tracker: Rasa's tracker store, writable.
        maskers: The masker over the store's customers.
    """

    def __init__(self, app: AppRows, tracker: TrackerRows, maskers: MaskerSource) -> None:
        self.app = app
        self.tracker = tracker
        self.maskers = maskers

    def anonymise(self, conversation_ids: Sequence[str], dry_run: bool = False) -> Outcome:
        """Mask every text of the conversations in the tracker store and the app database."""
        ids = list(conversation_ids)
        if dry_run:
            return Outcome(len(ids), self.tracker.count(ids), self.app.count(ids))
        masker = self.maskers.get(mask_orders=False)
        identities = {cid: self._identity(cid) for cid in ids}
        events = 0
        for cid in ids:
            identity = identities[cid]
            events += self.tracker.rewrite(
                cid,
                lambda data, i=identity: anonymise_event(data, masker, i),  # type: ignore[misc]
            )

        def mask(cid: str, value: Any) -> Any:
            return masker.mask_value(value, identities.get(cid))

        app_rows = self.app.anonymise(ids, mask)
        if ids:
            self.app.scrub()
            self.tracker.scrub()
        return Outcome(len(ids), events, app_rows)

    def _identity(self, conversation_id: str) -> Person | None:
        emails = self.app.customer_emails(conversation_id)
        return next((p for p in map(self.maskers.person, emails) if p is not None), None)


def anonymise_event(
    data: dict[str, Any], masker: Masker, identity: Person | None
) -> dict[str, Any]:
    """One tracker event (``event.as_dict()``) with its personal data masked and marked."""
    kind = data.get("event")
    out = _mask_tree(data, masker, identity)
    if kind == "slot" and data.get("value") is not None:
        personal = PERSONAL_SLOTS.get(str(data.get("name")))
        if personal:
            out["value"] = token(personal)
    if kind == "user":
        parse = out.get("parse_data")
        if isinstance(parse, dict):
            parse["metadata"] = {}
            for entity in parse.get("entities") or []:
                personal = PERSONAL_ENTITIES.get(str(entity.get("entity")))
                if isinstance(entity, dict) and personal:
                    entity["value"] = token(personal)
        out["metadata"] = {}
    metadata = out.get("metadata")
    out["metadata"] = {**(metadata if isinstance(metadata, dict) else {}), ANONYMISED_KEY: True}
    return out


def _mask_tree(value: Any, masker: Masker, identity: Person | None) -> Any:
    if isinstance(value, str):
        return masker.mask(value, identity)
    if isinstance(value, dict):
        return {
            k: v if k in STRUCTURAL_KEYS else _mask_tree(v, masker, identity)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_tree(v, masker, identity) for v in value]
    return value
