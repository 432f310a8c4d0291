"""The project's retrieval test set: paraphrased titles (never verbatim), attributes, FAQ rewrites."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from knowledge.catalog.load import load_catalog
from knowledge.catalog.mappings import AMAZON_2020
from knowledge.catalog.model import Product
from knowledge.faq import FaqEntry, load_faq
from tests.unit.knowledge.catalog.sources import AMAZON_CSV, FAQ_CSV
from training.prepare_retrieval_eval import (
    GROUP_ATTRIBUTE,
    GROUP_FAQ,
    GROUP_TITLE,
    build_eval_set,
    faq_duplicates,
    faq_paraphrase,
    main,
    title_terms,
)


@pytest.fixture(scope="module")
def demo() -> tuple[list[Product], list[FaqEntry]]:
    return load_catalog(AMAZON_CSV, AMAZON_2020, limit=120).products, load_faq(FAQ_CSV)


def words(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def test_title_terms_drop_brand_codes_and_filler() -> None:
    product = Product(
        id="x", name="Ravensburger Disney Princess Adorable Cinderella 100 Piece Glitter Jigsaw Puzzle (Model 13.05A)",
        brand="Ravensburger", category=(), price=1.0, currency="USD", description="",
    )  # fmt: skip
    main_terms, extra = title_terms(product)
    assert main_terms[-1] == "puzzle" and "cinderella" in main_terms
    assert (
        "ravensburger" not in main_terms and "100" not in main_terms and "piece" not in main_terms
    )
    assert extra == []


def test_eval_set_is_deterministic_and_never_quotes_a_title(
    demo: tuple[list[Product], list[FaqEntry]],
) -> None:
    products, faqs = demo
    first = build_eval_set(products, faqs, seed=3)
    assert first == build_eval_set(products, faqs, seed=3)
    docs, queries, qrels = first
    groups = {q["group"] for q in queries}
    assert groups == {GROUP_TITLE, GROUP_ATTRIBUTE, GROUP_FAQ}
    titles = {p.id: words(p.name) for p in products}
    for query in queries:
        if query["group"] != GROUP_FAQ:
            assert titles[query["id"][2:]] not in words(query["text"]), query
    faq_questions = {words(f.question) for f in faqs}
    assert not any(words(q["text"]) in faq_questions for q in queries if q["group"] == GROUP_FAQ)
    query_ids = {q["id"] for q in queries}
    doc_ids = {d["doc_id"] for d in docs}
    assert all(r["query_id"] in query_ids and r["doc_id"] in doc_ids for r in qrels)


def test_faq_paraphrase_rewrites_the_stem() -> None:
    texts = {faq_paraphrase("Can I cancel my order?", random.Random(i)) for i in range(20)}
    assert len(texts) > 3
    assert "can i cancel my order?" not in texts


def test_near_duplicate_faqs_are_grouped() -> None:
    faqs = [
        FaqEntry("faq-1", "Can I request a product that is out of stock to be restocked?", "We restock popular products; sign up for notifications."),
        FaqEntry("faq-2", "Can I request a product that is currently out of stock to be restocked?", "We restock popular products; sign up for notifications."),
        FaqEntry("faq-3", "What is your return policy?", "Thirty days."),
    ]  # fmt: skip
    assert faq_duplicates(faqs) == {"faq-1": {"faq-2"}, "faq-2": {"faq-1"}, "faq-3": set()}


def test_cli_writes_three_csvs(tmp_path: Path) -> None:
    argv = [
        "--catalog", str(AMAZON_CSV), "--catalog-mapping", "amazon_2020", "--faq", str(FAQ_CSV),
        "--out", str(tmp_path),
    ]  # fmt: skip
    assert main(argv) == 0
    with (tmp_path / "queries.csv").open() as fh:
        header = next(csv.reader(fh))
    assert header == ["id", "text", "group"]
    assert (tmp_path / "docs.csv").read_text().startswith("id,text,doc_id,title,kind\n")
    assert (tmp_path / "qrels.csv").read_text().startswith("query_id,doc_id,relevance\n")
