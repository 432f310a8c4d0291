"""Tracker events as transcript items: what an agent reads of one turn, and the bot's reasoning.

One row of Rasa's ``events`` table (``bot.console.transcript``) becomes one item, or nothing for
events an agent does not read (slots, ``action_listen``, loops):

- ``user``: text, intent and runner-up with confidences, entities (name, value, extractor and the
  span of the text), sentiment (``bot.nlu.sentiment`` writes ``{label, confidence, ...}``);
- ``bot``: text, author (bot, agent or notice), buttons, and for a knowledge answer
  (``actions.knowledge`` puts its record in ``custom``) a ``reasoning`` block: the outcome, the
  top retrieved passages with their scores, the citations and the latencies;
- ``feedback``: the shopper's thumbs (the widget stores them as an ``agent`` event with
  ``data.feedback``); ``refers_to`` is set by the reader once it found the rated bot message;
- ``action``, ``pause``, ``resume``, ``session``, ``restart``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Row

from bot.storage.clock import utc_from_timestamp

MAX_PASSAGES = 5
SENTIMENT_EXTRACTOR = "BertSentimentAnalyzer"  # bot.nlu.sentiment (the console imports no Rasa)
# Answer.outcome (knowledge.types) in words; "products" is the product search's record.
OUTCOMES = {
    "generated": "Generated answer, every fact verified against the passages",
    "passage": "Verified passage (the generation was not supported)",
    "unknown": "Fallback: nothing relevant found, a human was offered",
}


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = utc_from_timestamp(float(timestamp))
    return moment.isoformat(timespec="milliseconds") + "Z"


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return round(float(value), 3)


def _passage_score(value: Any) -> float | None:
    # Fused retrieval scores are small (reciprocal ranks, ~0.03): keep 4 decimals.
    return None if _score(value) is None else round(float(value), 4)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _entities(parse: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """Rasa's ``parse_data.entities`` (``{entity, value, start, end, extractor, ...}``)."""
    out = []
    for entity in _dicts(parse.get("entities")):
        if not entity.get("entity"):
            continue
        if entity.get("extractor") == SENTIMENT_EXTRACTOR and parse.get("sentiment"):
            continue  # the sentiment analyzer's copy for the slot: shown as the sentiment
        start, end = entity.get("start"), entity.get("end")
        has_span = isinstance(start, int) and isinstance(end, int) and 0 <= start < end
        out.append(
            {
                "name": str(entity["entity"]),
                "value": entity.get("value")
                if isinstance(entity.get("value"), (str, int, float))
                else str(entity.get("value")),
                "extractor": _text(entity.get("extractor")) or None,
                "confidence": _score(entity.get("confidence_entity")),
                "start": start if has_span else None,
                "end": end if has_span else None,
                "span": text[start:end] if has_span else None,
            }
        )
    return out


def user_item(data: dict[str, Any], intent_name: str | None) -> dict[str, Any]:
    """A shopper turn: text, NLU prediction, entities and sentiment."""
    parse = _dict(data.get("parse_data"))
    intent = _dict(parse.get("intent"))
    name = intent.get("name") or intent_name
    ranking = _dicts(parse.get("intent_ranking"))
    runner_up = next((r for r in ranking if r.get("name") and r.get("name") != name), None)
    # bot.nlu.sentiment.BertSentimentAnalyzer writes parse_data["sentiment"] = {label, confidence}
    sentiment = _dict(parse.get("sentiment"))
    text = str(data.get("text") or "")
    return {
        "type": "user",
        "author": "user",
        "text": text,
        "intent": {"name": str(name), "confidence": _score(intent.get("confidence"))}
        if name
        else None,
        "runner_up": {
            "name": str(runner_up["name"]),
            "confidence": _score(runner_up.get("confidence")),
        }
        if runner_up
        else None,
        "entities": _entities(parse, text),
        "sentiment": {
            "label": str(sentiment["label"]),
            "confidence": _score(sentiment.get("confidence")),
        }
        if sentiment.get("label")
        else None,
        "channel": data.get("input_channel"),
    }


def reasoning(custom: dict[str, Any]) -> dict[str, Any] | None:
    """Why the bot said it: ``actions.knowledge.answer_record``'s fields kept in ``custom``.

    Passages are ordered by score, the best ``MAX_PASSAGES`` kept (``more_passages`` counts the
    rest). None when ``custom`` is not a knowledge answer.
    """
    outcome = custom.get("outcome")
    if not isinstance(outcome, str) or outcome not in OUTCOMES:
        return None
    sources = _dicts(custom.get("sources"))
    ranked = sorted(sources, key=lambda s: -(_passage_score(s.get("score")) or 0.0))
    latency = {
        str(k): round(float(v), 1)
        for k, v in _dict(custom.get("latency_ms")).items()
        if _score(v) is not None
    }
    return {
        "outcome": outcome,
        "outcome_text": OUTCOMES[outcome],
        "passages": [
            {
                "id": _text(s.get("passage_id")) or _text(s.get("doc_id")),
                "doc_id": _text(s.get("doc_id")),
                "kind": _text(s.get("kind")),
                "title": _text(s.get("title")),
                "score": _passage_score(s.get("score")),
            }
            for s in ranked[:MAX_PASSAGES]
        ],
        "more_passages": max(0, len(ranked) - MAX_PASSAGES),
        "citations": [
            {
                "n": c["n"] if isinstance(c.get("n"), int) else i,
                "title": _text(c.get("title")),
                "url": _text(c.get("url")),
                "kind": _text(c.get("kind")),
            }
            # numbered like the widget's links (bot.channels.widget_output._citations)
            for i, c in enumerate(_list(custom.get("citations")), 1)
            if isinstance(c, dict)
        ],
        "latency_ms": latency,
    }


def bot_item(data: dict[str, Any]) -> dict[str, Any]:
    """A bot, agent or notice message (agents and notices are marked by ``metadata.shopbot``)."""
    shopbot = _dict(_dict(data.get("metadata")).get("shopbot"))
    kind = shopbot.get("kind")
    author = {"agent": "agent", "handoff": "notice", "notice": "notice"}.get(str(kind), "bot")
    payload = _dict(data.get("data"))
    return {
        "type": "bot",
        "author": author,
        "text": str(data.get("text") or ""),
        "agent": shopbot.get("agent") if author in ("agent", "notice") else None,
        "state": shopbot.get("state") if kind == "handoff" else None,
        "buttons": [str(b.get("title", "")) for b in _dicts(payload.get("buttons"))],
        "reasoning": reasoning(_dict(payload.get("custom"))) if author == "bot" else None,
    }


def shown_texts(data: dict[str, Any]) -> set[str]:
    """The texts a bot event was shown with (the widget shows ``custom.display_text``)."""
    custom = _dict(_dict(data.get("data")).get("custom"))
    return {t for t in (_text(data.get("text")), _text(custom.get("display_text"))) if t}


def feedback_item(data: dict[str, Any]) -> dict[str, Any] | None:
    """The shopper's thumbs (``bot.channels.widget``'s ``agent`` event); None for others."""
    feedback = _dict(_dict(data.get("data")).get("feedback"))
    value = feedback.get("value")
    if value not in ("up", "down"):
        return None
    return {
        "type": "feedback",
        "value": value,
        "message_id": _text(feedback.get("message_id")) or None,
        "rated_text": _text(feedback.get("text")),
        "channel": _text(feedback.get("channel")) or None,
        "refers_to": None,
    }


def load(row: Row) -> dict[str, Any]:
    """A row's ``data`` JSON ({} when it is not a JSON object)."""
    try:
        return _dict(json.loads(row.data or "{}"))
    except ValueError:
        return {}


def to_item(row: Row) -> dict[str, Any] | None:
    """One tracker event as a transcript item (None for events the transcript leaves out)."""
    data = load(row)
    base: dict[str, Any] = {"id": int(row.id), "at": _iso(row.timestamp)}
    kind = row.type_name
    if kind == "user":
        return {**base, **user_item(data, row.intent_name)}
    if kind == "bot":
        return {**base, **bot_item(data)}
    if kind == "agent":
        feedback = feedback_item(data)
        return {**base, **feedback} if feedback else None
    if kind in ("pause", "resume", "restart"):
        return {**base, "type": kind}
    if kind == "session_started":
        return {**base, "type": "session"}
    if kind == "action":
        name = data.get("name") or row.action_name
        if not name or name == "action_listen":
            return None
        return {**base, "type": "action", "name": str(name)}
    return None  # slots, featurization, loops, ...: not part of what an agent reads
