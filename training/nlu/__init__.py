"""The steps of ``training.prepare_nlu``, one job per module.

``readers`` (Bitext CSV, hand-written YAML, templates, catalog terms) → ``dedup`` →
``placeholders`` (seeded, entity-annotated values) → ``catalog_examples`` → ``groups`` (paraphrase
groups) → ``split`` (grouped train/test split, per-intent cap) → ``writers`` (Rasa YAML, CSVs).
``examples`` holds the data types and ``rasa_annotations`` the ``[text](entity)`` codec.
"""
