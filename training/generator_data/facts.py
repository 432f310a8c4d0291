"""Facts and answers: how questions name a product or a spec, and the cited answer each fact gets.

Answers are short sentences that reference the source's fields and cite it
(``The [[name]] costs [[Price]] [S1].``, see ``knowledge.references``).
"""

from __future__ import annotations

import random

from knowledge.catalog.model import Product
from knowledge.describe import attribute_specs, describe_prompt
from knowledge.passages import availability_text
from knowledge.prompt import (
    PromptBudget,
    build_prompt,
    format_price,
    sanitize,
    short_name,
    source_tag,
    split_sentences,
)
from knowledge.references import (
    NAME_FIELD,
    PromptSources,
    ReferenceError,
    display_name,
    key_sentences,
    reference,
    without_article,
)
from knowledge.types import Passage
from knowledge.verifier import Verifier
from training.generator_data.phrasings import load_phrasings


def answer_name(product: Product) -> str:
    """The product name answers use (the first words of the title, as a ``name`` reference
    expands to)."""
    return display_name(product.name)


def question_name(product: Product, rng: random.Random) -> str:
    """A product name as a shopper types it: the first 3-6 words, sometimes lower-cased."""
    title = without_article(sanitize(product.name))
    name = short_name(title, max_words=rng.choice((3, 4, 5, 6)))
    if len(name.split()) < 2:
        name = short_name(title, max_words=6)
    return name.lower() if rng.random() < 0.2 else name


def spec_question_key(key: str, rng: random.Random) -> str:
    """How a shopper names spec ``key``."""
    return rng.choice(load_phrasings().spec_aliases.get(key, (key.lower(),)))


def description_sentence(text: str, max_words: int = 24) -> str:
    """The first informative sentence of a description, at most ``max_words`` words, ending in '.'."""
    for sentence in split_sentences(sanitize(text)):
        words = sentence.split()
        if len(words) >= 5:
            out = " ".join(words[:max_words]).rstrip(",;:-")
            return out if out[-1:] in ".!?" else out + "."
    return ""


# A description's wording: the lead names the product, its brand, price and category; each spec
# the attributes show gets a sentence. Values are references (``[[S1:Price]]``) that the decoder
# expands to the attribute passage's exact text, as in answers; the model learns the wording and
# which attributes to state.
_DESCRIBE_LEADS = (
    "The {name}{by} costs {price} and is listed under {category}.",
    "The {name}{by} is listed under {category} and costs {price}.",
    "The {name}{by}, listed under {category}, costs {price}.",
)
_DESCRIBE_LEADS_NO_CATEGORY = ("The {name}{by} costs {price}.",)
_DESCRIBE_SPECS = {
    "product dimensions": ("It measures {value}.", "Its dimensions are {value}."),
    "item weight": ("It weighs {value}.", "Its weight is {value}."),
    "shipping weight": ("Its shipping weight is {value}.",),
    "manufacturer recommended age": (
        "The manufacturer recommends it for {value}.",
        "The recommended age is {value}.",
    ),
    "release date": ("It was released on {value}.",),
    "batteries": ("Batteries: {value}.",),
}
_DESCRIBE_SPEC_DEFAULT = ("Its {label} is {value}.",)


def description_target(
    product: Product,
    verifier: Verifier,
    budget: PromptBudget | None = None,
    max_specs: int = 6,
) -> str:
    """The target of a describe-from-attributes example: a lead with the product's name, brand,
    price and category, then one sentence per spec the prompt shows (at most ``max_specs``), every
    value a reference to the attribute passage (``The [[S1:name]] by [[S1:Brand]] costs
    [[S1:Price]] and is listed under [[S1:Category]]. It weighs [[S1:Item Weight]].``).

    The wording of each sentence is drawn with a random generator seeded by the product's id (the
    main generator's draws stay as they were). Only what the description prompt shows
    (``knowledge.describe.describe_prompt``, tokens estimated with :func:`approx_tokens`) is
    referenced, and a sentence whose expansion the verifier refuses (``generated=True``: a
    repeated phrase) is left out. ``""`` when the prompt shows no price.
    """
    rng = random.Random(product.id)
    built = describe_prompt(product, budget, approx_tokens)
    sources = PromptSources.of(built)

    def ref(label: str) -> str:
        return reference(label, "S1")

    def shows(label: str) -> bool:
        try:
            sources.value("S1", label)
        except ReferenceError:
            return False
        return True

    if not shows("Price"):
        return ""
    by = ""
    brand = sanitize(product.brand).lower()
    if brand and shows("Brand") and brand not in answer_name(product).lower():
        by = f" by {ref('Brand')}"
    leads = _DESCRIBE_LEADS if shows("Category") else _DESCRIBE_LEADS_NO_CATEGORY
    sentences = [
        rng.choice(leads).format(
            name=ref(NAME_FIELD), by=by, price=ref("Price"), category=ref("Category")
        )
    ]
    attributes = built.passages
    if verifier.verify(sources.expand(sentences[0]), attributes, generated=True).unsupported:
        return ""
    for key in attribute_specs(product):
        if len(sentences) - 1 >= max_specs:
            break
        label = sanitize(key)
        if not shows(label):
            continue
        frames = _DESCRIBE_SPECS.get(label.lower(), _DESCRIBE_SPEC_DEFAULT)
        sentence = rng.choice(frames).format(value=ref(label), label=label.lower())
        candidate = " ".join([*sentences, sentence])
        if verifier.verify(sources.expand(candidate), attributes, generated=True).unsupported:
            continue  # e.g. the same weight said twice: a repeated phrase
        sentences.append(sentence)
    return " ".join(sentences)


def faq_key_sentence(answer: str, max_words: int = 40) -> str:
    """The part of an FAQ answer that answers restate (what an ``answer`` reference expands to)."""
    return key_sentences(answer, max_words)


# The answer sentence of each product fact; the generator writes the references, the decoder
# copies the values (knowledge.references).
_FACT_SENTENCES = {
    "price": "The {name} costs {value} {tag}.",
    "brand": "The {name} is made by {value} {tag}.",
    "category": "The {name} is listed under {value} {tag}.",
    "stock": "The {name} is {value} {tag}.",
    "spec": "The {label} of the {name} is {value} {tag}.",
}


def product_answer(
    kind: str, product: Product, spec_key: str = "", position: int = 1
) -> tuple[str, str]:
    """Return ``(answer, expected fact)`` for a question of ``kind`` about ``product``, whose
    document is source ``position`` of the prompt.

    Answers are short sentences that write references for the name and the value and cite their
    source at the end: ``The [[name]] costs [[Price]] [S1].``, which the decoder expands to
    ``The Guillow Airplane Design Studio costs $28.91 [S1].`` The model learns which field
    answers the question and the wording; the label it references is a short copy from the
    source (``Price:``, ``Item Weight:``). A description question copies the description's first
    sentence after the name.
    """
    tag = source_tag(position)
    name = reference(NAME_FIELD)
    if kind == "describe":
        sentence = description_sentence(product.description)
        return f"{name}: {sentence.rstrip('.')} [{tag}].", sentence
    if kind == "price":
        label, expected = "Price", format_price(product.price, product.currency)
    elif kind == "brand":
        label, expected = "Brand", sanitize(product.brand)
    elif kind == "category":
        label, expected = "Category", sanitize(product.category[-1])
    elif kind == "spec":
        label, expected = sanitize(spec_key), sanitize(product.specs[spec_key])
    elif kind == "stock":
        label = "Availability"
        if not availability_text(product):
            raise ValueError(f"product {product.id} has no availability to ask about")
        expected = "in stock" if product.in_stock else "out of stock"
    else:
        raise ValueError(
            f"kind must be one of {sorted(load_phrasings().templates)}. Currently, kind is {kind!r}."
        )
    answer = _FACT_SENTENCES[kind].format(
        name=name, value=reference(label), tag=f"[{tag}]", label=label.lower()
    )
    return answer, expected


def approx_tokens(text: str) -> int:
    """A tokenizer-free token estimate: every digit is a token (the tokenizer splits digits),
    other text about 3.5 characters per token."""
    digits = sum(c.isdigit() for c in text)
    return max(1, digits + int((len(text) - digits) / 3.5) + 1)


def visible_specs(product: Product, header: Passage, budget: PromptBudget) -> list[str]:
    """Spec keys (known to shoppers) whose value is inside the prompt when the product is the top
    source (an estimate with :func:`approx_tokens`; fine-tuning also drops any example whose fact
    the real tokenizer's prompt does not show)."""
    built = build_prompt("?", [header], budget=budget, count_tokens=approx_tokens)
    aliases = load_phrasings().spec_aliases
    return [
        key
        for key, value in product.specs.items()
        if key in aliases and value and f"{key}: {sanitize(value)}" in built.text
    ]


def faq_paraphrase(question: str, rng: random.Random, held_out: bool = False) -> str:
    """A paraphrase of an FAQ question: a rewrite, a greeting, casing, punctuation."""
    phrasings = load_phrasings()
    rewrites = phrasings.held_out_faq_rewrites if held_out else phrasings.faq_rewrites
    prefixes = phrasings.held_out_faq_prefixes if held_out else phrasings.faq_prefixes
    text = question.strip()
    applicable = [(a, b) for a, b in rewrites if a in text]
    if applicable and (held_out or rng.random() < 0.6):
        a, b = rng.choice(applicable)
        text = text.replace(a, b, 1)
    prefix = rng.choice(prefixes)
    if prefix:
        text = prefix + text[0].lower() + text[1:]
    if rng.random() < 0.25:
        text = text.lower().rstrip("?")
    if not held_out:
        text += rng.choice(phrasings.faq_suffixes)
    return text
