"""The console's one door to the knowledge layer, for product descriptions (decision 025).

The store's catalog (``var/store/catalog.jsonl``, as the demo store reads it), the description
generator (``make_generator(<knowledge_dir>/generator)``, as ``shopbot describe`` and the action
server find it; loaded on first use, once per console process), the verifier's check of a draft
or of an admin's edit (``Describer.check``), and the export rows (``shopbot describe``'s writer).
No other console module imports ``knowledge``; the import contract allows this one only.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bot.storage.descriptions import Draft, DraftFields
from core.settings import Settings
from knowledge.catalog.jsonl import read_catalog_jsonl
from knowledge.catalog.model import Product
from knowledge.describe import (
    Describer,
    DescriptionResult,
    attribute_passage,
    clean_description,
    template_description,
)
from knowledge.describe_cli import dump_rows
from knowledge.generator import PassageOnlyGenerator
from knowledge.prompt import sanitize
from knowledge.types import Generator

__all__ = ["MODES", "Describing", "GeneratorUnavailable", "Product", "export_rows"]

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 60.0  # a failed load is retried at most this often (a model trained meanwhile)
#: How a batch is written: the generator alone (a draft that fails verification is stored as
#: rejected), the generator with the template baseline as its fallback, or the template alone
#: (a store without a generator).
MODES = ("generator", "generator+template", "template")


class GeneratorUnavailable(RuntimeError):
    """No generator could be loaded (the message says why and what to do)."""


class Describing:
    """The catalog, the generator and the verifier as the console uses them (one per console).

    Args:
        settings: The console's settings (``knowledge_dir``, ``generator_*``, ``root``).
        generator: A generator to use instead of loading the configured one (tests, a store
            wiring its own).
    """

    def __init__(self, settings: Settings, generator: Generator | None = None) -> None:
        self.settings = settings
        self._generator = generator
        self._failed_at: float | None = None
        self.problem = ""  # why the generator is unavailable ("" while it is not known to be)
        self._lock = threading.Lock()  # one load and one batch at a time
        self._catalog: tuple[tuple[int, int], dict[str, Product]] | None = None
        # A Describer on a generator that writes nothing only checks text.
        self._checker = Describer(PassageOnlyGenerator())

    # ------------------------------------------------------------------------------ catalog

    @property
    def catalog_path(self) -> Path:
        """The normalised catalog ``shopbot prepare`` writes (``var/store/catalog.jsonl``)."""
        return self.settings.var_dir / "store" / "catalog.jsonl"

    def catalog(self) -> dict[str, Product]:
        """The catalog's products by id, re-read when the file changes.

        Raises:
            FileNotFoundError: No catalog yet (the message says how to build it).
            ValueError: A line that is not a product (the message names it).
        """
        path = self.catalog_path
        if not path.is_file():
            raise FileNotFoundError(
                f"No catalog at {path}. Build the store's catalog with `shopbot prepare`."
            )
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        if self._catalog is None or self._catalog[0] != key:
            self._catalog = (key, {p.id: p for p in read_catalog_jsonl(path)})
        return self._catalog[1]

    @staticmethod
    def attributes(product: Product) -> list[str]:
        """The product's attribute passage (what every draft is checked against), by line."""
        return attribute_passage(product).text.split("\n")

    # ------------------------------------------------------------------------------ generator

    @property
    def generator_dir(self) -> Path:
        """``<knowledge_dir>/generator`` (``models/<preset>/knowledge/generator`` by default)."""
        return self.settings.path(self.settings.knowledge_dir) / "generator"

    def generator_state(self) -> tuple[bool, str]:
        """Whether a generator is (likely) available, and a line for the page; loads nothing."""
        if self._generator is not None:
            name = getattr(self._generator, "name", type(self._generator).__name__)
            return True, f"Generator {name} (loaded)."
        if self.settings.generator_url:
            return True, f"Generator server {self.settings.generator_url} (used on first draft)."
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S:
            return False, self.problem  # tried a moment ago; offered again after the wait
        if not (self.generator_dir / "config.json").is_file():
            return False, (
                f"No generator at {self.generator_dir}. Train one with `shopbot train-generator` "
                "(or set SHOPBOT_KNOWLEDGE_DIR / SHOPBOT_GENERATOR_URL)."
            )
        return True, f"Generator {self.generator_dir} (loads on the first draft)."

    def _load(self) -> Generator:
        """The generator, loaded once; a failed load is retried after :data:`RETRY_AFTER_S`."""
        if self._generator is not None:
            return self._generator
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_AFTER_S:
            raise GeneratorUnavailable(self.problem)
        from knowledge.generator import GeneratorSettings, make_generator  # torch: first use only

        try:
            generator = make_generator(
                self.generator_dir, GeneratorSettings.from_settings(self.settings)
            )
            warm_up = getattr(generator, "warm_up", None)
            if callable(warm_up):
                warm_up()
        except Exception as exc:  # a missing or broken model: the page offers the template
            logger.exception(
                "Description generator could not be loaded from %s", self.generator_dir
            )
            self._failed_at = time.monotonic()
            self.problem = f"The generator could not be loaded: {exc}"
            raise GeneratorUnavailable(self.problem) from exc
        self._generator, self._failed_at, self.problem = generator, None, ""
        return generator

    # ------------------------------------------------------------------------------ writing

    def generate(self, products: Sequence[Product], mode: str) -> list[DraftFields]:
        """Write and verify a draft of each product, as ``mode`` (one of :data:`MODES`) says.

        Raises:
            GeneratorUnavailable: A generator mode, and no generator can be loaded.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}. Currently, mode is {mode!r}.")
        with self._lock:
            if mode == "template":
                return [self._template_row(p) for p in products]
            fallback = "template" if mode == "generator+template" else "none"
            describer = Describer(self._load(), fallback=fallback)
            try:
                rows = [describer.describe(p) for p in products]
            except Exception as exc:  # a server that went away, a model that broke mid-batch
                logger.exception("Description batch failed with %s", describer.name)
                raise GeneratorUnavailable(f"The generator failed: {exc}") from exc
        return [_fields(r) for r in rows]

    def _template_row(self, product: Product) -> DraftFields:
        """The template baseline (status ``template``), itself verified like ``shopbot
        describe --fallback template`` verifies it; no generator involved."""
        text = template_description(product)
        problems = self.check(product, text, generated=False)
        if problems:  # never with the catalog's own values; kept honest anyway
            return DraftFields(
                product.id, sanitize(product.name), "rejected", "", "", text, problems
            )
        return DraftFields(product.id, sanitize(product.name), "template", text, "template")

    def check(self, product: Product, text: str, generated: bool = True) -> list[str]:
        """The facts of ``text`` the product's attributes do not support (``Describer.check``):
        the same gate as a generated draft; ``generated=False`` only for the template."""
        return self._checker.check(product, text, generated=generated)

    @staticmethod
    def clean(text: str) -> str:
        """An admin's text as the store imports it (citation tags removed, single spaces)."""
        return clean_description(text)


def _fields(row: DescriptionResult) -> DraftFields:
    return DraftFields(
        product_id=row.product_id,
        name=row.name,
        outcome=row.status,
        description=row.description,
        source=row.source,
        draft=row.draft,
        unsupported=list(row.unsupported),
        generator=row.generator,
    )


def export_row(draft: Draft) -> DescriptionResult:
    """An accepted draft as the row ``shopbot describe`` writes: ``status`` ``accepted`` (or
    ``template`` for the unedited template baseline), ``description`` the accepted text,
    ``source`` ``edited`` when the admin changed it; the generation's draft and unsupported
    facts kept for the record."""
    source = "edited" if draft.edited else draft.fields.source
    return DescriptionResult(
        product_id=draft.product_id,
        name=draft.fields.name,
        status="template" if source == "template" else "accepted",
        description=draft.final_text or "",
        source=source,
        draft=draft.fields.draft,
        unsupported=list(draft.fields.unsupported),
        generator=draft.fields.generator,
    )


def export_rows(drafts: Sequence[Draft], fmt: str) -> str:
    """The accepted drafts as a ``csv`` or ``jsonl`` file's text (``shopbot describe``'s writer)."""
    out = io.StringIO(newline="")
    dump_rows([export_row(d) for d in drafts], out, fmt)
    return out.getvalue()
