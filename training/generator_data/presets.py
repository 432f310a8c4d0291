"""Data presets of the generator's training data and the prompt budget of each preset.

``train_generator`` stores the preset's prompt budget with the checkpoint; serving builds prompts
with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.prompt import PromptBudget

#: The product fact types fine-tuning asks about (the keys of the question templates).
PRODUCT_KINDS = ("price", "brand", "category", "spec", "stock", "describe")


@dataclass(frozen=True)
class DataPreset:
    """How much fine-tuning data a preset makes.

    Args:
        phrasings_per_fact: Questions per (product, fact type) for price; other types scale from it.
        faq_phrasings: Paraphrased questions per training FAQ entry.
        bitext_responses: Bitext responses in the pre-training text (0 = none).
        eval_products: Held-out products asked about in eval-answers (at most).
        kinds: Product fact types asked about (the tiny smoke preset keeps price and brand only,
            so that a model trained for seconds learns them reliably).
        max_distractors: Most other documents beside the answer's in one prompt.
        describe_specs: Most spec sentences of a describe-from-attributes target (a lead with
            name, brand, price and category, then a sentence per spec); 0 = no such examples.
    """

    phrasings_per_fact: int
    faq_phrasings: int
    bitext_responses: int
    eval_products: int
    kinds: tuple[str, ...] = PRODUCT_KINDS
    max_distractors: int = 2
    describe_specs: int = 6


DATA_PRESETS: dict[str, DataPreset] = {
    "tiny": DataPreset(
        phrasings_per_fact=8,
        faq_phrasings=6,
        bitext_responses=0,
        eval_products=4,
        kinds=("price", "brand"),
        max_distractors=1,
        # Off here: the smoke model must learn price and brand reliably in seconds (with
        # describe examples the fixture model's held-out price answer broke); add them with
        # `python -m training.prepare_generator --preset tiny --describe-specs 4`.
        describe_specs=0,
    ),
    "demo": DataPreset(
        phrasings_per_fact=2,
        faq_phrasings=14,
        bitext_responses=1200,
        eval_products=60,
        max_distractors=1,
    ),
    "full": DataPreset(
        phrasings_per_fact=5,
        faq_phrasings=30,
        bitext_responses=4514,
        eval_products=120,
        describe_specs=8,
    ),
}
# The prompt budget of each preset; train_generator stores it with the checkpoint.
PROMPT_BUDGETS: dict[str, PromptBudget] = {
    "tiny": PromptBudget(
        max_prompt_tokens=176,
        max_source_tokens=72,
        max_question_tokens=32,
        max_history_tokens=24,
        max_top_source_tokens=104,
    ),
    "demo": PromptBudget(
        max_prompt_tokens=200,
        max_source_tokens=56,
        max_question_tokens=40,
        max_history_tokens=32,
        max_top_source_tokens=120,
    ),
    "full": PromptBudget(
        max_prompt_tokens=896,
        max_source_tokens=256,
        max_question_tokens=96,
        max_history_tokens=128,
        max_top_source_tokens=384,
    ),
}
