"""Logging configuration, used only by entry points."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str | None = None) -> None:
    """Configure root logging once: ``level``, else the settings' ``log_level`` (default INFO)."""
    if not level:
        from core.settings import Settings

        level = Settings().log_level
    resolved = level.upper()
    logging.basicConfig(
        level=resolved,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # TensorFlow (pulled in by Rasa) is very chatty at import time.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
