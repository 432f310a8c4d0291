""" "Do you sell X?" answered yes or no from the catalog, on product kinds from real catalogs.

Yes set: the demo catalog's own category leaves of one or two words ("Longboards", "Puzzles"),
asked as "do you sell <leaf>?" (the store sells every one of them). No set: the last word of
Myntra fashion product names ("Kurta", "Saree", "Dupatta": `../shared/data/product_catalog_myntra`)
that appears nowhere in the demo catalog — not in a name, brand, category or description — asked
the same way (the store sells none of them). Both go through ``knowledge.product_search`` with
the demo index, as ``action_search_products`` does (no NLU), before (similarity alone: what the
shopper saw until 2026-12-07) and after (``asked_if_sold``).

    HF_HUB_OFFLINE=1 .venv/bin/python docs/benchmarks/2026-12-07/do-you-sell/do_you_sell.py OUT.json
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

from tqdm import tqdm

from knowledge import product_search
from knowledge.answer import AnswerPipeline
from knowledge.product_match import content_terms

ROOT = Path(__file__).resolve().parents[4]
MYNTRA = ROOT.parent / "shared/data/product_catalog_myntra/myntra_products_catalog.csv"


def catalog() -> list[dict]:
    with (ROOT / "var/store/catalog.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def yes_kinds(rows: list[dict]) -> list[str]:
    leaves = {str(r["category"][-1]) for r in rows if r.get("category")}
    return sorted(k for k in leaves if "&" not in k and 0 < len(content_terms(k)) <= 2)


def no_kinds(rows: list[dict], n: int = 60) -> list[str]:
    text = " ".join(
        " ".join(
            [
                r["name"],
                str(r.get("brand") or ""),
                *r.get("category", []),
                r.get("description") or "",
            ]
        )
        for r in rows
    ).lower()
    have = {w for w in re.findall(r"[a-z]+", text)}
    counts: Counter[str] = Counter()
    described: Counter[str] = Counter()  # a kind of product is named in descriptions too
    with MYNTRA.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            last = row["ProductName"].split()[-1].lower()
            if last.isalpha() and len(last) > 3:
                counts[last] += 1
            described.update(set(re.findall(r"[a-z]+", row["Description"].lower())))
    kinds: list[str] = []
    for word, _ in counts.most_common():
        stem = content_terms(word)
        plural = word if word.endswith("s") else word + "s"
        # Style and brand names ("Afreen", "Catwalk") are not kinds: the kind is described.
        if described[word] < 20 or plural in kinds or (stem and {word, plural, *stem} & have):
            continue
        kinds.append(plural)
        if len(kinds) == n:
            break
    return kinds


def of_kind(card_names: list[str], kind: str, fields: dict[str, str]) -> bool:
    """Whether the first card's own name, brand or category carries every word of the kind."""
    if not card_names:
        return False
    have = set(content_terms(fields.get(card_names[0], "")))
    return all(t in have for t in content_terms(kind))


def judge(query: str, retriever: object) -> dict:
    cards = product_search.search_products(query, retriever)  # type: ignore[arg-type]
    text = product_search.render_product_list(cards, query)
    return {"query": query, "head": text.split("\n")[0][:120], "cards": [c.name for c in cards]}


def main(out: str) -> None:
    rows = catalog()
    retriever = AnswerPipeline.from_dir(ROOT / "models/demo/knowledge").retriever
    sets = {"yes": yes_kinds(rows), "no": no_kinds(rows)}
    results: dict[str, dict[str, list[dict]]] = {"before": {}, "after": {}}
    for when in results:
        for label, kinds in sets.items():
            before = mock.patch.object(product_search, "asked_if_sold", lambda _q: None)
            with before if when == "before" else nullcontext():
                results[when][label] = [
                    judge(f"do you sell {k.lower()}?", retriever)
                    for k in tqdm(kinds, desc=f"{when} {label}")
                ]
    fields = {
        r["name"]: " ".join([r["name"], str(r.get("brand") or ""), *r.get("category", [])])
        for r in rows
    }
    summary = {}
    for when, by_label in results.items():
        yes, no = by_label["yes"], by_label["no"]
        summary[when] = {
            "yes_questions": len(yes),
            "yes_said_yes": sum(r["head"].startswith("Yes") for r in yes),
            "yes_listed_any": sum(bool(r["cards"]) for r in yes),
            "yes_first_card_of_the_kind": sum(
                of_kind(r["cards"], kind, fields) for r, kind in zip(yes, sets["yes"], strict=True)
            ),
            "no_questions": len(no),
            "no_said_not_found": sum("couldn't find" in r["head"] for r in no),
            "no_listed_as_found": sum(r["head"].startswith(("Here is", "Yes")) for r in no),
        }
    print(json.dumps(summary, indent=2))
    Path(out).write_text(
        json.dumps({"summary": summary, "sets": sets, "results": results}, indent=1)
    )


if __name__ == "__main__":
    main(sys.argv[1])
