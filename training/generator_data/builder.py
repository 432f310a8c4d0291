"""The fine-tuning example builder: product facts, FAQ answers, refusals and prompt injections, each
with the distractor passages retrieval would put beside the answer's source.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from knowledge.catalog.model import Product
from knowledge.describe import DESCRIBE_INSTRUCTION, attribute_passage
from knowledge.faq import FaqEntry
from knowledge.passages import faq_passage, product_passages
from knowledge.prompt import OFF_POLICY_ANSWER, UNKNOWN_ANSWER, PromptBudget, source_tag
from knowledge.references import ANSWER_FIELD, reference
from knowledge.types import Passage
from knowledge.verifier import Verifier
from training.generator_data.facts import (
    answer_name,
    description_sentence,
    description_target,
    faq_key_sentence,
    faq_paraphrase,
    product_answer,
    question_name,
    spec_question_key,
    visible_specs,
)
from training.generator_data.phrasings import load_phrasings
from training.generator_data.presets import PRODUCT_KINDS
from training.generator_data.records import QAExample


class QABuilder:
    """Holds the store, the passages and the random generator while examples are made.

    Args:
        products: The whole catalog (distractors come from it, held-out products included).
        faqs: The whole FAQ.
        budget: The preset's prompt budget (which specs a prompt shows).
        rng: The one seeded random generator every choice draws from, in a fixed order.
        allowed: Product fact types this preset asks about.
        max_distractors: Most other documents beside the answer's in one prompt.
    """

    def __init__(
        self,
        products: Sequence[Product],
        faqs: Sequence[FaqEntry],
        budget: PromptBudget,
        rng: random.Random,
        allowed: Sequence[str] = PRODUCT_KINDS,
        max_distractors: int = 2,
    ) -> None:
        self.phrasings = load_phrasings()
        self.products = list(products)
        self.faqs = list(faqs)
        self.budget = budget
        self.allowed = set(allowed)
        self.max_distractors = max_distractors
        self.rng = rng
        self.passages: dict[str, Passage] = {}
        self.doc_passages: dict[str, list[Passage]] = {}
        for product in self.products:
            group = product_passages(product)
            self.doc_passages[product.id] = group
            self.passages.update({p.id: p for p in group})
        for entry in self.faqs:
            passage = faq_passage(entry)
            self.doc_passages[entry.id] = [passage]
            self.passages[passage.id] = passage
        self.by_id = {p.id: p for p in self.products}
        self.by_top_category: dict[str, list[Product]] = {}
        for product in self.products:
            top = product.category[0] if product.category else ""
            self.by_top_category.setdefault(top, []).append(product)
        self.counter = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter:06d}"

    def doc_view(self, doc_id: str, with_description: bool) -> list[Passage]:
        """The passages retrieval would return for a document: header, maybe a description chunk."""
        group = self.doc_passages[doc_id]
        if len(group) == 1 or not with_description:
            return group[:1]
        return group[:2]

    def distractors(self, doc_id: str, pool: Sequence[Product], n: int) -> list[Passage]:
        """``n`` distractor documents: mostly products of the same top category, sometimes FAQ."""
        out: list[Passage] = []
        used = {doc_id}
        target = self.by_id.get(doc_id)
        for _ in range(n):
            if self.faqs and self.rng.random() < 0.2:
                entry = self.rng.choice(self.faqs)
                if entry.id not in used:
                    used.add(entry.id)
                    out += self.doc_view(entry.id, False)
                continue
            same = self.by_top_category.get(
                target.category[0] if target and target.category else ""
            )
            candidates = [p for p in (same or pool) if p.id not in used] or [
                p for p in pool if p.id not in used
            ]
            if not candidates:
                continue
            other = self.rng.choice(candidates)
            used.add(other.id)
            group = self.doc_passages[other.id]
            if len(group) > 1 and self.rng.random() < 0.3:
                out.append(group[1])  # a description chunk alone, as retrieval sometimes returns
            else:
                out.append(group[0])
        return out

    def arrange(self, target: list[Passage], distractors: list[Passage]) -> list[str]:
        """Place the target document first (70%) or second, as retrieval ranks it: lower ranks
        would mostly fall outside the prompt budget."""
        docs = [target] + [[d] for d in distractors]
        if len(docs) > 1 and self.rng.random() >= 0.7:
            docs[0], docs[1] = docs[1], docs[0]
        return [p.id for group in docs for p in group]

    def position(self, passage_ids: Sequence[str], doc_id: str) -> int:
        """The 1-based position of document ``doc_id`` among the prompt's documents."""
        docs = list(dict.fromkeys(self.passages[pid].doc_id for pid in passage_ids))
        return docs.index(doc_id) + 1

    def n_distractors(self) -> int:
        """How many other documents share the prompt (as retrieval's other hits would)."""
        n = self.rng.choices((0, 1, 2), weights=(0.15, 0.5, 0.35))[0]
        return min(n, self.max_distractors)

    def plant(self, passage: Passage, injection: str) -> Passage:
        """A copy of ``passage`` with a prompt injection appended to its text."""
        planted = Passage(
            id=f"{passage.id}~inj{hashlib.sha256(injection.encode()).hexdigest()[:6]}",
            doc_id=passage.doc_id,
            kind=passage.kind,
            text=f"{passage.text} {injection}",
            title=passage.title,
            metadata=dict(passage.metadata),
        )
        self.passages[planted.id] = planted
        return planted

    # ----------------------------------------------------------------------------- products

    def product_kinds(self, product: Product) -> list[tuple[str, str]]:
        """The ``(kind, spec_key)`` facts that can be asked about ``product``."""
        kinds: list[tuple[str, str]] = [("price", "")]
        if product.in_stock is not None:  # the data says; otherwise asking is an 'unknown' example
            kinds.append(("stock", ""))
        if product.brand:
            kinds.append(("brand", ""))
        if product.category:
            kinds.append(("category", ""))
        for key in visible_specs(product, self.doc_passages[product.id][0], self.budget):
            kinds.append(("spec", key))
        if len(self.doc_passages[product.id]) > 1 and description_sentence(product.description):
            kinds.append(("describe", ""))
        return [k for k in kinds if k[0] in self.allowed]

    def askable(self, product: Product, wanted: Sequence[str]) -> list[str]:
        """The kinds among ``wanted`` that this preset asks about and ``product`` has (price is
        always possible)."""
        out = [
            k
            for k in wanted
            if k in self.allowed
            and (k != "brand" or product.brand)
            and (k != "stock" or product.in_stock is not None)
        ]
        return out or ["price"]

    def product_examples(
        self, product: Product, pool: Sequence[Product], per_fact: int
    ) -> list[QAExample]:
        rng = self.rng
        examples: list[QAExample] = []
        kinds = self.product_kinds(product)
        specs = [k for k in kinds if k[0] == "spec"]
        chosen = [k for k in kinds if k[0] != "spec"] + rng.sample(specs, min(2, len(specs)))
        repeats = {"price": per_fact, "spec": max(1, per_fact // 2 + per_fact % 2)}
        for kind, spec_key in chosen:
            train_templates = self.phrasings.templates[kind].train
            for _ in range(repeats.get(kind, max(1, per_fact // 2 + per_fact % 2))):
                template = rng.choice(train_templates)
                question = template.format(
                    name=question_name(product, rng), spec=spec_question_key(spec_key, rng)
                )
                target = self.doc_view(
                    product.id, with_description=kind == "describe" or rng.random() < 0.3
                )
                ids = self.arrange(target, self.distractors(product.id, pool, self.n_distractors()))
                answer, expected = product_answer(
                    kind, product, spec_key, self.position(ids, product.id)
                )
                examples.append(
                    QAExample(
                        self.next_id(kind), kind, question, answer, ids, [], product.id, expected
                    )
                )
        # A follow-up that needs the history to know which product "it" is.
        if rng.random() < 0.35:
            kind = rng.choice([k for k in self.phrasings.follow_ups if k in dict(kinds)])
            first = rng.choice(self.phrasings.templates["describe"].train).format(
                name=question_name(product, rng)
            )
            previous = f"Here is the {answer_name(product)}."
            ids = self.arrange(
                self.doc_view(product.id, False), self.distractors(product.id, pool, 1)
            )
            answer, expected = product_answer(kind, product, "", self.position(ids, product.id))
            examples.append(
                QAExample(
                    self.next_id("follow"),
                    kind,
                    rng.choice(self.phrasings.follow_ups[kind]),
                    answer,
                    ids,
                    [["user", first], ["bot", previous]],
                    product.id,
                    expected,
                )
            )
        return examples

    def description_example(
        self, product: Product, verifier: Verifier, max_specs: int
    ) -> QAExample | None:
        """Describe from attributes: the task prefix with the product's attribute passage as the
        only source → a description that references its attributes
        (:func:`~training.generator_data.facts.description_target`); None when the prompt shows
        no price. Draws nothing from the random generator, so the other examples stay as they
        were.

        The ``describe`` questions above copy a description a source shows ("Tell me about
        X"); this one writes a description no source shows, from the attributes alone — what
        ``shopbot describe`` asks (``knowledge.describe``).
        """
        passage = attribute_passage(product)
        target = description_target(product, verifier, self.budget, max_specs)
        if not target:
            return None
        self.passages[passage.id] = passage
        return QAExample(
            f"write-{product.id}", "describe", DESCRIBE_INSTRUCTION, target, [passage.id], [],
            product.id, "",
        )  # fmt: skip

    def unknown_examples(self, product: Product, pool: Sequence[Product]) -> list[QAExample]:
        """'Not in the sources' examples: the product is absent, or the attribute is."""
        rng = self.rng
        out: list[QAExample] = []
        # The asked product is not among the sources (retrieval found only other products).
        kind = rng.choice(self.askable(product, ("price", "brand", "stock", "category")))
        question = rng.choice(self.phrasings.templates[kind].train).format(
            name=question_name(product, rng), spec=""
        )
        distractors = self.distractors(
            product.id, pool, rng.randint(1, max(1, self.max_distractors + 1))
        )
        if distractors:
            out.append(
                QAExample(
                    self.next_id("absent"),
                    "unknown",
                    question,
                    UNKNOWN_ANSWER,
                    [p.id for p in distractors],
                )
            )
        # The product is there but the attribute is not (availability, when the data is silent).
        if product.in_stock is None and "stock" in self.allowed and rng.random() < 0.5:
            question = rng.choice(self.phrasings.templates["stock"].train).format(
                name=question_name(product, rng), spec=""
            )
        else:
            attribute = rng.choice(self.phrasings.absent_attributes)
            question = rng.choice(self.phrasings.templates["spec"].train).format(
                name=question_name(product, rng), spec=attribute
            )
        ids = self.arrange(self.doc_view(product.id, False), self.distractors(product.id, pool, 1))
        out.append(
            QAExample(self.next_id("noattr"), "unknown", question, UNKNOWN_ANSWER, ids, [], "")
        )
        return out

    def injection_examples(self, product: Product, pool: Sequence[Product]) -> list[QAExample]:
        """Injections in the question (alone → refuse; with a real question → answer it) and
        planted inside a source (the answer ignores them)."""
        rng = self.rng
        out: list[QAExample] = []
        injection = rng.choice(self.phrasings.question_injections)
        ids = self.arrange(self.doc_view(product.id, False), self.distractors(product.id, pool, 1))
        if rng.random() < 0.5:
            out.append(
                QAExample(self.next_id("inj-q"), "injection", injection, OFF_POLICY_ANSWER, ids)
            )
        else:
            kind = rng.choice(self.askable(product, ("price", "brand", "stock")))
            real = rng.choice(self.phrasings.templates[kind].train).format(
                name=question_name(product, rng), spec=""
            )
            answer, expected = product_answer(kind, product, "", self.position(ids, product.id))
            question = f"{real} {injection}" if rng.random() < 0.5 else f"{injection} {real}"
            out.append(
                QAExample(
                    self.next_id("inj-q"),
                    "injection",
                    question,
                    answer,
                    ids,
                    [],
                    product.id,
                    expected,
                )
            )
        kind = rng.choice(self.askable(product, ("price", "stock")))
        question = rng.choice(self.phrasings.templates[kind].train).format(
            name=question_name(product, rng), spec=""
        )
        target = list(self.doc_view(product.id, False))
        distractors = self.distractors(product.id, pool, 1)
        planted_injection = rng.choice(self.phrasings.passage_injections)
        if distractors and rng.random() < 0.5:
            distractors[0] = self.plant(distractors[0], planted_injection)
        else:
            target[0] = self.plant(target[0], planted_injection)
        ids = self.arrange(target, distractors)
        answer, expected = product_answer(kind, product, "", self.position(ids, product.id))
        out.append(
            QAExample(
                self.next_id("inj-p"), "injection", question, answer, ids, [], product.id, expected
            )
        )
        return out

    # --------------------------------------------------------------------------------- FAQ

    def faq_examples(self, entry: FaqEntry, pool: Sequence[FaqEntry], n: int) -> list[QAExample]:
        rng = self.rng
        out: list[QAExample] = []
        others = [e for e in pool if e.id != entry.id]
        for i in range(n):
            question = entry.question if i == 0 else faq_paraphrase(entry.question, rng)
            distractors: list[Passage] = []
            for _ in range(self.n_distractors()):
                if others and rng.random() < 0.75:
                    distractors += self.doc_view(rng.choice(others).id, False)
                elif self.products:
                    distractors.append(self.doc_passages[rng.choice(self.products).id][0])
            ids = list(dict.fromkeys(self.arrange([self.passages[entry.id]], distractors)))
            tag = source_tag(self.position(ids, entry.id))
            answer = f"{reference(ANSWER_FIELD)} [{tag}]"
            out.append(
                QAExample(
                    self.next_id("faq"),
                    "faq",
                    question,
                    answer,
                    ids,
                    [],
                    entry.id,
                    faq_key_sentence(entry.answer),
                )
            )
        return out

    def off_topic_examples(self, n: int) -> list[QAExample]:
        out: list[QAExample] = []
        for _ in range(n):
            question = self.rng.choice(self.phrasings.off_topic_questions)
            docs: list[Passage] = []
            for _ in range(self.rng.choice((1, 2))):
                if self.faqs and self.rng.random() < 0.5:
                    docs.append(self.passages[self.rng.choice(self.faqs).id])
                elif self.products:
                    docs.append(self.doc_passages[self.rng.choice(self.products).id][0])
            ids = list(dict.fromkeys(p.id for p in docs))
            out.append(
                QAExample(self.next_id("offtopic"), "unknown", question, UNKNOWN_ANSWER, ids)
            )
        return out
