"""Put one of ShopBot's functions in place of a Rasa 3.6 method, only over the method it knows.

Several modules replace a Rasa method whose result they reproduce more cheaply
(:mod:`bot.action_reply_validation`, :mod:`bot.local_slot_validation`, :mod:`bot.policy_states`,
:mod:`bot.tracker_copy`). Each
replacement is only right for the method it was written against, so :func:`replace` leaves any
other in place (another Rasa version, or another replacement) and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def replace(
    owner: type,
    name: str,
    replacement: Callable[..., Any],
    rasa_method: Callable[..., Any],
    done: str,
) -> bool:
    """Make ``replacement`` ``owner.name`` when that is still ``rasa_method`` (Rasa's own, as
    imported); True when ``replacement`` is in place. ``done`` is logged once it is put there."""
    current = getattr(owner, name)
    if current is replacement:
        return True
    expected = f"{owner.__name__}.{name}"
    if getattr(current, "__qualname__", "") != expected or current is not rasa_method:
        logger.warning("Rasa's %s is not the one expected; left as it is", expected)
        return False
    setattr(owner, name, replacement)
    logger.info(done)
    return True
