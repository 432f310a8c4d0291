"""The answer pipeline: question → retrieve → generate → verify → reply with citations.

Outcomes (``Answer.outcome``):

- ``generated``: the generator's answer, every fact verified against the retrieved passages;
- ``passage``: the generation was unsupported (or failed, or the generator declined although a
  passage clearly about the asked product was retrieved): the best passage, concisely rendered;
- ``unknown``: nothing relevant was retrieved, or the generator said the sources do not contain the
  answer: an honest reply offering a human agent.

The generated text reaches the shopper only after the verifier accepted it — when streaming, one
sentence at a time — so no unsupported price or number is ever shown.

Also here: :func:`search_products` ("waterproof jackets under $100" → filtered product cards).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from knowledge.prompt import (
    CITATION_TAG_RE,
    OFF_POLICY_ANSWER,
    UNKNOWN_ANSWER,
    PromptBudget,
    build_prompt,
    category_path,
    clean_completion,
    document_body,
    format_price,
    group_by_document,
    normalize_tag,
    sanitize,
    short_name,
    source_body,
    split_sentences,
    tag_index,
)
from knowledge.types import Answer, Citation, Filters, Generator, Hit, Passage, Retriever
from knowledge.verifier import Verifier

logger = logging.getLogger(__name__)

History = Sequence[tuple[str, str]]
FOLLOW_UP_RE = re.compile(r"\b(it|its|it's|this|that|these|those|they|them|one)\b", re.IGNORECASE)
_REFUSAL_PREFIXES = ("i don't have that information", "i can only share information")
_WORD_RE = re.compile(r"[a-z0-9]+")
_NAME_STOPWORDS = {"the", "a", "an", "and", "for", "with", "of", "by", "in", "to", "&", "-"}
FAQ_MIN_WORDS = 5  # content words an FAQ answer needs ("If a product is listed as 'ing." has 3)
FAQ_MAX_NEW_WORDS = 0.25  # share of an FAQ answer's content words that may not be in the entry
FAQ_MIN_SPAN_SHARE = 0.75  # share of an FAQ answer's word 4-grams that must occur in the entry
FACT_SEPARATOR = " — "  # "<product name> — <Attribute>: <value>", the trained answer shape


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _source_items(group: Sequence[Passage]) -> set[str]:
    """The lines and spec items of one document as the generator saw them, normalised
    (``"Price: $28.91"``, ``"Item Weight: 13.4 ounces"``)."""
    items = set()
    for item in re.split(r"[\n;]", document_body(group)):
        item = _norm(item).removeprefix("specs:").strip()
        if item:
            items.add(item)
    return items


def fact_gap(text: str, sources: Sequence[Passage]) -> str:
    """For an answer of the trained shape ``"[S1] <name> — <Attribute>: <value>."``, why it does not
    restate its cited product ("" when it does, or when the answer has another shape).

    The name must be a run of words of a cited product's title, and ``<Attribute>: <value>`` one
    whole line or spec item of that product's source: "Sunny 38" Large — Brand: Sunny." (words
    skipped from the title, a brand cut short) is not; "Sunny toys 38" Large — Brand: Sunny toys."
    is. Verified facts alone let such garbles through (every word is in the source).
    """
    body = CITATION_TAG_RE.sub(" ", text).strip()
    name, sep, fact = body.partition(FACT_SEPARATOR)
    if not sep:
        return ""
    fact = _norm(fact).rstrip(". ")
    groups = group_by_document(sources)
    named = f" {_norm(name)} "
    if not any(named in f" {_norm(sanitize(g[0].title))} " for g in groups):
        return "answer's product name is not a cited title"
    if not any(fact in _source_items(g) for g in groups):
        return "answer's fact is not a line of its source"
    return ""


def _span_share(text: str, source: str, n: int = 4) -> float:
    """Share of the word ``n``-grams of ``text`` that occur in ``source`` (1.0 when too short)."""
    words = _WORD_RE.findall(text.lower())
    if len(words) < n:
        return 1.0
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    src_words = _WORD_RE.findall(source.lower())
    src_grams = {tuple(src_words[i : i + n]) for i in range(len(src_words) - n + 1)}
    return sum(g in src_grams for g in grams) / len(grams)


def relevance(hit: Hit) -> float:
    """The relevance score the pipeline gates on: the dense cosine similarity when the retriever
    reports one (comparable across queries, unlike rank-fusion scores), else the hit's score."""
    return float(hit.scores.get("dense", hit.score))


def name_overlap(question: str, title: str) -> float:
    """Share of the words of a product's short name that the question contains."""
    name_words = {
        w for w in _WORD_RE.findall(short_name(title).lower()) if w not in _NAME_STOPWORDS
    }
    if not name_words:
        return 0.0
    asked = set(_WORD_RE.findall(question.lower()))
    return len(name_words & asked) / len(name_words)


def answer_gap(text: str, cited: Sequence[str], ctx: _Context) -> str:
    """Why a verified answer still does not answer from its sources ("" when it does).

    The verifier checks facts; a small generator can also emit a verified fragment that answers
    nothing (both seen with the demo preset): "La — Item Weight: 1." (every fact is in the
    product's passage, no product named) or "If a product is listed as 'ing." (an FAQ answer with
    no number or name to check). So:

    - an answer citing only products must restate one cited product's name (at least half of the
      words of its short name), as the grounded training answers do;
    - an answer in the trained product shape must restate its product's name and one whole line
      of its source (:func:`fact_gap`);
    - an answer citing only FAQ entries must say something (at least ``FAQ_MIN_WORDS`` content
      words) in the entry's own words (at most ``FAQ_MAX_NEW_WORDS`` of them not in the entry,
      and at least ``FAQ_MIN_SPAN_SHARE`` of its word 4-grams found in the entry: policy is
      quoted, not paraphrased by a small model into "We do not available for a product").

    The pipeline then falls back to the verified passage.
    """
    sources = [p for p in ctx.passages if p.doc_id in cited]
    if not sources:
        return ""
    kinds = {p.kind for p in sources}
    if kinds == {"product"}:
        titles = [p.title for p in sources if p.title]
        if titles and max(name_overlap(text, title) for title in titles) < 0.5:
            return "answer names no cited product"
        return fact_gap(text, sources)
    elif kinds == {"faq"}:
        entry = " ".join(f"{p.title} {source_body(p)}" for p in sources)
        said = CITATION_TAG_RE.sub(" ", text)
        source_words = set(_WORD_RE.findall(entry.lower()))
        words = [
            w for w in _WORD_RE.findall(said.lower()) if len(w) > 2 and w not in _NAME_STOPWORDS
        ]
        if len(words) < FAQ_MIN_WORDS:
            return "answer too short for an FAQ entry"
        new_words = sum(w not in source_words for w in words)
        if new_words / len(words) > FAQ_MAX_NEW_WORDS:
            return "answer strays from the cited FAQ entry"
        if _span_share(said, entry) < FAQ_MIN_SPAN_SHARE:
            return "answer strays from the cited FAQ entry"
    return ""


def is_refusal(text: str) -> bool:
    """Whether a generated answer is the trained "not in the sources" / "off policy" reply."""
    lowered = text.strip().lower()
    return lowered.startswith(_REFUSAL_PREFIXES)


def citation_for(passage: Passage) -> Citation:
    """The citation of a passage (URL from the catalog metadata when there is one)."""
    return Citation(
        doc_id=passage.doc_id,
        kind=passage.kind,
        title=passage.title,
        url=str(passage.metadata.get("url") or ""),
    )


def render_reply(text: str, citations: Sequence[Citation], markers: dict[str, int]) -> str:
    """Replace citation tags with ``[1]``-style markers and append a ``Sources:`` line.

    Args:
        text: The answer with the generator's tags (``[S1]``).
        citations: The cited documents, in marker order (empty: no ``Sources:`` line).
        markers: Normalised tag (see ``knowledge.prompt.normalize_tag``) → marker number; tags
            not in it are dropped.
    """

    def marker(match: re.Match[str]) -> str:
        number = markers.get(normalize_tag(match.group(1)))
        return f"[{number}]" if number else ""

    body = CITATION_TAG_RE.sub(marker, text)
    body = re.sub(r"\s+([.,;!?])", r"\1", body).strip()
    if not citations:
        return body
    sources = "; ".join(
        f"[{i}] {c.title}" + (f" ({c.url})" if c.url else "") for i, c in enumerate(citations, 1)
    )
    return f"{body}\n\nSources: {sources}"


def render_passage(group: Sequence[Passage], question: str = "", max_chars: int = 360) -> str:
    """A concise, shopper-facing rendering of one document's passages (no 2 kB blobs).

    Products: name — price, availability; brand; category; a few specs (those the question names
    first); the first sentence of the description. FAQ entries: the store's answer.
    Instruction-like sentences are never included.
    """
    first = group[0]
    if first.kind == "faq":
        body = source_body(first)
        return _cut_sentences(body, max_chars)
    meta = first.metadata
    head = first.title
    facts: list[str] = []
    if isinstance(meta.get("price"), (int, float)):
        facts.append(format_price(float(meta["price"]), str(meta.get("currency") or "USD")))
    if "in_stock" in meta:
        facts.append("in stock" if meta["in_stock"] else "out of stock")
    lines = [f"{head} — {', '.join(facts)}." if facts else f"{head}."]
    if meta.get("brand"):
        lines.append(f"Brand: {meta['brand']}.")
    category = category_path(meta.get("category"))
    if category:
        lines.append(f"Category: {category}.")
    # The passages come in retrieval order: a description chunk may rank above the header that
    # holds the specs, so look through all of them for each part.
    spec_line = sentence = ""
    for passage in group:
        body = source_body(passage)
        specs = re.search(r"^Specs:\s*(.+)$", body, re.MULTILINE)
        if specs and not spec_line:
            spec_line = _cut_items(specs.group(1), 160, question) + "."
        if not sentence and (
            passage.metadata.get("section") == "description"
            or (passage.kind == "product" and "Price:" not in passage.text)
        ):
            first_long = next((s for s in split_sentences(body) if len(s.split()) >= 5), "")
            sentence = _cut_sentences(first_long, 200) if first_long else ""
    lines += [part for part in (spec_line, sentence) if part]
    return " ".join(lines)


def _cut_sentences(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    out = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if out and len(out) + len(sentence) + 1 > max_chars:
            break
        out = f"{out} {sentence}".strip()
    if len(out) > max_chars:
        out = out[:max_chars].rsplit(" ", 1)[0] + "…"
    return out


# Shoppers' words for catalog spec labels ("how big is it" → "Product Dimensions").
_SPEC_WORDS = {
    "size": "dimensions",
    "big": "dimensions",
    "large": "dimensions",
    "measure": "dimensions",
    "measurements": "dimensions",
    "heavy": "weight",
    "weigh": "weight",
    "weighs": "weight",
    "old": "age",
    "ages": "age",
}


def _cut_items(text: str, max_chars: int, question: str = "") -> str:
    """The first ``;``-separated items that fit ``max_chars``, those whose label the question
    mentions first ("weight" → "Item Weight: 13.4 ounces")."""
    asked = set(_WORD_RE.findall(question.lower()))
    asked |= {label for word, label in _SPEC_WORDS.items() if word in asked}
    items = [i.strip() for i in text.split(";") if i.strip()]
    items.sort(key=lambda item: -len(asked & set(_WORD_RE.findall(item.split(":")[0].lower()))))
    out: list[str] = []
    for item in items:
        if out and len("; ".join([*out, item])) > max_chars:
            break
        out.append(item)
    return "; ".join(out)


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
            (together with the question naming the product, see :func:`name_overlap`).
        max_new_tokens: Answer length limit; the generator's trained default when None.
        history_turns: Most recent history turns passed to the prompt.
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
        self.max_new_tokens = max_new_tokens
        self.history_turns = history_turns

    # ------------------------------------------------------------------------------ construction

    @classmethod
    def from_dir(
        cls,
        knowledge_dir: str | Path,
        generator: Generator | None = None,
        embedder: Any = None,
        **kwargs: Any,
    ) -> AnswerPipeline:
        """Load the pipeline from ``knowledge_dir`` (``models/knowledge``).

        Opens ``index/`` (FAISS + BM25 + passages, checked against its manifest) with the
        embedder it was built with, and the generator: ``generator/`` or the OpenAI-compatible
        server named by ``SHOPBOT_GENERATOR_URL``/``SHOPBOT_GENERATOR_MODEL``. Models load in
        :meth:`warm_up` (or on first use).

        Raises:
            FileNotFoundError: No index in ``knowledge_dir`` (the message says how to build one).
        """
        from knowledge.embedder import SentenceTransformerEmbedder
        from knowledge.generator import make_generator
        from knowledge.index import KnowledgeIndex
        from knowledge.retriever import HybridRetriever

        root = Path(knowledge_dir)
        if not (root / "index").exists():
            raise FileNotFoundError(
                f"No knowledge index at {root / 'index'}. Build it with `shopbot index` "
                "(and the generator with `shopbot train-generator`), or set SHOPBOT_KNOWLEDGE_DIR."
            )
        index = KnowledgeIndex.load(root / "index", embedder or SentenceTransformerEmbedder())
        pipeline = cls(
            HybridRetriever(index), generator or make_generator(root / "generator"), **kwargs
        )
        logger.info(
            "Answer pipeline from %s: %d passages, generator %s, top_k %d, min_score %.2f",
            root,
            len(index),
            getattr(pipeline.generator, "name", type(pipeline.generator).__name__),
            pipeline.top_k,
            pipeline.min_score,
        )
        return pipeline

    def warm_up(self) -> None:
        """Load the embedder and the generator now rather than on the first question."""
        index = getattr(self.retriever, "index", None)
        embedder = getattr(index, "embedder", None)
        for component in (embedder, self.generator):
            warm = getattr(component, "warm_up", None)
            if callable(warm):
                warm()

    # ------------------------------------------------------------------------------ public API

    def answer(
        self, question: str, history: History | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer ``question`` (with a short ``history`` of ``(speaker, text)`` turns)."""
        final: Answer | None = None
        for event in self.stream_answer(question, history, filters):
            if event.type == "done":
                final = event.answer
        assert final is not None
        return final

    def stream_answer(
        self, question: str, history: History | None = None, filters: Filters | None = None
    ) -> Iterator[AnswerEvent]:
        """Like :meth:`answer`, yielding verified text as it is generated.

        Sentences are released only after the verifier accepted them; if a later sentence fails,
        a ``replace`` event swaps everything shown for the fallback. The last event is ``done``.
        """
        ctx = _Context(question, list(history or [])[-self.history_turns :], time.perf_counter())
        fallback = self._retrieve(ctx, filters)
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

    def _retrieve(self, ctx: _Context, filters: Filters | None) -> Answer | None:
        """Retrieve; return an ``unknown`` answer when nothing relevant came back."""
        since = ctx.started
        query = self.retrieval_query(ctx.question, ctx.history)
        try:
            ctx.hits = list(self.retriever.search(query, self.top_k, filters))
        except Exception:
            logger.exception("Retrieval failed for %r", query)
            ctx.lap("retrieve", since)
            return self._unknown(ctx)
        ctx.lap("retrieve", since)
        best = max((relevance(h) for h in ctx.hits), default=float("-inf"))
        if best < self.min_score:
            logger.info(
                "No relevant passage for %r (best relevance %.3f < %.3f)",
                query,
                best,
                self.min_score,
            )
            return self._unknown(ctx)
        return None

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
                # Release complete sentences once they verify (a sentence ends with . ! ? and a
                # space, or with a closing citation bracket).
                cut = _last_sentence_end(raw)
                if cut > verified_upto and not is_refusal(raw):
                    candidate = raw[:cut]
                    partial = self.verifier.verify(candidate, ctx.passages)
                    if not partial.supported:
                        failed = partial.unsupported
                        break
                    delta_raw = raw[verified_upto:cut]
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
        text = clean_completion(raw)

        if not failed and is_refusal(text):
            ctx.lap("verify", since)
            yield self._done(self._declined(ctx, text))
            return
        verdict = self.verifier.verify(text, ctx.passages) if not failed else None
        ctx.lap("verify", since)
        # A supported answer without a tag still names its source: the best passage.
        cited = (verdict.cited if verdict else []) or [ctx.passages[0].doc_id]
        if not failed and verdict is not None and verdict.supported and text:
            off_topic = answer_gap(text, cited, ctx)
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
        rest = render_reply(clean_completion(raw[verified_upto:]), [], markers)
        if rest:
            yield AnswerEvent("delta", rest)
        yield self._done(Answer(final_text, citations, "generated", ctx.hits, [], ctx.latency))

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
        about the product the shopper named; otherwise be honest and offer a human."""
        top = ctx.hits[0]
        if (
            top.passage.kind == "product"
            and relevance(top) >= self.strong_score
            and name_overlap(ctx.question, top.passage.title) >= 0.6
        ):
            return self._passage(ctx, "generator declined")
        reply = OFF_POLICY_ANSWER if text.lower().startswith("i can only") else UNKNOWN_ANSWER
        return self._unknown(ctx, reply)

    def _passage(self, ctx: _Context, reason: str) -> Answer:
        """The best retrieved document, concisely rendered and cited (verified like a generation)."""
        logger.info("Answering %r with the best passage (%s)", ctx.question, reason)
        since = time.perf_counter()
        groups = group_by_document([h.passage for h in ctx.hits])
        if not groups:
            return self._unknown(ctx)
        group = groups[0]
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


def _last_sentence_end(text: str) -> int:
    """Index just after the last complete sentence of a partial answer (0 when none)."""
    best = 0
    for match in re.finditer(r"(?:[.!?](?=\s)|\](?=[\s.]))", text):
        best = match.end()
    if best and text[best : best + 1] == ".":
        best += 1
    return best


# --------------------------------------------------------------------------------------------------
# Product search
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductCard:
    """A product as the chat widget shows it (one card)."""

    id: str
    name: str
    price: float | None
    currency: str
    url: str
    image: str
    in_stock: bool | None
    brand: str = ""
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (for ``json_message``)."""
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "currency": self.currency,
            "url": self.url,
            "image": self.image,
            "in_stock": self.in_stock,
            "brand": self.brand,
        }


def search_products(
    query: str,
    retriever: Retriever,
    limit: int = 5,
    min_score: float = 0.4,
    parse: Callable[[str], tuple[str, Filters]] | None = None,
) -> list[ProductCard]:
    """Product search in chat: "waterproof jackets under $100" → filtered product cards.

    Price and stock constraints are parsed out of the text (``knowledge.retriever.parse_filters``),
    the rest is the retrieval query over product passages only; results are deduplicated by
    product and those below ``min_score`` relevance are dropped.

    Args:
        query: The shopper's message.
        retriever: The retriever (filters are applied at retrieval time).
        limit: Maximum number of products.
        min_score: Minimum relevance (see :func:`relevance`); below it a product is not shown
            (MiniLM cosine: product-name queries score 0.5+, unrelated products 0.2-0.4).
        parse: Filter parser; ``knowledge.retriever.parse_filters`` when None.
    """
    if limit <= 0:
        raise ValueError(f"limit must be greater than 0. Currently, limit is {limit}.")
    if parse is None:
        from knowledge.retriever import parse_filters

        parse = parse_filters
    clean, filters = parse(query)
    filters = replace(filters, kind="product")
    hits = retriever.search(clean or query, top_k=limit * 4, filters=filters)
    cards: list[ProductCard] = []
    seen: set[str] = set()
    for hit in hits:
        passage = hit.passage
        if passage.kind != "product" or passage.doc_id in seen or relevance(hit) < min_score:
            continue
        seen.add(passage.doc_id)
        meta = passage.metadata
        price = meta.get("price")
        cards.append(
            ProductCard(
                id=passage.doc_id,
                name=passage.title,
                price=float(price) if isinstance(price, (int, float)) else None,
                currency=str(meta.get("currency") or "USD"),
                url=str(meta.get("url") or ""),
                image=str(meta.get("image") or ""),
                in_stock=meta.get("in_stock") if isinstance(meta.get("in_stock"), bool) else None,
                brand=str(meta.get("brand") or ""),
                score=relevance(hit),
            )
        )
        if len(cards) == limit:
            break
    logger.info("Product search %r (%s) → %d products", clean, filters, len(cards))
    return cards


def render_product_list(cards: Sequence[ProductCard]) -> str:
    """The chat text for a product list (the widget renders the cards from ``json_message``)."""
    if not cards:
        return (
            "Sorry, I couldn't find products matching that. Could you describe it differently, "
            "or would you like me to connect you with a human agent?"
        )
    lines = ["Here is what I found:" if len(cards) > 1 else "Here is one match:"]
    for i, card in enumerate(cards, 1):
        price = (
            format_price(card.price, card.currency)
            if card.price is not None
            else "price on request"
        )
        stock = (
            "" if card.in_stock is None else (" (in stock)" if card.in_stock else " (out of stock)")
        )
        lines.append(f"{i}. {card.name} — {price}{stock}")
    return "\n".join(lines)
