"""Brand derivation for exports without a brand column (``ColumnMapping.derive_brand``).

A heuristic: the "Brand" or "Manufacturer" spec, else the leading capitalised token(s) of the
name. It can be wrong for generic names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from knowledge.catalog.text import CAMEL_BOUNDARY

__all__ = ["derive_brand"]


_NAME_CONNECTORS = {"&", "and", "+", "n'", "by"}
_BRAND_SUFFIXES = {
    "co",
    "co.",
    "company",
    "inc",
    "inc.",
    "llc",
    "ltd",
    "novelties",
    "world",
    "republic",
    "racing",
    "trains",
    "international",
    "resources",
    "games",
    "toys",
    "collectibles",
    "designs",
    "creations",
    "products",
    "brands",
    "education",
    "insights",
}
_NOT_BRANDS = {"a", "an", "new", "set", "pack", "the", "kids", "baby", "mini", "large", "small"}
_STOPWORDS = {"in", "on", "of", "for", "with", "and", "to", "by", "at", "from", "my", "our", "your"}
# Leading words that rarely make a brand alone: "Great Eastern", "Hot Wheels", "Wild Republic".
_TWO_WORD_LEADS = {
    "american",
    "big",
    "creative",
    "educational",
    "electronic",
    "great",
    "green",
    "happy",
    "hot",
    "learning",
    "little",
    "pacific",
    "royal",
    "star",
    "super",
    "wild",
}


def _brand_from_name(name: str) -> str:
    """Leading capitalised token(s) of ``name``: ``"Melissa & Doug Wooden..."`` → ``"Melissa & Doug"``.

    Takes the first token (two when the first is short or a common adjective: "DB Longboards",
    "Hot Wheels"), plus "& Next" connectors and company-like suffixes ("Forum Novelties").
    Lower-case or digit-led brands ("amscan", "3Doodler") count. Returns ``""`` when the name
    starts with a generic word ("The", "New", "in") or punctuation.
    """
    tokens = name.split()
    if not tokens or tokens[0].lower() in _NOT_BRANDS | _STOPWORDS or not tokens[0][:1].isalnum():
        return ""
    brand = [tokens[0]]
    i = 1
    lead = tokens[0].lower()
    if (
        (len(tokens[0]) <= 3 or lead in _TWO_WORD_LEADS)
        and len(tokens) > 1
        and tokens[1][:1].isupper()
    ):
        brand.append(tokens[1])  # "DB Longboards", "DC Collectibles", "Hot Wheels"
        i = 2
    while i < len(tokens) and len(brand) < 4:
        token = tokens[i]
        if token.lower() in _NAME_CONNECTORS and i + 1 < len(tokens):
            brand += [token, tokens[i + 1]]
            i += 2
        elif token.lower().strip(",") in _BRAND_SUFFIXES:
            brand.append(token.rstrip(","))
            i += 1
        else:
            break
    return " ".join(brand).rstrip(",:")


def derive_brand(name: str, specs: Mapping[str, str]) -> str:
    """Derived brand: "Brand" spec, else "Manufacturer" spec, else ``_brand_from_name``.

    A manufacturer written without spaces ("JayFrancoandSons,Inc.") takes the name's spelling when
    the name starts with it ("Jay Franco ..." → "Jay Franco"), else is camel-case split.
    """
    if specs.get("Brand"):
        return specs["Brand"]
    manufacturer = specs.get("Manufacturer", "")
    if manufacturer:
        target = re.sub(r"[^a-z0-9]", "", manufacturer.lower())
        tokens = name.split()
        prefix: list[str] = []
        for token in tokens[:4]:
            candidate = re.sub(r"[^a-z0-9]", "", " ".join([*prefix, token]).lower())
            if candidate and target.startswith(candidate):
                prefix.append(token)
            else:
                break
        if prefix:
            return " ".join(prefix).rstrip(",:")
        return manufacturer if " " in manufacturer else CAMEL_BOUNDARY.sub(" ", manufacturer)
    return _brand_from_name(name)
