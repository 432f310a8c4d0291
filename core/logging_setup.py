"""Logging configuration, used only by entry points."""

from __future__ import annotations

import logging
import os


def configure_logging(level: str | None = None) -> None:
    """Configure root logging once: ``SHOPBOT_LOG_LEVEL`` or ``level`` (default INFO)."""
    resolved = (level or os.environ.get("SHOPBOT_LOG_LEVEL", "INFO")).upper()
    logging.basicConfig(
        level=resolved,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # TensorFlow (pulled in by Rasa) is very chatty at import time.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
