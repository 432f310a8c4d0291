"""The frozen shopper evaluation set (``tests/fixtures/shopper_eval/v1``): it loads, matches the
domain, FAQ and catalog, meets its minimum counts, and its files match PROVENANCE.md's sha256."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from training.shopper_eval import (
    DEV2_DIR,
    DEV2_MINIMUMS,
    DEV3_DIR,
    DEV3_MINIMUMS,
    DEV_DIR,
    DEV_MINIMUMS,
    EVAL_DIR,
    FILES,
    MIN_OUT_OF_SCOPE,
    MIN_PER_INTENT,
    MIN_PER_STEP,
    SYSTEM_INTENTS,
    ShopperEvalError,
    ShopperEvalSet,
    domain_form_steps,
    domain_intents,
    file_sha256,
    load_shopper_eval,
    normalize_text,
    recorded_hashes,
)


@pytest.fixture(scope="module")
def evalset() -> ShopperEvalSet:
    return load_shopper_eval()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "v1"
    shutil.copytree(EVAL_DIR, target)
    return target


def test_every_shopper_intent_and_form_step_has_enough_examples(evalset: ShopperEvalSet) -> None:
    per_intent = Counter(e.intent for e in evalset.intents)
    for intent in domain_intents() - SYSTEM_INTENTS:
        needed = MIN_OUT_OF_SCOPE if intent == "out_of_scope" else MIN_PER_INTENT
        assert per_intent[intent] >= needed, intent
    per_step = Counter(a.step for a in evalset.form_answers)
    assert set(per_step) == domain_form_steps()
    assert min(per_step.values()) >= MIN_PER_STEP
    assert len(evalset.faq_questions) >= 120
    assert sum(1 for n in Counter(q.faq_id for q in evalset.faq_questions).values() if n >= 3) >= 40
    assert len(evalset.product_questions) >= 80


def test_out_of_scope_includes_hard_negatives(evalset: ShopperEvalSet) -> None:
    hard = [e for e in evalset.intents if e.intent == "out_of_scope" and e.note]
    assert len(hard) >= 20


def test_product_questions_mix_catalog_answers_and_things_the_store_does_not_sell(
    evalset: ShopperEvalSet,
) -> None:
    questions = evalset.product_questions
    assert sum(q.not_in_store for q in questions) >= 15
    assert sum(bool(q.product_ids) for q in questions) >= 65
    adapted = [q for q in questions if q.note and "Amazon QA" in q.note]
    assert len(adapted) >= 30


def test_gold_slot_values_are_what_each_form_step_keeps(evalset: ShopperEvalSet) -> None:
    """Each gold value has the shape the form stores (None: the form must ask again)."""
    shapes = {
        "order_number": r"\d{6}",
        "email": r"[a-z0-9._%+'-]+@[a-z0-9-]+(\.[a-z0-9-]+)*",
        "return_item": r"\d+(,\d+)*",
        "item_condition": r"unopened|like_new|defective|used",
        "new_address": r"[^,]*\d[^,]*, ([^,]+, )?[^,\d]+, [A-Z]{2} \d{5}(-\d{4})?, US",
        "order_confirmed": r"yes|no",
    }
    for answer in evalset.form_answers:
        if answer.expected is not None:
            assert re.fullmatch(shapes[answer.slot], answer.expected), answer
    for slot in ("order_number", "email", "item_condition", "new_address"):
        invalid = [a for a in evalset.form_answers if a.slot == slot and a.expected is None]
        assert invalid, f"{slot} needs answers the form must refuse"
    confirmations = [a for a in evalset.form_answers if a.slot == "order_confirmed"]
    assert {a.expected for a in confirmations} == {"yes", "no"}


def test_the_files_match_the_sha256_in_provenance() -> None:
    recorded = recorded_hashes()
    assert set(recorded) == set(FILES)
    for name in FILES:
        assert file_sha256(EVAL_DIR / name) == recorded[name], name


def test_a_changed_file_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    intents = folder / "intents.yml"
    intents.write_text(intents.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(ShopperEvalError, match=r"intents\.yml has sha256 .* new version directory"):
        load_shopper_eval(folder)


def test_an_intent_the_domain_does_not_define_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with (folder / "intents.yml").open("a", encoding="utf-8") as f:
        f.write("- text: where can i buy a unicorn\n  intent: buy_unicorn\n")
    with pytest.raises(ShopperEvalError, match="intent 'buy_unicorn'"):
        load_shopper_eval(folder, check_hashes=False)


def test_an_unknown_product_id_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with (folder / "product_questions.yml").open("a", encoding="utf-8") as f:
        f.write("- text: a solid gold yo-yo\n  product_ids: [nope]\n")
    with pytest.raises(ShopperEvalError, match="product id 'nope'"):
        load_shopper_eval(folder, check_hashes=False)


def test_a_text_repeated_across_files_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    with (folder / "faq_questions.yml").open("a", encoding="utf-8") as f:
        f.write("- text: 'Thanks!'\n  faq_id: faq-1\n")  # "thanks" is in intents.yml
    with pytest.raises(ShopperEvalError, match=r"duplicates a text in intents\.yml"):
        load_shopper_eval(folder, check_hashes=False)


def test_too_few_examples_for_an_intent_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "intents.yml"
    kept = re.sub(r"- text: [^\n]*\n  intent: greet\n(  note: [^\n]*\n)?", "", path.read_text())
    path.write_text(kept, encoding="utf-8")
    with pytest.raises(ShopperEvalError, match="intent 'greet' has 0 messages"):
        load_shopper_eval(folder, check_hashes=False)


def test_the_set_validates_in_a_checkout_without_a_built_store(tmp_path: Path) -> None:
    """Without ``var/store`` the ids come from the sources ``prepare-store`` reads."""
    evalset = load_shopper_eval(
        faq_path=tmp_path / "faq.jsonl", catalog_path=tmp_path / "catalog.jsonl"
    )
    assert evalset.intents


def test_the_development_set_loads_apart_from_the_test_set(evalset: ShopperEvalSet) -> None:
    dev = load_shopper_eval(DEV_DIR, minimums=DEV_MINIMUMS)
    assert len(dev.faq_questions) >= DEV_MINIMUMS.faq_questions
    assert not dev.form_answers and not dev.product_questions
    assert set(Counter(e.intent for e in dev.intents)) == set(
        Counter(e.intent for e in evalset.intents)
    )
    test_texts = {normalize_text(e.text) for e in evalset.intents}
    assert not any(normalize_text(e.text) in test_texts for e in dev.intents)


def test_the_second_development_set_holds_intents_only_apart_from_both_sets(
    evalset: ShopperEvalSet,
) -> None:
    dev2 = load_shopper_eval(DEV2_DIR, minimums=DEV2_MINIMUMS)
    assert not dev2.faq_questions and not dev2.form_answers and not dev2.product_questions
    assert {e.intent for e in dev2.intents} == {e.intent for e in evalset.intents}
    dev1 = load_shopper_eval(DEV_DIR, minimums=DEV_MINIMUMS)
    earlier = {normalize_text(e.text) for s in (evalset, dev1) for e in s.intents}
    assert not [e.text for e in dev2.intents if normalize_text(e.text) in earlier]


def test_the_third_development_set_holds_faq_and_out_of_scope_questions_apart_from_the_test_set(
    evalset: ShopperEvalSet,
) -> None:
    dev3 = load_shopper_eval(DEV3_DIR, minimums=DEV3_MINIMUMS)
    assert len(dev3.faq_questions) >= DEV3_MINIMUMS.faq_questions
    assert {e.intent for e in dev3.intents} == {"out_of_scope"} and len(dev3.intents) >= 30
    assert not dev3.form_answers and not dev3.product_questions
    test = {normalize_text(t) for t in _texts(evalset)}
    assert not [t for t in _texts(dev3) if normalize_text(t) in test]


def _texts(evalset: ShopperEvalSet) -> list[str]:
    return [
        *(e.text for e in evalset.intents),
        *(q.text for q in evalset.faq_questions),
        *(a.text for a in evalset.form_answers),
        *(q.text for q in evalset.product_questions),
    ]


def test_a_development_set_that_repeats_a_test_message_is_refused(
    evalset: ShopperEvalSet, tmp_path: Path
) -> None:
    target = tmp_path / "dev"
    shutil.copytree(DEV_DIR, target)
    intents = target / "intents.yml"
    leaked = evalset.intents[0]
    intents.write_text(
        intents.read_text(encoding="utf-8")
        + f"- text: {leaked.text.upper()!r}\n  intent: {leaked.intent}\n",
        encoding="utf-8",
    )
    with pytest.raises(ShopperEvalError, match="also in the test set"):
        load_shopper_eval(target, minimums=DEV_MINIMUMS, check_hashes=False)
    # The development set's own hashes still guard it.
    with pytest.raises(ShopperEvalError, match="sha256"):
        load_shopper_eval(target, minimums=DEV_MINIMUMS)
    # The test set may not leave out a part.
    test_copy = _copy(tmp_path)
    (test_copy / "product_questions.yml").unlink()
    with pytest.raises(ShopperEvalError, match=re.escape("product_questions.yml")):
        load_shopper_eval(test_copy)
