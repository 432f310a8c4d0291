"""Knowledge actions: grounded answers to product/policy questions, and product search.

Both actions are thin: read the message (and a few turns of history), call the answer pipeline
(``knowledge.answer``), dispatch the reply, return events.

What the tracker keeps (the agent console reads it from there):

- the bot message carries ``json_message`` (``custom`` in the tracker's ``bot`` event):
  ``{"outcome", "citations": [{doc_id, kind, title, url}], "sources": [{passage_id, doc_id, kind,
  title, score}], "latency_ms"}`` for answers, ``{"products": [card, ...]}`` for searches;
- the ``knowledge_sources`` slot (``SlotSet``) holds the same record for the latest knowledge turn,
  plus the question and any facts the verifier rejected, so each turn's retrieved sources and
  citations are in the tracker's event stream.

On the web widget the answer streams: the action runs ``stream_answer`` and pushes each verified
piece to the widget's stream through ``actions.streaming`` (a side channel to the Rasa server);
the final message carries the same ``stream_id`` in ``json_message`` so the widget replaces the
pieces with it. Other channels get the whole answer at once, as before.

The pipeline is created once per process on first use from ``SHOPBOT_KNOWLEDGE_DIR``
(``Settings.knowledge_dir``, default ``models/<preset>/knowledge``); ``shopbot run`` sets
``SHOPBOT_WARM_KNOWLEDGE=1`` so the action server starts loading it in a background thread at
start-up (the first question would otherwise wait ~20 s on 2 CPU cores for the models to load). When the
artifacts are missing or a lookup fails, the shopper gets a polite reply and the error goes to the
log — never a stack trace to the shopper.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.capabilities import asks_what_bot_does
from actions.faq_suggestions import (
    SUGGESTIONS_TEXT,
    faq_suggestions,
    offered_entry,
    suggestion_buttons,
)
from actions.shipping_cost import shipping_cost_answered
from actions.store.runtime import get_settings
from actions.streaming import TokenPusher, pusher_for
from core.heap import freeze_heap
from knowledge.answer import AnswerPipeline
from knowledge.faq_rank import SEARCH_FAQ_SCORE
from knowledge.product_match import asked_if_sold
from knowledge.product_search import render_product_list, search_products
from knowledge.prompt import OFF_POLICY_ANSWER, UNKNOWN_ANSWER
from knowledge.types import Answer, Filters

logger = logging.getLogger(__name__)

GENERIC_UNKNOWN = frozenset({UNKNOWN_ANSWER, OFF_POLICY_ANSWER})
"""The pipeline's general "not in our sources" replies (an open question's fallback replaces them)."""

UNAVAILABLE_TEXT = (
    "I can't look that up right now, sorry. Would you like me to connect you with a human agent?"
)
SOURCES_SLOT = "knowledge_sources"
HUMAN_BUTTONS = [{"title": "Talk to a human", "payload": "/contact_human_agent"}]
HISTORY_TURNS = 4
RETRY_AFTER_S = 60.0
SOURCES_PARAGRAPH = "\n\nSources: "  # how knowledge.render.render_reply appends the sources

_lock = threading.Lock()
_pipeline: AnswerPipeline | None = None
_failed_at: float | None = None


def get_pipeline() -> AnswerPipeline | None:
    """The process-wide answer pipeline, loaded on first use; None when it cannot be loaded.

    A failed load is retried at most every ``RETRY_AFTER_S`` seconds, so building the artifacts
    (`shopbot index`, `shopbot train-generator`) fixes a running action server without a restart
    and a missing index does not slow down every message.
    """
    global _pipeline, _failed_at
    with _lock:
        if _pipeline is not None:
            return _pipeline
        if _failed_at is not None and time.monotonic() - _failed_at < RETRY_AFTER_S:
            return None
        settings = get_settings()
        knowledge_dir = settings.path(settings.knowledge_dir)
        try:
            pipeline = AnswerPipeline.from_dir(
                knowledge_dir,
                placeholders={
                    "phone": settings.support_phone,
                    "email": settings.support_email,
                    "hours": settings.support_hours,
                },
            )
            pipeline.warm_up()
        except Exception:
            _failed_at = time.monotonic()
            logger.exception(
                "Knowledge pipeline could not be loaded from %s (set SHOPBOT_KNOWLEDGE_DIR or "
                "build it with `shopbot index` and `shopbot train-generator`); retrying in %.0f s",
                knowledge_dir,
                RETRY_AFTER_S,
            )
            return None
        _pipeline, _failed_at = pipeline, None
        return _pipeline


def warm_up_in_background() -> threading.Thread:
    """Load the pipeline in a daemon thread; a question arriving meanwhile waits on the lock.
    Once loaded, the pipeline is kept out of the garbage collector's scans (:mod:`core.heap`)."""

    def warm_up() -> None:
        if get_pipeline() is not None:
            freeze_heap("Action server, answer pipeline loaded")

    thread = threading.Thread(target=warm_up, name="knowledge-warm-up", daemon=True)
    thread.start()
    return thread


def set_pipeline(pipeline: AnswerPipeline | None) -> None:
    """Use ``pipeline`` for this process (tests, or a store wiring its own); None forgets it."""
    global _pipeline, _failed_at
    with _lock:
        _pipeline, _failed_at = pipeline, None


def conversation_history(tracker: Tracker, turns: int = HISTORY_TURNS) -> list[tuple[str, str]]:
    """The last ``turns`` user/bot messages before the latest user message, oldest first."""
    history: list[tuple[str, str]] = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            history.append((str(event["event"]), str(event["text"])))
    if history and history[-1][0] == "user":
        history = history[:-1]  # the question itself
    return history[-turns:]


def token_pusher(tracker: Tracker) -> TokenPusher | None:
    """A token pusher when the conversation is on the web widget or Telegram (None otherwise)."""
    channel = tracker.get_latest_input_channel()
    if channel not in ("widget", "telegram"):
        return None
    settings = get_settings()
    url = settings.widget_push_url if channel == "widget" else settings.telegram_push_url
    return pusher_for(channel, tracker.sender_id, url, settings.ensure_stream_secret())


def answer_streamed(
    pipeline: AnswerPipeline,
    question: str,
    history: Sequence[tuple[str, str]],
    pusher: TokenPusher,
    filters: Filters | None = None,
) -> Answer:
    """Answer ``question`` while pushing each verified piece (or a replacement) to the widget."""
    final: Answer | None = None
    try:
        for event in pipeline.stream_answer(question, history, filters):
            if event.type == "delta":
                pusher.push(event.text)
            elif event.type == "replace":
                pusher.replace(event.text)
            elif event.type == "done":
                final = event.answer
    finally:
        pusher.close()
    if final is None:
        raise RuntimeError(f"stream_answer ended without a final answer for {question!r}")
    return final


def display_text(answer: Answer) -> str:
    """The answer without its ``Sources:`` paragraph, for channels that show the citations as
    links of their own (the widget); the plain text keeps it for REST and Telegram."""
    if answer.citations and SOURCES_PARAGRAPH in answer.text:
        return answer.text.rsplit(SOURCES_PARAGRAPH, 1)[0].rstrip()
    return answer.text


def answer_record(question: str, answer: Answer) -> dict[str, Any]:
    """The structured record of one answer (``json_message`` and the ``knowledge_sources`` slot)."""
    return {
        "question": question,
        "outcome": answer.outcome,
        "citations": [
            {"n": n, "doc_id": c.doc_id, "kind": c.kind, "title": c.title, "url": c.url}
            for n, c in enumerate(answer.citations, 1)
        ],
        "sources": [
            {
                "passage_id": h.passage.id,
                "doc_id": h.passage.doc_id,
                "kind": h.passage.kind,
                "title": h.passage.title,
                "score": round(float(h.score), 5),
                "scores": {k: round(float(v), 4) for k, v in h.scores.items()},
            }
            for h in answer.hits
        ],
        "unsupported": list(answer.unsupported),
        "latency_ms": dict(answer.latency_ms),
    }


async def question_and_pipeline(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> tuple[str, AnswerPipeline] | None:
    """The latest message's text and the loaded pipeline; None (the shopper told so) without."""
    question = str(tracker.latest_message.get("text") or "").strip()
    pipeline = await asyncio.to_thread(get_pipeline)
    if pipeline is None or not question:
        dispatcher.utter_message(text=UNAVAILABLE_TEXT)
        return None
    return question, pipeline


async def answer_and_reply(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    min_score: float | None = None,
    fallback_response: str | None = None,
    filters: Filters | None = None,
    buttons: Sequence[dict[str, str]] = (),
    question: str | None = None,
) -> list[dict[str, Any]]:
    """Retrieve, generate, verify; reply with the text and the structured sources.

    With ``fallback_response`` (an open question: NLU fallback, out of scope), a question the
    store's knowledge has nothing relevant for (below ``min_score``), or no pipeline at all, gets
    that response instead of an answer; the retrieval is still recorded for the console.
    ``buttons`` go under the answer (after "Talk to a human" when it does not know). "I don't
    know" is followed by the FAQ entries the question is asked most like, when any is close
    (``actions.faq_suggestions``). ``question`` replaces the latest message's text.
    """
    if question is None and (about := answer_from_the_words(dispatcher, tracker)):
        return about
    # A question given (an FAQ entry's own) stands alone: no history joins its retrieval.
    history = conversation_history(tracker) if question is None else []
    if question is None:
        question = str(tracker.latest_message.get("text") or "")
    question = question.strip()
    pipeline = await asyncio.to_thread(get_pipeline) if question else None
    if pipeline is None:
        if fallback_response:
            dispatcher.utter_message(response=fallback_response)
        else:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
        return []
    pusher = token_pusher(tracker) if fallback_response is None else None
    try:
        if pusher is None:
            answer = await asyncio.to_thread(pipeline.answer, question, history, filters, min_score)
        else:
            answer = await asyncio.to_thread(
                answer_streamed, pipeline, question, history, pusher, filters
            )
    except Exception:
        logger.exception("Answering %r failed", question)
        if fallback_response:
            dispatcher.utter_message(response=fallback_response)
        else:
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
        return []
    record = answer_record(question, answer)
    logger.info(
        "Answered %r: %s, cites %s, %.0f ms",
        question,
        answer.outcome,
        [c["doc_id"] for c in record["citations"]],
        answer.latency_ms.get("total", 0.0),
    )
    # The generic "not in our sources" gives way to the caller's fallback; a specific unknown
    # ("the catalog doesn't say whether X is in stock") is shown as it is.
    unknown = answer.outcome == "unknown"
    offered = await faq_suggestions(tracker, pipeline, question) if unknown else []
    if unknown:
        record["suggested"] = [entry for entry, _ in offered]
    if fallback_response and unknown and answer.text in GENERIC_UNKNOWN:
        dispatcher.utter_message(response=fallback_response)
    else:
        custom = {k: record[k] for k in ("outcome", "citations", "sources", "latency_ms")}
        custom["display_text"] = display_text(answer)
        if pusher is not None:
            custom["stream_id"] = pusher.stream_id
        # "I don't know" offers a human: the offer is a button too, one tap away (under the FAQ
        # questions offered, when there are any).
        shown = [*(HUMAN_BUTTONS if unknown and not offered else ()), *buttons]
        dispatcher.utter_message(text=answer.text, json_message=custom, buttons=shown or None)
    offer_suggestions(dispatcher, offered)
    return [SlotSet(SOURCES_SLOT, record)]


def answer_from_the_words(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """Questions read from their words whatever intent NLU gave them (decision 039): "what can
    you do?" (``actions.capabilities``) gets the assistant's own description (outcome
    ``assistant``), "is the shipping free?" (``actions.shipping_cost``) the store's shipping
    fees (outcome ``store_settings``); both are recorded as answered. [] for anything else."""
    text = str(tracker.latest_message.get("text") or "").strip()
    if asks_what_bot_does(text):
        dispatcher.utter_message(response="utter_iamabot")
        outcome = "assistant"
    elif shipping_cost_answered(dispatcher, tracker):
        outcome = "store_settings"
    else:
        return []
    record = {"question": text, "outcome": outcome, "citations": [], "sources": []}
    return [SlotSet(SOURCES_SLOT, record)]


def offer_suggestions(dispatcher: CollectingDispatcher, offered: Sequence[tuple[str, str]]) -> None:
    """The FAQ questions offered (``actions.faq_suggestions``), with "Talk to a human" under them
    (a widget shows only the latest message's buttons); nothing when none is offered."""
    if offered:
        dispatcher.utter_message(
            text=SUGGESTIONS_TEXT, buttons=[*suggestion_buttons(offered), *HUMAN_BUTTONS]
        )


async def answer_if_asked_like_faq(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    accepts: Callable[[str, float], bool],
    buttons: Sequence[dict[str, str]] = (),
) -> list[dict[str, Any]] | None:
    """A message another intent took ("do u gift wrap" as a product search, "can i return a gift"
    as a return request) that ``accepts(entry id, closeness)`` finds asked like the FAQ entry it
    is closest to is a policy question: answered from the FAQ as a policy intent would be (the
    events). None, with nothing said, when it is not or the pipeline is not loaded: the caller
    goes on."""
    question = str(tracker.latest_message.get("text") or "").strip()
    pipeline = await asyncio.to_thread(get_pipeline) if question else None
    if pipeline is None:
        return None
    found = await asyncio.to_thread(pipeline.faq_entry_asked_like, question)
    if found is None or not accepts(*found):
        return None
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    logger.info(
        "%s %r is asked like FAQ entry %s (%.2f): answered from the FAQ", intent, question, *found
    )
    min_score = get_settings().open_question_min_score
    return await answer_and_reply(
        dispatcher, tracker, min_score, filters=Filters(kind="faq"), buttons=buttons
    )


class ActionAnswerQuestion(Action):
    """Answer the latest question from the catalog and FAQ, with citations."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Retrieve, generate, verify; reply with the text and the structured sources. "Got any
        kites?" read as a question is a product search: answered yes or no from the catalog."""
        if asked_if_sold(str(tracker.latest_message.get("text") or "")):
            return await search_and_reply(dispatcher, tracker)
        return await answer_and_reply(dispatcher, tracker)


class ActionAnswerPolicy(Action):
    """A store-policy question (returns, payment methods, how to order, saved addresses):
    answered from the store's own FAQ through the same verified path, so a store's FAQ decides
    the answer; when its FAQ does not say, the bot says it does not know and offers a human."""

    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer from the FAQ passages only."""
        # The open-question floor: a loosely related FAQ entry ("create an account" for a lost
        # password) must not pass for the answer; below it the honest "I don't know" + a human.
        min_score = get_settings().open_question_min_score
        return await answer_and_reply(dispatcher, tracker, min_score, filters=Filters(kind="faq"))


class ActionAnswerFaqEntry(Action):
    """An FAQ entry the bot offered and the shopper tapped (``/ask_faq{"faq_entry": ...}``):
    its question answered from the FAQ as a policy question is."""

    def name(self) -> str:
        return "action_answer_faq_entry"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Answer the entry's question from the FAQ; an unknown entry gets ``utter_default``."""
        entry = offered_entry(tracker)
        pipeline = await asyncio.to_thread(get_pipeline) if entry else None
        question = (
            await asyncio.to_thread(pipeline.faq_question, entry)
            if pipeline is not None and entry
            else None
        )
        if question is None:
            logger.info("No FAQ entry %r to answer", entry)
            dispatcher.utter_message(response="utter_default")
            return []
        min_score = get_settings().open_question_min_score
        return await answer_and_reply(
            dispatcher, tracker, min_score, filters=Filters(kind="faq"), question=question
        )


# The bot's reply when an open question finds nothing relevant, per intent NLU gave it.
OPEN_QUESTION_FALLBACKS = {"out_of_scope": "utter_out_of_scope"}


class ActionAnswerOpenQuestion(Action):
    """A message no flow handles (NLU fallback, out of scope): answer it from the store's FAQ
    and catalog when a passage is relevant enough (``SHOPBOT_OPEN_QUESTION_MIN_SCORE``, measured
    by ``shopbot calibrate-open-questions``) and the answer verifies; otherwise say so honestly
    (``utter_out_of_scope`` / ``utter_default``, both offering a human)."""

    def name(self) -> str:
        return "action_answer_open_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Try the store's knowledge at the open-question threshold, else the honest fallback."""
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or "")
        fallback = OPEN_QUESTION_FALLBACKS.get(intent, "utter_default")
        min_score = get_settings().open_question_min_score
        return await answer_and_reply(dispatcher, tracker, min_score, fallback)


class ActionSearchProducts(Action):
    """List products matching the shopper's description (price/stock filters understood); when
    none matches, offer the FAQ questions the message is asked like."""

    def name(self) -> str:
        return "action_search_products"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Search products; reply with a text list and the product cards."""
        return await search_and_reply(dispatcher, tracker)


async def search_and_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> list[dict[str, Any]]:
    """The product search of the latest message: a text list and the product cards, or the FAQ
    answer when it is asked like an entry, or the FAQ questions offered when nothing matches."""
    if about := answer_from_the_words(dispatcher, tracker):
        return about
    asked = await question_and_pipeline(dispatcher, tracker)
    if asked is None:
        return []
    query, pipeline = asked
    answered = await answer_if_asked_like_faq(
        dispatcher, tracker, lambda _entry, closeness: closeness >= SEARCH_FAQ_SCORE
    )
    if answered is not None:
        return answered
    try:
        cards = await asyncio.to_thread(search_products, query, pipeline.retriever)
    except Exception:
        logger.exception("Product search %r failed", query)
        dispatcher.utter_message(text=UNAVAILABLE_TEXT)
        return []
    products = [card.to_dict() for card in cards]
    dispatcher.utter_message(
        text=render_product_list(cards, query),
        json_message={"products": products},
    )
    record: dict[str, Any] = {
        "question": query,
        "outcome": "products",
        "citations": [
            {"n": n, "doc_id": c.id, "kind": "product", "title": c.name, "url": c.url}
            for n, c in enumerate(cards, 1)
        ],
        "sources": [{"doc_id": c.id, "title": c.name, "score": round(c.score, 4)} for c in cards],
    }
    if not cards:  # nothing in the catalog: maybe the FAQ has it ("do you assemble beds")
        offered = await faq_suggestions(tracker, pipeline, query)
        record["suggested"] = [entry for entry, _ in offered]
        offer_suggestions(dispatcher, offered)
    return [SlotSet(SOURCES_SLOT, record)]


if get_settings().warm_knowledge:
    warm_up_in_background()
