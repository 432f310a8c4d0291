"""The generator's sources: the store's catalog and FAQ (normalised, or the demo exports) and
Bitext customer-support responses for pre-training, with the hash of what was read.
"""

from __future__ import annotations

import csv
import json
import logging
import random
import re
from collections.abc import Sequence
from pathlib import Path

from core.artifacts import sha256_chunks
from knowledge.catalog.model import Product
from knowledge.faq import FaqEntry
from training.generator_data.phrasings import load_phrasings

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
BITEXT_FILE = "official_2023-08_4514_entities_responses.csv"
SHARED_BITEXT = ROOT.parent / "shared" / "data" / "bitext_customer_support" / BITEXT_FILE


def clean_bitext(response: str) -> str:
    """Replace Bitext's ``{{Placeholder}}`` markers with neutral wording and tidy line breaks."""
    text = response.replace("\\n", "\n").replace("\r", "")
    wording = load_phrasings().bitext_placeholders

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return wording.get(name, name)

    text = re.sub(r"\{\{\s*([^}]+?)\s*\}\}", placeholder, text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read_bitext_responses(path: Path | None, limit: int, rng: random.Random) -> list[str]:
    """Read up to ``limit`` cleaned responses (sampled by ``rng``); [] when no file is available."""
    candidates = [p for p in (path, SHARED_BITEXT) if p is not None]
    source = next((p for p in candidates if p.exists()), None)
    if source is None or limit <= 0:
        if limit > 0:
            logger.warning(
                "No Bitext responses at %s: pre-training uses catalog and FAQ text only.",
                " or ".join(str(p) for p in candidates),
            )
        return []
    with open(source, encoding="utf-8", newline="") as fh:
        responses = sorted({row["response"] for row in csv.DictReader(fh) if row.get("response")})
    picked = rng.sample(responses, min(limit, len(responses)))
    logger.info("Using %d Bitext responses from %s", len(picked), source)
    return [clean_bitext(r) for r in picked]


def load_store(catalog: Path, faq: Path) -> tuple[list[Product], list[FaqEntry]]:
    """Load the normalised catalog and FAQ; fall back to the demo exports when they are missing."""
    from knowledge.catalog.jsonl import read_catalog_jsonl
    from knowledge.catalog.load import load_catalog
    from knowledge.catalog.mappings import AMAZON_2020
    from knowledge.faq import load_faq, read_faq_jsonl

    if catalog.exists():
        products = (
            read_catalog_jsonl(catalog)
            if catalog.suffix == ".jsonl"
            else load_catalog(catalog, AMAZON_2020).products
        )
    else:
        demo = ROOT / "data" / "demo" / "catalog" / "amazon_products_sample1000.csv"
        logger.warning("No catalog at %s (run `shopbot prepare`); using %s", catalog, demo)
        products = load_catalog(demo, AMAZON_2020).products
    if faq.exists():
        faqs = read_faq_jsonl(faq) if faq.suffix == ".jsonl" else load_faq(faq)
    else:
        demo_faq = ROOT / "data" / "demo" / "faq" / "ecommerce_faq.csv"
        logger.warning("No FAQ at %s (run `shopbot prepare`); using %s", faq, demo_faq)
        faqs = load_faq(demo_faq)
    return list(products), list(faqs)


def hash_store(products: Sequence[Product], faqs: Sequence[FaqEntry], bitext: Sequence[str]) -> str:
    """The sha256 of what the data was built from: every product and FAQ entry (as sorted JSON)
    and every support response, in order (``data_hash`` in the manifest and the model's metrics)."""
    return sha256_chunks(
        [
            *(json.dumps(product.to_dict(), sort_keys=True) for product in products),
            *(json.dumps(entry.to_dict(), sort_keys=True) for entry in faqs),
            *bitext,
        ]
    )
