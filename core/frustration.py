"""Frustration over the last user turns, from the sentiment and intents already in the tracker.

Each user turn scores the strongest of: negative sentiment (its confidence, from the
``sentiment`` parse data that ``bot.nlu.sentiment.BertSentimentAnalyzer`` adds; not for a yes or
a no, see :class:`FrustrationConfig`), an escalation
intent (``complaint``, ``human_handoff``: 1.0) and a fallback (``nlu_fallback``,
``out_of_scope``: 0.6). The frustration score is the recency-weighted mean over the last
``window`` user turns, missing turns counting 0 (so one bad first message is not enough), plus a
bonus per repeated fallback. Turns before the session start, a restart, or the last offer of a
human (``utter_offer_human``, ``action_handoff``) are ignored, so the offer is not repeated
every turn.

Pure functions of the tracker's events as dicts (as Rasa's ``Event.as_dict`` and the SDK's
``Tracker.events`` give them), so the Rasa server (:mod:`bot.local_slot_validation`) and the
action server (:mod:`actions.sentiment`) compute the same slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class FrustrationConfig:
    """Weights of the frustration score.

    Args:
        window: User turns considered (the latest included).
        threshold: Score at or above which the shopper counts as frustrated.
        recency_decay: Weight factor per turn back in time (latest turn weighs 1).
        escalation_intents: Intents that score 1.0 (explicit unhappiness).
        fallback_intents: Intents that mean the bot did not understand.
        fallback_weight: Score of a fallback turn.
        repeated_fallback_bonus: Added per fallback turn beyond the first in the window.
        reset_actions: Actions after which earlier turns no longer count.
        sentiment_blind_intents: Answers to the bot's own questions, whose sentiment does not
            count. The sentiment model reads a plain no as negative ("no, keep it" 0.94, "no
            that's all" 0.97, 7 of dev2's 8 denials) and an angry one as often as not as
            positive, so two declined offers in a row offered a human.
    """

    window: int = 3
    threshold: float = 0.5
    recency_decay: float = 0.7
    escalation_intents: frozenset[str] = frozenset({"complaint", "human_handoff"})
    fallback_intents: frozenset[str] = frozenset({"nlu_fallback", "out_of_scope"})
    fallback_weight: float = 0.6
    repeated_fallback_bonus: float = 0.25
    reset_actions: frozenset[str] = frozenset({"utter_offer_human", "action_handoff"})
    sentiment_blind_intents: frozenset[str] = frozenset({"affirm", "deny"})


DEFAULT_CONFIG = FrustrationConfig()
ANSWERED_OUTCOMES = ("generated", "passage", "assistant", "store_settings")
"""``knowledge_sources`` outcomes that answered the message: a verified answer, the assistant's
own description ("what can you do?", ``actions.capabilities``), or the store's shipping fees ("is
the shipping free?", ``actions.shipping_cost``)."""
_RESET_EVENTS = {"session_started", "restart"}


def turn_sentiment(parse_data: Mapping[str, Any]) -> tuple[str | None, float]:
    """Return (label, confidence) from the ``sentiment`` parse data, else the ``sentiment`` entity."""
    sentiment = parse_data.get("sentiment")
    if isinstance(sentiment, Mapping) and sentiment.get("label"):
        return str(sentiment["label"]), float(sentiment.get("confidence") or 0.0)
    for entity in parse_data.get("entities") or []:
        if entity.get("entity") == "sentiment":
            return str(entity.get("value")), float(entity.get("confidence") or 1.0)
    return None, 0.0


def turn_score(
    event: Mapping[str, Any], config: FrustrationConfig = DEFAULT_CONFIG, answered: bool = False
) -> float:
    """Score one ``user`` event in [0, 1]; a fallback the store's knowledge ``answered`` (an open
    question, ``action_answer_open_question``) is not a turn the bot failed."""
    parse_data = event.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get("name")
    label, confidence = turn_sentiment(parse_data)
    negative = (
        confidence if label == "negative" and intent not in config.sentiment_blind_intents else 0.0
    )
    escalation = 1.0 if intent in config.escalation_intents else 0.0
    failed = intent in config.fallback_intents and not answered
    fallback = config.fallback_weight if failed else 0.0
    return max(negative, escalation, fallback)


def answered_turns(events: Iterable[Mapping[str, Any]]) -> set[int]:
    """``id()`` of the user events the store's knowledge answered: followed, before the next user
    message, by a ``knowledge_sources`` slot whose outcome is an answer (:data:`ANSWERED_OUTCOMES`,
    not ``unknown``)."""
    answered: set[int] = set()
    last_user: Mapping[str, Any] | None = None
    for event in events:
        kind = event.get("event")
        if kind == "user":
            last_user = event
        elif kind == "slot" and event.get("name") == "knowledge_sources" and last_user is not None:
            outcome = (event.get("value") or {}).get("outcome")
            if outcome in ANSWERED_OUTCOMES:
                answered.add(id(last_user))
    return answered


def recent_user_turns(
    events: Iterable[Mapping[str, Any]], config: FrustrationConfig = DEFAULT_CONFIG
) -> list[Mapping[str, Any]]:
    """Return the last ``window`` user events since the last reset, newest first."""
    turns: list[Mapping[str, Any]] = []
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind in _RESET_EVENTS or (
            kind == "action" and event.get("name") in config.reset_actions
        ):
            break
        if kind == "user":
            turns.append(event)
            if len(turns) == config.window:
                break
    return turns


def frustration_score(
    events: Iterable[Mapping[str, Any]], config: FrustrationConfig = DEFAULT_CONFIG
) -> float:
    """Return the frustration score in [0, 1] for a tracker's events (Rasa SDK event dicts)."""
    events = list(events)
    turns = recent_user_turns(events, config)
    answered = answered_turns(events)
    weights = [config.recency_decay**i for i in range(config.window)]
    weighted = sum(
        w * turn_score(t, config, id(t) in answered) for w, t in zip(weights, turns, strict=False)
    )
    score = weighted / sum(weights)
    fallbacks = sum(
        1
        for t in turns
        if ((t.get("parse_data") or {}).get("intent") or {}).get("name") in config.fallback_intents
        and id(t) not in answered
    )
    score += config.repeated_fallback_bonus * max(0, fallbacks - 1)
    return min(1.0, score)


def is_frustrated(
    events: Iterable[Mapping[str, Any]], config: FrustrationConfig = DEFAULT_CONFIG
) -> bool:
    """Whether the frustration score reaches ``config.threshold``."""
    return frustration_score(events, config) >= config.threshold


FRUSTRATION_SLOTS = ("frustrated", "frustration_score", "frustration_cause")


def frustration_cause(
    events: Iterable[Mapping[str, Any]], config: FrustrationConfig = DEFAULT_CONFIG
) -> str:
    """``"unhappy"`` when a recent turn is negative or an escalation, else ``"not_helped"``: only
    fallbacks in a row (a calm shopper the bot could not help), so the offer of a human does not
    call them frustrated."""
    unhappy = replace(config, fallback_intents=frozenset())
    for turn in recent_user_turns(events, config):
        if turn_score(turn, unhappy) > 0:
            return "unhappy"
    return "not_helped"


def frustration_slots(
    events: Iterable[Mapping[str, Any]], config: FrustrationConfig = DEFAULT_CONFIG
) -> dict[str, Any]:
    """``{"frustrated": bool, "frustration_score": float, "frustration_cause": str | None}`` for
    a tracker's events: what ``action_validate_slot_mappings`` sets after every message (here, or
    in the Rasa server itself: :mod:`bot.local_slot_validation`). The cause
    (:func:`frustration_cause`) is set only while frustrated."""
    events = list(events)
    score = frustration_score(events, config)
    frustrated = score >= config.threshold
    return {
        "frustrated": frustrated,
        "frustration_score": round(score, 3),
        "frustration_cause": frustration_cause(events, config) if frustrated else None,
    }
