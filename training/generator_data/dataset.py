"""The generator's dataset: the held-out split, fine-tuning examples, evaluation questions,
injection fixtures and the pre-training text, built in memory from the store.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

from tqdm import tqdm

from knowledge.catalog.model import Product
from knowledge.faq import FaqEntry
from knowledge.passages import faq_passage, product_passages
from knowledge.prompt import render_document
from knowledge.verifier import Verifier
from training.generator_data.builder import QABuilder
from training.generator_data.facts import (
    faq_key_sentence,
    faq_paraphrase,
    product_answer,
    question_name,
    spec_question_key,
)
from training.generator_data.phrasings import field_questions, load_phrasings
from training.generator_data.presets import DATA_PRESETS, PROMPT_BUDGETS
from training.generator_data.records import EvalQuestion, GeneratorDataset, QAExample

logger = logging.getLogger(__name__)


def _eval_questions(
    products: Sequence[Product],
    faqs: Sequence[FaqEntry],
    builder: QABuilder,
    seed: int,
) -> list[EvalQuestion]:
    """Held-out questions: alternate seen and unseen phrasings per product and fact type.

    Each question draws from its own random generator, seeded by ``seed`` and what it asks about
    (:func:`_question_rng`): the training examples, and how many phrasings fine-tuning has, never
    move another question. (A "seen" question picks one of the training phrasings, so adding some
    can change that question's wording, never its product, fact or expected answer.)
    """
    phrasings = load_phrasings()
    out: list[EvalQuestion] = []
    counter = 0
    for product in products:
        kinds = builder.product_kinds(product)
        specs = [k for k in kinds if k[0] == "spec"]
        asked = [k for k in kinds if k[0] in ("price", "brand", "category", "stock")]
        if specs:
            asked.append(_question_rng(seed, product.id, "spec").choice(specs))
        for kind, spec_key in asked:
            rng = _question_rng(seed, product.id, kind)
            counter += 1
            split = "unseen" if counter % 2 else "seen"
            phrasing = phrasings.templates[kind]
            templates = phrasing.held_out if split == "unseen" else phrasing.train
            question = rng.choice(templates).format(
                name=question_name(product, rng), spec=spec_question_key(spec_key, rng)
            )
            _, expected = product_answer(kind, product, spec_key)
            out.append(
                EvalQuestion(f"ev-{counter:05d}", kind, question, product.id, expected, split)
            )
        if product.in_stock is None and "stock" in builder.allowed:
            # The catalog does not say: the right answer is "I don't know", never a guess.
            rng = _question_rng(seed, product.id, "stock-unknown")
            counter += 1
            split = "unseen" if counter % 2 else "seen"
            phrasing = phrasings.templates["stock"]
            templates = phrasing.held_out if split == "unseen" else phrasing.train
            question = rng.choice(templates).format(name=question_name(product, rng), spec="")
            out.append(EvalQuestion(f"ev-{counter:05d}", "unknown", question, "", "", split))
    for entry in faqs:
        for i, split in enumerate(("seen", "unseen", "unseen")):
            counter += 1
            held_out = split == "unseen"
            rng = _question_rng(seed, entry.id, str(i))
            question = faq_paraphrase(entry.question, rng, held_out=held_out)
            out.append(
                EvalQuestion(
                    f"ev-{counter:05d}",
                    "faq",
                    question,
                    entry.id,
                    faq_key_sentence(entry.answer),
                    split,
                )
            )
    for question in phrasings.off_topic_questions[:6]:
        counter += 1
        out.append(EvalQuestion(f"ev-{counter:05d}", "unknown", question, "", "", "seen"))
    return out


def _question_rng(seed: int, *about: str) -> random.Random:
    """The random generator of one evaluation question (a string seed is hashed with SHA-512, so
    it is the same in every process)."""
    return random.Random(":".join([str(seed), *about]))


def _injection_eval(products: Sequence[Product], seed: int) -> list[dict[str, Any]]:
    """Injection fixtures for eval-answers: in the question, and planted in the top passage."""
    phrasings = load_phrasings()
    out: list[dict[str, Any]] = []
    for i, injection in enumerate(phrasings.eval_question_injections):
        out.append({"id": f"inj-q-{i}", "where": "question", "question": injection, "plant": ""})
        if products:
            product = products[i % len(products)]
            rng = _question_rng(seed, "injection", str(i))
            real = phrasings.templates["price"].held_out[0].format(name=question_name(product, rng))
            out.append(
                {
                    "id": f"inj-qp-{i}",
                    "where": "question",
                    "question": f"{real} {injection}",
                    "plant": "",
                    "doc_id": product.id,
                }
            )
    for i, injection in enumerate(phrasings.eval_passage_injections):
        for j, product in enumerate(products[:3]):
            rng = _question_rng(seed, "injection", str(i), str(j))
            question = (
                phrasings.templates["price"].train[j % 3].format(name=question_name(product, rng))
            )
            out.append(
                {
                    "id": f"inj-p-{i}-{j}",
                    "where": "passage",
                    "question": question,
                    "plant": injection,
                    "doc_id": product.id,
                }
            )
    return out


def pretrain_texts(
    products: Sequence[Product], faqs: Sequence[FaqEntry], bitext: Sequence[str]
) -> list[str]:
    """Stage 1 documents: sources in prompt layout, descriptions, FAQ pairs, support responses."""
    texts: list[str] = []
    for product in products:
        passages = product_passages(product)
        texts.append(render_document(passages))
        if product.description:
            texts.append(f"{product.name}. {product.description}")
    for entry in faqs:
        texts.append(render_document([faq_passage(entry)]))
        texts.append(f"Q: {entry.question}\nA: {entry.answer}")
    texts += list(bitext)
    return texts


def build_dataset(
    products: Sequence[Product],
    faqs: Sequence[FaqEntry],
    bitext: Sequence[str],
    preset: str = "demo",
    seed: int = 13,
    holdout_products: float = 0.1,
    holdout_faq: float = 0.15,
    valid_fraction: float = 0.03,
    min_holdout: int = 1,
    describe_specs: int | None = None,
) -> GeneratorDataset:
    """Build pre-training text, fine-tuning examples and the held-out evaluation set.

    Args:
        products: The catalog.
        faqs: The FAQ.
        bitext: Cleaned support responses for pre-training.
        preset: Data size preset (``tiny``/``demo``/``full``).
        seed: Random seed; the same inputs and seed give the same dataset.
        holdout_products: Share of products never used in fine-tuning.
        holdout_faq: Share of FAQ entries never used in fine-tuning.
        valid_fraction: Share of fine-tuning examples kept for the validation loss.
        min_holdout: At least this many products and FAQ entries are held out (when there are
            more than that many).
        describe_specs: Most spec sentences of a describe-from-attributes target (0: no such
            examples); the preset's ``describe_specs`` when None.

    Returns:
        The dataset.
    """
    if preset not in DATA_PRESETS:
        raise ValueError(
            f"preset must be one of {sorted(DATA_PRESETS)}. Currently, preset is {preset!r}."
        )
    config = DATA_PRESETS[preset]
    rng = random.Random(seed)
    products = sorted(products, key=lambda p: p.id)
    faqs = sorted(faqs, key=lambda e: (len(e.id), e.id))
    shuffled = list(products)
    rng.shuffle(shuffled)
    n_hold = min(len(shuffled) - 1, max(min_holdout, round(len(shuffled) * holdout_products)))
    held_products, train_products = shuffled[: max(n_hold, 0)], shuffled[max(n_hold, 0) :]
    faq_shuffled = list(faqs)
    rng.shuffle(faq_shuffled)
    n_hold_faq = min(len(faq_shuffled) - 1, max(min_holdout, round(len(faqs) * holdout_faq)))
    held_faq, train_faq = faq_shuffled[: max(n_hold_faq, 0)], faq_shuffled[max(n_hold_faq, 0) :]

    budget = PROMPT_BUDGETS[preset]
    # Distractors come from the whole store (a held-out product may sit beside the answer as a
    # distractor, as it would in retrieval), but held-out products and FAQ entries are never asked
    # about or answered from.
    builder = QABuilder(products, faqs, budget, rng, config.kinds, config.max_distractors)
    examples: list[QAExample] = []
    for product in tqdm(train_products, desc="QA pairs (products)", unit="product"):
        examples += builder.product_examples(product, products, config.phrasings_per_fact)
        if rng.random() < 0.6:
            examples += builder.unknown_examples(product, products)
        if rng.random() < 0.3:
            examples += builder.injection_examples(product, products)
    for entry in tqdm(train_faq, desc="QA pairs (FAQ)", unit="entry"):
        examples += builder.faq_examples(entry, faqs, config.faq_phrasings)
    examples += builder.off_topic_examples(max(4, len(train_products) // 10))
    rng.shuffle(examples)
    n_valid = int(len(examples) * valid_fraction)
    valid, train = examples[:n_valid], examples[n_valid:]
    describe_specs = config.describe_specs if describe_specs is None else describe_specs
    if describe_specs:
        # Describe-from-attributes examples, mixed in with their own random generator: the main
        # one's draws (and so every other example and the evaluation questions) stay unchanged.
        verifier = Verifier()
        # Each rejected candidate sentence would be logged: the verifier's log is for answers.
        verifier_log = logging.getLogger("knowledge.verifier")
        level = verifier_log.level
        verifier_log.setLevel(logging.WARNING)
        described = [
            ex
            for product in tqdm(train_products, desc="describe examples", unit="product")
            if (ex := builder.description_example(product, verifier, describe_specs))
        ]
        verifier_log.setLevel(level)
        mix = random.Random(seed + 1)
        for ex in described:
            target = valid if mix.random() < valid_fraction else train
            target.insert(mix.randint(0, len(target)), ex)

    eval_products = held_products[: config.eval_products]
    eval_questions = _eval_questions(eval_products, held_faq, builder, seed)
    injection_eval = _injection_eval(eval_products, seed)
    phrasings = load_phrasings()
    split = {
        "held_out_products": sorted(p.id for p in held_products),
        "held_out_faq": sorted(e.id for e in held_faq),
        "held_out_templates": {kind: list(t.held_out) for kind, t in phrasings.templates.items()},
        "eval_question_injections": list(phrasings.eval_question_injections),
        "eval_passage_injections": list(phrasings.eval_passage_injections),
    }
    used = {pid for ex in train + valid for pid in ex.passage_ids}
    passages = {pid: builder.passages[pid] for pid in sorted(used)}
    logger.info(
        "Dataset: %d train / %d valid examples, %d eval questions, %d injection fixtures; "
        "held out %d products and %d FAQ entries",
        len(train),
        len(valid),
        len(eval_questions),
        len(injection_eval),
        len(held_products),
        len(held_faq),
    )
    return GeneratorDataset(
        pretrain=pretrain_texts(products, faqs, bitext),
        passages=passages,
        train=train,
        valid=valid,
        eval_questions=eval_questions,
        injection_eval=injection_eval,
        split=split,
        field_questions=field_questions(phrasings),
    )
