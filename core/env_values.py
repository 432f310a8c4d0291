"""Reading and writing ``SHOPBOT_*`` environment values: the parsers behind
:class:`core.settings.Settings` (each error names the variable and its value), and the spelling a
setting gets when the runner hands it to a server process."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

__all__ = [
    "env",
    "env_float",
    "env_int",
    "env_optional_int",
    "env_switch",
    "env_value",
    "mask_url",
    "parse_int",
]


def env(name: str, default: str) -> str:
    """``SHOPBOT_<name>``, or ``default`` when it is not set."""
    return os.environ.get(f"SHOPBOT_{name}", default)


def env_int(name: str, default: int) -> int:
    """An integer setting."""
    return parse_int(name, env(name, str(default)))


def parse_int(name: str, raw: str) -> int:
    """``raw`` as an integer, or an error naming ``SHOPBOT_<name>``."""
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"SHOPBOT_{name} must be an integer. Currently, SHOPBOT_{name} is {raw!r}."
        ) from None


def env_float(name: str, default: float) -> float:
    """A number setting."""
    raw = env(name, str(default))
    try:
        return float(raw)
    except ValueError:
        raise ValueError(
            f"SHOPBOT_{name} must be a number. Currently, SHOPBOT_{name} is {raw!r}."
        ) from None


def env_optional_int(name: str, default: int | None = None) -> int | None:
    """An integer setting where empty means "not set" (None); unset gives ``default``."""
    raw = env(name, "" if default is None else str(default))
    return parse_int(name, raw) if raw else None


_SWITCH = {"on": True, "1": True, "true": True, "yes": True, "off": False, "0": False}
_SWITCH.update({"false": False, "no": False})


def env_switch(name: str, default: bool) -> bool:
    """An on/off setting: ``on``/``off`` (also ``1``/``0``, ``true``/``false``, ``yes``/``no``)."""
    raw = env(name, "on" if default else "off").strip().lower()
    if raw not in _SWITCH:
        raise ValueError(f"SHOPBOT_{name} must be on or off. Currently, SHOPBOT_{name} is {raw!r}.")
    return _SWITCH[raw]


def env_value(value: object) -> str:
    """A setting as the environment spells it (booleans ``1``/``0``, None empty)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return "" if value is None else str(value)


def mask_url(value: str) -> str:
    """``value`` with a URL's password replaced by ``***``."""
    parts = urlsplit(value)
    if parts.password:
        return value.replace(f":{parts.password}@", ":***@")
    return value
