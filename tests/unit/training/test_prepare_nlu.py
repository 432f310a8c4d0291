"""Tests for training/prepare_nlu.py: placeholders, annotation, dedup, groups, split, writers."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from training.prepare_nlu import (
    BITEXT_INTENTS,
    HANDWRITTEN_FILES,
    PRODUCT_TEMPLATES_FILE,
    TOPIC_OF_INTENT,
    EntitySpan,
    NluExample,
    PrepareNluArgs,
    assign_paraphrase_groups,
    cap_per_intent,
    clean_placeholders,
    dedup_examples,
    fill_placeholders,
    generate_product_examples,
    load_catalog_terms,
    load_product_templates,
    parse_rasa_annotation,
    read_bitext,
    read_handwritten,
    render_rasa_nlu,
    run_prepare_nlu,
    short_product_mention,
    split_grouped,
    to_rasa_annotation,
    write_rasa_nlu,
)

ROOT = Path(__file__).resolve().parents[3]
BITEXT = ROOT / "data/demo/bitext/v11_instruction_intent.csv"
DEMO_CATALOG = ROOT / "data/demo/catalog/amazon_products_sample1000.csv"
SOURCES = ROOT / "bot/data/nlu"
EXTRA_INTENTS = {
    "greet", "goodbye", "affirm", "deny", "thank", "bot_challenge", "product_question",
    "product_search", "human_handoff", "out_of_scope", "inform",
}  # fmt: skip


def _assert_spans(text: str, spans: tuple[EntitySpan, ...]) -> None:
    for span in spans:
        assert text[span.start : span.end] == span.value, (text, span)
        assert span.value == span.value.strip() and span.value


def _rasa_read(document: str) -> list[tuple[str, str, list[tuple[int, int, str, str]]]]:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().reads(document)
    return [
        (
            m.get("text"),
            m.get("intent"),
            sorted(
                (e["start"], e["end"], e["entity"], e["value"]) for e in m.get("entities") or []
            ),
        )
        for m in data.training_examples
    ]


# --- placeholders and annotation ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "entities"),
    [
        ("i need help cancelling purchase {{Order Number}}", ["order_number"]),
        ("I paid {{Currency Symbol}}{{Refund Amount}} for this item, help me", ["amount"]),
        ("I am waiting for a rebate of {{Refund Amount}} doolars", ["amount"]),
        ("show me invoice{{Invoice Number}}", ["invoice_number"]),
        ("is it possible to order from {{Delivery City}}?", ["city"]),
        ("do you ship to {{Delivery Country}}?", ["country"]),
        ("send me the bill from {{Person Name}}, please", ["person_name"]),
        ("switch to the {{Account Type}} account", ["account_type"]),
        ("open a {{Account Category}} account", ["account_category"]),
        ("order {{Order Number}} from {{Delivery City}}", ["order_number", "city"]),
    ],
)
def test_fill_placeholders_spans_match_values(raw: str, entities: list[str]) -> None:
    for seed in range(20):
        text, spans = fill_placeholders(raw, random.Random(seed))
        assert "{" not in text and "}" not in text
        _assert_spans(text, spans)
        assert [s.entity for s in spans] == entities


def test_fill_placeholders_value_shapes() -> None:
    orders = [
        fill_placeholders("track {{Order Number}}", random.Random(i))[1][0] for i in range(200)
    ]
    assert all(re.fullmatch(r"#?\d{6}", s.value) for s in orders)
    assert any(s.value.startswith("#") for s in orders) and any(
        s.value[0].isdigit() for s in orders
    )
    text, spans = fill_placeholders(
        "refund of {{Currency Symbol}}{{Refund Amount}} now", random.Random(1)
    )
    assert len(spans) == 1 and re.fullmatch(r"[$€£]\d+(\.\d\d)?", spans[0].value), text
    text, spans = fill_placeholders("rebate of {{Refund Amount}} dollars", random.Random(1))
    assert spans[0].value.endswith("dollars") and text.endswith(spans[0].value)
    _, spans = fill_placeholders("my invoice {{Invoice Number}}", random.Random(1))
    assert re.fullmatch(r"INV-20\d\d-\d{6}", spans[0].value)


def test_fill_placeholders_unknown_placeholder_names_it() -> None:
    with pytest.raises(ValueError, match=r"\{\{Coupon Code\}\}.*PLACEHOLDER_ENTITIES"):
        fill_placeholders("use {{Coupon Code}}", random.Random(0))


def test_clean_placeholders_gives_entity_names() -> None:
    assert clean_placeholders("cancel order {{Order Number}}").split() == [
        "cancel",
        "order",
        "order_number",
    ]


def test_brackets_in_text_do_not_break_rasa_annotation() -> None:
    text, spans = parse_rasa_annotation("is the [Lego Set](product) ok? {x} [y]")
    assert text == "is the Lego Set ok? (x) (y)"
    assert spans == (EntitySpan(7, 15, "product", "Lego Set"),)
    # Literal markup in source text must not turn into a phantom entity.
    plain, order_spans = fill_placeholders(
        "see [this](link) {a} for {{Order Number}}", random.Random(3)
    )
    assert plain.startswith("see (this)(link) (a) for ")
    examples = [
        NluExample(text, "product_question", spans),
        NluExample(plain, "track_order", order_spans),
    ]
    read = _rasa_read(render_rasa_nlu(examples))
    assert sorted(read) == sorted(
        (e.text, e.intent, sorted((s.start, s.end, s.entity, s.value) for s in e.entities))
        for e in examples
    )
    assert [entity for _, _, ents in read for *_, entity, _ in ents].count("link") == 0


def test_annotation_round_trips_through_rasa_reader() -> None:
    rng = random.Random(0)
    raws = [
        "I paid {{Currency Symbol}}{{Refund Amount}}, for order {{Order Number}}",
        "invoice{{Invoice Number}} from {{Person Name}}?",
        "  rebating   {{Refund Amount}} dollars  ",
        "deliver to {{Delivery City}} in {{Delivery Country}}",
    ]
    examples = [
        NluExample(text, "get_refund", spans)
        for text, spans in (fill_placeholders(raw, rng) for raw in raws)
    ]
    read = _rasa_read(render_rasa_nlu(examples))
    assert sorted(read) == sorted(
        (e.text, e.intent, sorted((s.start, s.end, s.entity, s.value) for s in e.entities))
        for e in examples
    )
    for example in examples:
        line = to_rasa_annotation(example.text, example.entities)
        assert parse_rasa_annotation(line) == (example.text, example.entities)


def test_to_rasa_annotation_rejects_bad_spans() -> None:
    with pytest.raises(ValueError, match="entities="):
        to_rasa_annotation("order 123456", [EntitySpan(6, 12, "order_number", "654321")])


# --- dedup ----------------------------------------------------------------------------------------
def test_dedup_removes_exact_duplicates_within_intent() -> None:
    rows = [
        NluExample("Cancel order {{Order Number}}", "cancel_order"),
        NluExample(
            "cancel  order {{order number}}".replace("order number", "Order Number"), "cancel_order"
        ),
        NluExample("CANCEL ORDER {{Order Number}} ", "cancel_order"),
        NluExample("cancel my order {{Order Number}}", "cancel_order"),
    ]
    kept, stats = dedup_examples(rows)
    assert [e.text for e in kept] == [rows[0].text, rows[3].text]
    assert stats.duplicates_dropped == 2 and stats.conflict_texts == 0


def test_dedup_cross_intent_keeps_majority_and_drops_ties() -> None:
    rows = [
        NluExample("speak to a human", "contact_human_agent"),
        NluExample("Speak to a human", "contact_human_agent"),
        NluExample("speak to a human", "human_handoff"),
        NluExample("is it free", "check_payment_methods"),
        NluExample("is it free", "check_cancellation_fee"),
        NluExample("hello", "greet"),
    ]
    kept, stats = dedup_examples(rows)
    assert [(e.text, e.intent) for e in kept] == [
        ("speak to a human", "contact_human_agent"),
        ("hello", "greet"),
    ]
    assert stats.conflict_texts == 2
    assert stats.conflict_ties == 1
    assert stats.conflict_rows_dropped == 3  # one human_handoff copy + both tied labels
    assert stats.duplicates_dropped == 1


# --- paraphrase groups and grouped split ---------------------------------------------------------
def _planted_rows() -> list[NluExample]:
    rng = random.Random(5)
    rows = [
        NluExample("i need help cancelling purchase {{Order Number}}", "cancel_order"),
        NluExample("i need help canceling purchase {{Order Number}}", "cancel_order"),
    ]
    verbs = {
        "cancel_order": ["cancel", "call off", "stop", "abort"],
        "track_order": ["track", "follow", "locate", "check on"],
        "get_refund": ["refund", "get money back for", "reimburse", "return"],
    }
    subjects = ["my order", "the parcel", "purchase", "item", "shipment", "package", "the thing"]
    tails = ["now", "please", "asap", "today", "quickly", "for me", "right away", "if possible"]
    for intent, words in verbs.items():
        for verb in words:
            for subject in subjects:
                tail = rng.choice(tails)
                rows.append(NluExample(f"how can i {verb} {subject} {tail}", intent))
    return rows


def test_groups_join_planted_paraphrases_and_respect_the_cap() -> None:
    grouped = assign_paraphrase_groups(_planted_rows(), threshold=0.7, max_group_fraction=0.2)
    assert grouped[0].group == grouped[1].group
    assert grouped[0].group.startswith("cancel_order/")
    sizes = Counter(e.group for e in grouped)
    per_intent = Counter(e.intent for e in grouped)
    for group, size in sizes.items():
        assert size <= max(2, -(-per_intent[group.split("/")[0]] * 20 // 100))
    assert len({e.group for e in grouped if e.intent == "track_order"}) > 1


def test_groups_keep_preassigned_groups() -> None:
    rows = [NluExample("a b c", "x", group="x/t00"), NluExample("a b c d", "x")]
    assert assign_paraphrase_groups(rows)[0].group == "x/t00"


def test_split_grouped_never_straddles_and_is_stratified() -> None:
    grouped = assign_paraphrase_groups(_planted_rows(), threshold=0.7, max_group_fraction=0.2)
    for seed in range(10):
        train, test = split_grouped(grouped, 0.25, seed)
        assert len(train) + len(test) == len(grouped)
        assert not {e.group for e in train} & {e.group for e in test}
        planted = {grouped[0].text, grouped[1].text}
        sides = {("train" if e in train else "test") for e in grouped if e.text in planted}
        assert len(sides) == 1
        for intent in ("cancel_order", "track_order", "get_refund"):
            assert any(e.intent == intent for e in train)
            assert any(e.intent == intent for e in test)


def test_split_grouped_validates_fraction() -> None:
    with pytest.raises(ValueError, match="test_fraction must be in"):
        split_grouped([NluExample("a", "x", group="g")], 1.5, 0)


def test_split_grouped_hits_target_on_real_sized_intents() -> None:
    rows = [
        NluExample(f"text {i}", intent, group=f"{intent}/{i // 3:04d}")
        for intent in ("a", "b")
        for i in range(300)
    ]
    _, test = split_grouped(rows, 0.2, 13)
    for intent in ("a", "b"):
        share = sum(e.intent == intent for e in test) / 300
        assert abs(share - 0.2) < 0.02


# --- catalog-generated intents -------------------------------------------------------------------
def test_short_product_mention_is_short_and_clean() -> None:
    rng = random.Random(0)
    terms = load_catalog_terms(DEMO_CATALOG)
    for name in terms.names[:200]:
        mention = short_product_mention(name, rng)
        assert 1 <= len(mention.split()) <= 6, (name, mention)
        assert not re.search(r"[\[\]{}\"]", mention)
        assert mention[0].isalnum() and mention[-1].isalnum(), (name, mention)


def test_catalog_terms_from_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    lines = [
        {"id": "p1", "name": "LEGO City Fire Station 60215", "brand": "LEGO", "category": ["Toys & Games", "Building Toys"], "price": 99.99},
        {"id": "p2", "name": "Crayola 64 Count Crayons", "brand": "Crayola", "category": ["Arts & Crafts", "Crayons"], "price": 4.5},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    terms = load_catalog_terms(path)
    assert terms.names == ("LEGO City Fire Station 60215", "Crayola 64 Count Crayons")
    assert terms.category_paths[0] == ("Toys & Games", "Building Toys")


def test_product_templates_are_varied_and_fill_with_valid_spans() -> None:
    templates = load_product_templates(SOURCES / PRODUCT_TEMPLATES_FILE)
    assert set(templates) == {"product_question", "product_search"}
    assert all(len(items) >= 25 for items in templates.values())
    terms = load_catalog_terms(DEMO_CATALOG)
    examples = generate_product_examples(terms.names, terms.category_paths, templates, 120, 13)
    assert examples == generate_product_examples(
        terms.names, terms.category_paths, templates, 120, 13
    )
    for example in examples:
        _assert_spans(example.text, example.entities)
        assert example.group.startswith(f"{example.intent}/t")
    entities = Counter(s.entity for e in examples for s in e.entities)
    assert entities["product"] > 50 and entities["amount"] > 20
    assert all(
        s.entity == "amount" for e in examples if e.intent == "product_search" for s in e.entities
    )


# --- sources, regexes ----------------------------------------------------------------------------
def test_handwritten_sources_cover_the_extra_intents() -> None:
    examples = [e for name in HANDWRITTEN_FILES for e in read_handwritten(SOURCES / name)]
    counts = Counter(e.intent for e in examples)
    assert set(counts) | {"product_question", "product_search"} == EXTRA_INTENTS
    assert all(count >= 40 for count in counts.values()), counts
    assert counts["out_of_scope"] >= 150
    inform = Counter(s.entity for e in examples if e.intent == "inform" for s in e.entities)
    assert inform["order_number"] >= 20 and inform["email"] >= 15
    for example in examples:
        _assert_spans(example.text, example.entities)
    assert set(TOPIC_OF_INTENT) == set(BITEXT_INTENTS) | EXTRA_INTENTS


def test_regexes_match_order_numbers_not_invoice_digits() -> None:
    data = yaml.safe_load((SOURCES / "regex.yml").read_text())
    patterns = {
        block["regex"]: block["examples"].strip().removeprefix("- ").strip()
        for block in data["nlu"]
    }
    order = re.compile(patterns["order_number"])
    assert [m.group() for m in order.finditer("order #482913 and 100234, not 1234567")] == [
        "#482913",
        "100234",
    ]
    assert not order.search("invoice INV-2024-004512")
    assert re.search(patterns["invoice_number"], "invoice INV-2024-004512 please")
    email = re.compile(patterns["email"])
    found = email.search("mail maria.lopez@example.com.")
    assert found is not None and found.group() == "maria.lopez@example.com"


def test_real_bitext_file_reads_and_fills() -> None:
    rows = read_bitext(BITEXT)
    assert len(rows) == 26872
    assert set(e.intent for e in rows) == set(BITEXT_INTENTS)
    kept, stats = dedup_examples(rows)
    assert stats.duplicates_dropped >= 2237 and stats.conflict_texts == 0
    rng = random.Random(13)
    for example in kept:
        text, spans = fill_placeholders(example.text, rng)
        assert "{{" not in text
        _assert_spans(text, spans)


# --- writers, presets, end to end ------------------------------------------------------------------
def _many(intent: str, n: int) -> list[NluExample]:
    return [
        NluExample(f"{intent} example {i}", intent, group=f"{intent}/{i // 4:04d}")
        for i in range(n)
    ]


@pytest.mark.parametrize(("preset", "cap"), [("tiny", 25), ("demo", 150), ("full", 200)])
def test_presets_cap_rasa_examples(tmp_path: Path, preset: str, cap: int) -> None:
    examples = _many("greet", 200) + _many("track_order", 10)
    files = write_rasa_nlu(examples, tmp_path, preset)
    assert [f.name for f in files] == ["chitchat.yml", "orders.yml"]
    read = [row for f in files for row in _rasa_read(f.read_text())]
    counts = Counter(intent for _, intent, _ in read)
    assert counts == {"greet": cap, "track_order": 10}


def test_cap_spreads_over_groups() -> None:
    kept = cap_per_intent(_many("greet", 200), 25, 13)
    assert len({e.group for e in kept}) == 25


def test_write_rasa_nlu_rejects_unknown_preset(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="preset must be one of"):
        write_rasa_nlu(_many("greet", 3), tmp_path, "huge")


def test_args_validation_names_the_parameter(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"preset must be one of.*'huge'"):
        PrepareNluArgs(preset="huge")
    with pytest.raises(ValueError, match="test_fraction must be in"):
        PrepareNluArgs(test_fraction=0)
    with pytest.raises(ValueError, match="bitext_csv="):
        PrepareNluArgs(bitext_csv=tmp_path / "missing.csv")


@pytest.fixture()
def small_bitext(tmp_path: Path) -> Path:
    """The first 20 rows of every Bitext intent (keeps the end-to-end test to seconds)."""
    taken: Counter[str] = Counter()
    path = tmp_path / "bitext.csv"
    with BITEXT.open(encoding="utf-8", newline="") as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(("text", "category"))
        for row in csv.DictReader(src):
            if taken[row["category"]] < 20:
                taken[row["category"]] += 1
                writer.writerow((row["text"], row["category"]))
    return path


def _run(small_bitext: Path, out: Path, preset: str = "tiny") -> dict[str, object]:
    args = PrepareNluArgs(
        bitext_csv=small_bitext,
        catalog=DEMO_CATALOG,
        rasa_out_dir=out / "generated",
        csv_out_dir=out / "var",
        preset=preset,
        product_examples=60,
    )
    return run_prepare_nlu(args)


def test_end_to_end_is_deterministic_and_honest(small_bitext: Path, tmp_path: Path) -> None:
    first = _run(small_bitext, tmp_path / "a")
    snapshot = {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    assert len(snapshot) >= 15
    assert _run(small_bitext, tmp_path / "a") == first  # a re-run is byte-identical
    assert {p: p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()} == snapshot
    second = _run(small_bitext, tmp_path / "b")  # so is a run elsewhere (bar the paths in stats)
    for path, content in snapshot.items():
        if path.name != "stats.json":
            assert (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes() == content
    ignore = ("config", "files")
    assert {k: v for k, v in first.items() if k not in ignore} == {
        k: v for k, v in second.items() if k not in ignore
    }

    def read_csv(name: str) -> list[dict[str, str]]:
        with (tmp_path / "a/var" / name).open(newline="") as handle:
            return list(csv.DictReader(handle))

    train, test, oos = read_csv("train.csv"), read_csv("test.csv"), read_csv("oos_train.csv")
    assert list(train[0]) == ["text", "label", "group"]
    assert not any(r["label"] in ("oos", "out_of_scope") for r in train)
    assert {r["label"] for r in oos} == {"oos"}
    assert any(r["label"] == "oos" for r in test)
    assert not {r["group"] for r in train + oos} & {r["group"] for r in test}
    assert {r["label"] for r in train} == (set(BITEXT_INTENTS) | EXTRA_INTENTS) - {"out_of_scope"}
    # Rasa trains on the train split only, capped by the preset; test.yml is the test split.
    rasa_train = [
        row
        for f in sorted((tmp_path / "a/generated").glob("*.yml"))
        for row in _rasa_read(f.read_text())
    ]
    # The tiny cap is 25 per intent; seed phrasings (shopper_phrasings.yml) come on top, uncapped.
    from training.prepare_nlu import SEED_FILES, read_handwritten

    seeds = Counter(
        e.intent
        for name in SEED_FILES
        for e in read_handwritten(
            Path(__file__).resolve().parents[3] / "bot" / "data" / "nlu" / name
        )
    )
    counts = Counter(i for _, i, _ in rasa_train)
    assert max(count - seeds[intent] for intent, count in counts.items()) <= 25
    test_texts = {r["text"] for r in test}
    assert not test_texts & {text for text, _, _ in rasa_train}
    rasa_test = _rasa_read((tmp_path / "a/var/test.yml").read_text())
    assert {text for text, _, _ in rasa_test} == test_texts
    assert first["train_size"] + first["test_size"] == first["examples"]  # type: ignore[operator]


@pytest.mark.slow
def test_entities_align_with_rasa_tokens(small_bitext: Path, tmp_path: Path) -> None:
    """Every annotation starts and ends on a WhitespaceTokenizer token (imports TensorFlow: slow)."""
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.loading import load_data

    _run(small_bitext, tmp_path, preset="full")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    for path in [*sorted((tmp_path / "generated").glob("*.yml")), tmp_path / "var/test.yml"]:
        for message in load_data(str(path)).training_examples:
            tokens = tokenizer.tokenize(message, "text")
            starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
            for entity in message.get("entities") or []:
                assert entity["start"] in starts and entity["end"] in ends, (
                    message.get("text"),
                    entity,
                )
