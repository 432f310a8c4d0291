"""Catalog ingestion: a store's product export (CSV, JSON list, JSON lines) → normalised ``Product``s.

A ``ColumnMapping`` says which source column gives each ``Product`` field, so a store can load its
own export without code. Malformed rows are reported with their file line number and skipped; the
rest of the file loads. The normalised catalog is JSON lines, one ``Product`` per line
(``var/store/catalog.jsonl``).

One job per module (import from the module; this package re-exports nothing):

- ``model``: ``Product`` (the shared contract), ``RowError``, ``CatalogLoadResult``;
- ``mappings``: ``ColumnMapping``, the presets (``AMAZON_2020``, ``ADIDAS_US``, ``MYNTRA``),
  ``get_mapping``;
- ``load``: ``load_catalog`` (read, normalise, report bad rows);
- ``readers``: the CSV, JSON-list and JSON-lines readers;
- ``normalise``: one source record → one ``Product``;
- ``price``: ``parse_price``; ``fields``: specs, description, category, image; ``brand``: brand
  derivation; ``stock``: stock counts or availability words (``stock_from_record``); ``text``: cell helpers;
- ``jsonl``: ``write_catalog_jsonl`` / ``read_catalog_jsonl``, the normalised file.
"""
