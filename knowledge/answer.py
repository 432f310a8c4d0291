"""The answer pipeline: question → retrieve → generate → verify → reply with citations.

Outcomes (``Answer.outcome``):

- ``generated``: the generator's answer, every fact verified against the retrieved passages;
- ``passage``: the generation was unsupported (or failed, or the generator declined although a
  passage clearly about the asked product was retrieved): the best passage, concisely rendered;
- ``unknown``: nothing relevant was retrieved, or the generator said the sources do not contain the
  answer: an honest reply offering a human agent.

The generated text reaches the shopper only after the verifier accepted it — when streaming, one
sentence at a time — so no unsupported price or number is ever shown.

The checks a verified answer must still pass are in ``knowledge.answer_checks``, the shopper-facing
rendering in ``knowledge.render``, product search in ``knowledge.product_search``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from knowledge.answer_checks import (
    answer_gap,
    asked_like,
    asks_availability,
    availability_unknown_text,
    field_gap,
    is_refusal,
    name_overlap,
    named_first,
    relevance,
    source_gap,
)
from knowledge.asked_field import FIELD_QUESTIONS_FILE, AskedFieldModel
from knowledge.faq_rank import FAQ_MATCHER_DIR, QUESTION_SCORE
from knowledge.faq_suggest import SUGGESTIONS, entry_question, suggest
from knowledge.prompt import (
    OFF_POLICY_ANSWER,
    UNKNOWN_ANSWER,
    PromptBudget,
    build_prompt,
    clean_completion,
    group_by_document,
    tag_index,
)
from knowledge.references import PromptSources, ReferenceError
from knowledge.render import citation_for, render_passage, render_reply
from knowledge.types import Answer, Citation, Filters, Generator, Hit, Passage, Retriever
from knowledge.verifier import Verifier

logger = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]

FOLLOW_UP_RE = re.compile(r"\b(it|its|it's|this|that|these|those|they|them|one)\b", re.IGNORECASE)


@dataclass
class AnswerEvent:
    """One event of :meth:`AnswerPipeline.stream_answer`.

    Args:
        type: ``delta`` (verified text to append), ``replace`` (discard what was shown, show
            ``text`` instead), ``done`` (the final :class:`Answer`; its text is the full reply).
        text: The text of a delta or replacement.
        answer: The final answer (``done`` only).
    """

    type: Literal["delta", "replace", "done"]
    text: str = ""
    answer: Answer | None = None


@dataclass
class _Context:
    """State of one question while it moves through the pipeline."""

    question: str
    history: list[tuple[str, str]]
    started: float
    latency: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    passages: tuple[Passage, ...] = ()
    prompt: str = ""

    def lap(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.latency[stage] = round((now - since) * 1000, 2)
        return now


class AnswerPipeline:
    """Grounded answers: retrieve → generate → verify → cite, with honest fallbacks.

    Args:
        retriever: Finds passages (``knowledge.types.Retriever``).
        generator: Produces the answer text (``knowledge.types.Generator``).
        verifier: Checks facts; a default :class:`Verifier` when None.
        top_k: Passages retrieved per question.
        min_score: Minimum relevance (dense cosine, see :func:`relevance`) of the best passage;
            below it the pipeline answers "unknown" without generating.
        strong_score: Relevance from which the best passage is shown when the generator declines
            (an FAQ entry, or a product the question names, see :func:`name_overlap`).
        question_score: An FAQ hit whose question or phrasings are this close to the shopper's
            question (:func:`asked_like`) counts as relevant and as strong, whatever its passage's
            relevance (:data:`knowledge.faq_rank.QUESTION_SCORE`).
        max_new_tokens: Answer length limit; the generator's trained default when None.
        history_turns: Most recent history turns passed to the prompt.
        asked_field: Guesses which field a question asks for when no known wording says it
            (:mod:`knowledge.asked_field`); an answer giving another field is not shown.
    """

    def __init__(
        self,
        retriever: Retriever,
        generator: Generator,
        verifier: Verifier | None = None,
        top_k: int = 5,
        min_score: float = 0.3,
        strong_score: float = 0.5,
        max_new_tokens: int | None = None,
        history_turns: int = 4,
        asked_field: AskedFieldModel | None = None,
        question_score: float = QUESTION_SCORE,
    ) -> None:
        if top_k <= 0:
            raise ValueError(f"top_k must be greater than 0. Currently, top_k is {top_k}.")
        if max_new_tokens is not None and max_new_tokens <= 0:
            raise ValueError(
                f"max_new_tokens must be greater than 0. Currently, max_new_tokens is {max_new_tokens}."
            )
        self.retriever = retriever
        self.generator = generator
        self.verifier = verifier or Verifier()
        self.top_k = top_k
        self.min_score = min_score
        self.strong_score = strong_score
        self.question_score = question_score
        self.max_new_tokens = max_new_tokens
        self.history_turns = history_turns
        self.asked_field = asked_field

    # ------------------------------------------------------------------------------ construction

    @classmethod
    def from_dir(
        cls,
        knowledge_dir: str | Path,
        generator: Generator | None = None,
        embedder: Any = None,
        placeholders: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AnswerPipeline:
        """Load the pipeline from ``knowledge_dir`` (``models/knowledge``).

        Opens ``index/`` (FAISS + BM25 + passages, checked against its manifest) with the
        embedder it was built with (hits filled from ``placeholders``, the store's ``phone``,
        ``email`` and ``hours`` — see :mod:`knowledge.placeholders`), and the generator: ``generator/`` or the OpenAI-compatible
        server named by ``SHOPBOT_GENERATOR_URL``/``SHOPBOT_GENERATOR_MODEL``. Models load in
        :meth:`warm_up` (or on first use).

        Raises:
            FileNotFoundError: No index in ``knowledge_dir`` (the message says how to build one).
        """
        from knowledge.embedder import make_embedder
        from knowledge.faq_rank import FaqQuestionRanker
        from knowledge.generator import make_generator
        from knowledge.index import KnowledgeIndex
        from knowledge.placeholders import PlaceholderFilter
        from knowledge.retriever import HybridRetriever

        root = Path(knowledge_dir)
        if not (root / "index").exists():
            raise FileNotFoundError(
                f"No knowledge index at {root / 'index'}. Build it with `shopbot index` "
                "(and the generator with `shopbot train-generator`), or set SHOPBOT_KNOWLEDGE_DIR."
            )
        index = KnowledgeIndex.load(root / "index", embedder or make_embedder())
        # The FAQ matcher fine-tuned on the store's phrasings (``shopbot train``), in the
        # configured embedder variant; without one, questions are compared by the index's MiniLM
        # (an explicit ``embedder``, a test's, also means no matcher).
        matcher = root / FAQ_MATCHER_DIR
        encoder = (
            make_embedder(model_path=matcher) if embedder is None and matcher.is_dir() else None
        )
        ranker = FaqQuestionRanker(HybridRetriever(index), encoder=encoder)
        retriever = PlaceholderFilter(ranker, placeholders or {})
        kwargs.setdefault(
            "asked_field",
            AskedFieldModel.load(root / "generator" / FIELD_QUESTIONS_FILE, index.embedder),
        )
        pipeline = cls(retriever, generator or make_generator(root / "generator"), **kwargs)
        logger.info(
            "Answer pipeline from %s: %d passages, generator %s, top_k %d, min_score %.2f, "
            "FAQ questions compared by %s (question score %.2f)",
            root,
            len(index),
            getattr(pipeline.generator, "name", type(pipeline.generator).__name__),
            pipeline.top_k,
            pipeline.min_score,
            matcher if encoder is not None else "the index's embedder",
            pipeline.question_score,
        )
        return pipeline

    def with_retriever(self, retriever: Retriever) -> AnswerPipeline:
        """This pipeline (same generator, verifier and settings) retrieving with ``retriever``."""
        return AnswerPipeline(
            retriever,
            self.generator,
            self.verifier,
            top_k=self.top_k,
            min_score=self.min_score,
            strong_score=self.strong_score,
            question_score=self.question_score,
            max_new_tokens=self.max_new_tokens,
            history_turns=self.history_turns,
            asked_field=self.asked_field,
        )

    def warm_up(self) -> None:
        """Load the embedder, the generator and the asked-field model's examples now rather than
        on the first question."""
        chain = self._retriever_chain()
        index = next((r.index for r in chain if getattr(r, "index", None) is not None), None)
        embedder = getattr(index, "embedder", None)
        for component in (embedder, *chain[1:], self.generator, self.asked_field):
            warm = getattr(component, "warm_up", None)
            if callable(warm):
                warm()

    def _retriever_chain(self) -> list[Any]:
        """The retriever and the ones it wraps (placeholders, FAQ ranking: ``inner``), outermost
        first."""
        chain: list[Any] = [self.retriever]
        while len(chain) < 8 and getattr(chain[-1], "inner", None) is not None:
            chain.append(chain[-1].inner)
        return chain

    # ------------------------------------------------------------------------------ public API

    def answer(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        min_score: float | None = None,
    ) -> Answer:
        """Answer ``question`` (with a short ``history`` of ``(speaker, text)`` turns);
        ``min_score`` overrides the pipeline's relevance floor for this question."""
        final: Answer | None = None
        for event in self.stream_answer(question, history, filters, min_score):
            if event.type == "done":
                final = event.answer
        assert final is not None
        return final

    def stream_answer(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        min_score: float | None = None,
    ) -> Iterator[AnswerEvent]:
        """Like :meth:`answer`, yielding verified text as it is generated.

        Sentences are released only after the verifier accepted them; if a later sentence fails,
        a ``replace`` event swaps everything shown for the fallback. The last event is ``done``.
        """
        ctx = _Context(question, list(history or [])[-self.history_turns :], time.perf_counter())
        fallback = self._retrieve(ctx, filters, self.min_score if min_score is None else min_score)
        if fallback is not None:
            yield AnswerEvent("done", fallback.text, fallback)
            return
        yield from self._generate(ctx)

    # ------------------------------------------------------------------------------ stages

    def retrieval_query(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """The retrieval query: the question, plus the last shopper turn for short follow-ups
        ("how much is it?") whose subject is only in the history."""
        if history and len(question.split()) <= 8 and FOLLOW_UP_RE.search(question):
            last_user = next((t for s, t in reversed(history) if s in ("user", "shopper")), "")
            if last_user:
                return f"{last_user} {question}"
        return question

    def _retrieve(self, ctx: _Context, filters: Filters | None, min_score: float) -> Answer | None:
        """Retrieve; return an ``unknown`` answer when nothing relevant came back."""
        since = ctx.started
        query = self.retrieval_query(ctx.question, ctx.history)
        try:
            ctx.hits = named_first(ctx.question, self.retriever.search(query, self.top_k, filters))
        except Exception:
            logger.exception("Retrieval failed for %r", query)
            ctx.lap("retrieve", since)
            return self._unknown(ctx)
        ctx.lap("retrieve", since)
        if not self.lets_through(ctx.hits, min_score):
            best = max((relevance(h) for h in ctx.hits), default=float("-inf"))
            logger.info(
                "No relevant passage for %r (best relevance %.3f < %.3f, no FAQ entry asked like "
                "it)",
                query,
                best,
                min_score,
            )
            return self._unknown(ctx)
        return None

    def faq_suggestions(self, question: str, k: int = SUGGESTIONS) -> list[tuple[str, str]]:
        """The FAQ entries (id, question) worth offering when ``question`` gets "I don't know"
        (``knowledge.faq_suggest``)."""
        return suggest(self._retriever_chain(), question, k)

    def faq_question(self, entry: str) -> str | None:
        """FAQ entry ``entry``'s question, when the entry exists and can be shown."""
        return entry_question(self._retriever_chain(), entry)

    def faq_asked_like(self, question: str) -> float:
        """How closely ``question`` is asked like the store's closest FAQ entry (the FAQ ranker's
        closeness; -inf when the retriever ranks no FAQ)."""
        found = self.faq_entry_asked_like(question)
        return float("-inf") if found is None else found[1]

    def faq_entry_asked_like(self, question: str) -> tuple[str, float] | None:
        """The FAQ entry ``question`` is asked most like, and how closely (None when the
        retriever ranks no FAQ)."""
        ranker = next((r for r in self._retriever_chain() if hasattr(r, "asked_most_like")), None)
        found = ranker.asked_most_like(question) if ranker is not None else None
        return None if found is None else (str(found[0]), float(found[1]))

    def lets_through(self, hits: Sequence[Hit], min_score: float) -> bool:
        """Whether ``hits`` pass the relevance gate: a passage as relevant as ``min_score``, or an
        FAQ entry asked like the question (``question_score``)."""
        best = max((relevance(h) for h in hits), default=float("-inf"))
        asked = max((asked_like(h) for h in hits), default=float("-inf"))
        return best >= min_score or asked >= self.question_score

    def prompt_settings(self) -> tuple[PromptBudget, Callable[[str], int] | None, int]:
        """The prompt budget, token counter and answer length of the generator (loads it)."""
        budget = getattr(self.generator, "budget", None)
        count = getattr(self.generator, "count_tokens", None)
        default_new = int(getattr(self.generator, "default_max_new_tokens", 96))
        return (
            budget if isinstance(budget, PromptBudget) else PromptBudget(),
            count if callable(count) else None,
            self.max_new_tokens or default_new,
        )

    def _generate(self, ctx: _Context) -> Iterator[AnswerEvent]:
        since = time.perf_counter()
        try:
            budget, count, max_new = self.prompt_settings()
        except Exception:
            logger.exception("The generator could not be loaded")
            ctx.lap("prompt", since)
            yield self._done(self._passage(ctx, "generator unavailable"))
            return
        built = build_prompt(
            ctx.question, [h.passage for h in ctx.hits], ctx.history, budget, count
        )
        ctx.passages, ctx.prompt = built.passages, built.text
        sources = PromptSources.of(built)
        since = ctx.lap("prompt", since)

        raw = ""
        shown = ""
        verified_upto = 0
        markers: dict[str, int] = {}
        citations: list[Citation] = []
        failed: list[str] = []
        try:
            for piece in self.generator.stream(ctx.prompt, max_new):
                raw += piece
                if "<|" in raw:
                    break
                # The generator's references to source fields become the sources' exact text.
                try:
                    expanded = sources.expand(raw, partial=True)
                except ReferenceError as error:
                    failed = [str(error)]
                    break
                # Release complete sentences once they verify (a sentence ends with . ! ? and a
                # space, or with a closing citation bracket).
                cut = _last_sentence_end(expanded)
                if cut > verified_upto and not is_refusal(expanded):
                    candidate = expanded[:cut]
                    partial = self.verifier.verify(candidate, ctx.passages)
                    if not partial.supported:
                        failed = partial.unsupported
                        break
                    delta_raw = expanded[verified_upto:cut]
                    verified_upto = cut
                    self._register(partial.cited, markers, citations, ctx.passages)
                    delta = render_reply(delta_raw, [], markers)
                    if delta:
                        shown += (" " if shown else "") + delta
                        yield AnswerEvent("delta", delta)
        except Exception:
            logger.exception("Generation failed")
            ctx.lap("generate", since)
            answer = self._passage(ctx, "generation failed")
            if shown:
                yield AnswerEvent("replace", answer.text)
            yield self._done(answer)
            return
        since = ctx.lap("generate", since)
        completion = clean_completion(raw)
        expanded = ""
        if not failed:
            try:
                expanded = sources.expand(_before_delimiter(raw))
            except ReferenceError as error:
                failed = [str(error)]
        text = expanded.strip()

        if not failed and is_refusal(text):
            ctx.lap("verify", since)
            yield self._done(self._declined(ctx, text))
            return
        verdict = self.verifier.verify(text, ctx.passages) if not failed else None
        ctx.lap("verify", since)
        # A supported answer without a tag still names its source: the best passage.
        cited = (verdict.cited if verdict else []) or [ctx.passages[0].doc_id]
        if not failed and verdict is not None and verdict.supported and text:
            titles = [p.title for p in ctx.passages if p.kind == "product"]
            guess = self.asked_field.guesser(ctx.question, titles) if self.asked_field else None
            off_topic = (
                answer_gap(text, cited, ctx.passages)
                or source_gap(ctx.question, cited, ctx.passages)
                or field_gap(ctx.question, _before_delimiter(raw), sources.labels(), guess)
            )
            failed = [off_topic] if off_topic else []
        if failed or verdict is None or not verdict.supported or not text:
            reasons = failed or (verdict.unsupported if verdict else []) or ["empty answer"]
            answer = self._passage(ctx, "unsupported: " + "; ".join(reasons))
            answer.unsupported = list(reasons)
            if shown:
                yield AnswerEvent("replace", answer.text)
            yield self._done(answer)
            return
        self._register(cited, markers, citations, ctx.passages)
        final_text = render_reply(text, citations, markers)
        rest = render_reply(expanded[verified_upto:].strip(), [], markers)
        if rest:
            yield AnswerEvent("delta", rest)
        answer = Answer(final_text, citations, "generated", ctx.hits, [], ctx.latency)
        answer.completion = completion
        yield self._done(answer)

    @staticmethod
    def _register(
        cited: Sequence[str],
        markers: dict[str, int],
        citations: list[Citation],
        passages: Sequence[Passage],
    ) -> None:
        """Give each newly cited document (by ``doc_id``) the next marker number, for every tag
        that names it."""
        known = {c.doc_id for c in citations}
        for doc_id in cited:
            if doc_id in known:
                continue
            known.add(doc_id)
            group = next((g for g in group_by_document(passages) if g[0].doc_id == doc_id), None)
            if group is None:
                continue
            citations.append(citation_for(group[0]))
            for tag, tagged in tag_index(passages).items():
                if tagged[0].doc_id == doc_id:
                    markers[tag] = len(citations)

    # ------------------------------------------------------------------------------ fallbacks

    def _done(self, answer: Answer) -> AnswerEvent:
        answer.latency_ms["total"] = round(
            sum(v for k, v in answer.latency_ms.items() if k != "total"), 2
        )
        return AnswerEvent("done", answer.text, answer)

    def _unknown(self, ctx: _Context, text: str = UNKNOWN_ANSWER) -> Answer:
        answer = Answer(text, [], "unknown", ctx.hits, [], ctx.latency)
        answer.latency_ms["total"] = round(sum(ctx.latency.values()), 2)
        return answer

    def _declined(self, ctx: _Context, text: str) -> Answer:
        """The generator said the sources do not answer. Show the best passage when it is clearly
        about the product the shopper named, or the first FAQ entry (in the retriever's order)
        as relevant as ``strong_score`` (the store's own words on the question; seen with the demo
        generator, which declined "Excuse me, what is your price adjustment policy?" although the
        entry was retrieved first). The FAQ entry need not be the first hit: FAQ hits are ordered
        by their questions' closeness (``knowledge.faq_rank``), which can put a less relevant
        entry ahead ("how long have I got to send something back?": shipping times, 0.40, before
        the return policy, 0.55). Otherwise be honest and offer a human. An off-policy refusal
        ("I can only help with...") stays one."""
        top = ctx.hits[0]
        off_policy = text.lower().startswith("i can only")
        if (
            top.passage.kind == "product"
            and relevance(top) >= self.strong_score
            and name_overlap(ctx.question, top.passage.title) >= 0.6
        ):
            return self._passage(ctx, "generator declined")
        if top.passage.kind == "faq" and not off_policy:
            strong_faq = next(
                (
                    h
                    for h in ctx.hits
                    if h.passage.kind == "faq"
                    and (relevance(h) >= self.strong_score or asked_like(h) >= self.question_score)
                ),
                None,
            )
            if strong_faq is not None:
                return self._passage(ctx, "generator declined", strong_faq.passage.doc_id)
        return self._unknown(ctx, OFF_POLICY_ANSWER if off_policy else UNKNOWN_ANSWER)

    def _passage(self, ctx: _Context, reason: str, doc_id: str | None = None) -> Answer:
        """The best retrieved document (or the one ``doc_id`` names), concisely rendered and
        cited (verified like a generation)."""
        logger.info("Answering %r with the best passage (%s)", ctx.question, reason)
        since = time.perf_counter()
        groups = group_by_document([h.passage for h in ctx.hits])
        if doc_id is not None:
            groups = [g for g in groups if g[0].doc_id == doc_id] or groups
        if not groups:
            return self._unknown(ctx)
        group = groups[0]
        if (
            group[0].kind == "product"
            and "in_stock" not in group[0].metadata
            and asks_availability(ctx.question)
        ):
            # The catalog does not say; the passage would answer with other facts instead.
            ctx.lap("fallback", since)
            return self._unknown(ctx, availability_unknown_text(group[0].title))
        text = render_passage(group, ctx.question)
        # Product text is no authority for promises: a rendering that quotes one (a planted
        # "all buyers get 75% off") keeps only the catalog's structured facts. FAQ text is policy.
        # (generated=False: a listing that repeats its title in its description is still the
        # catalog's own words, not a degenerate generation.)
        if (
            group[0].kind == "product"
            and not self.verifier.verify(text, group, generated=False).supported
        ):
            # Keep only the catalog's structured facts (no description text at all).
            text = render_passage([replace(group[0], text="")])
        citation = citation_for(group[0])
        reply = render_reply(f"{text} [S1]", [citation], {"s1": 1})
        ctx.lap("fallback", since)
        return Answer(reply, [citation], "passage", ctx.hits, [], ctx.latency)


def _before_delimiter(raw: str) -> str:
    """A raw completion up to its first delimiter (``<|end|>``...), unstripped."""
    cut = raw.find("<|")
    return raw if cut < 0 else raw[:cut]


def _last_sentence_end(text: str) -> int:
    """Index just after the last complete sentence of a partial answer (0 when none)."""
    best = 0
    for match in re.finditer(r"(?:[.!?](?=\s)|\](?=[\s.]))", text):
        best = match.end()
    if best and text[best : best + 1] == ".":
        best += 1
    return best
