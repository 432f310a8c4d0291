"""Rasa bot messages as Telegram messages: HTML text, inline keyboards, product cards, splitting.

Pure functions, no I/O: :func:`render` turns one Rasa message dict (``text``, ``buttons``,
``custom`` with ``display_text``, ``products``, ``citations``; or an agent console message marked
``shopbot``) into :class:`Outgoing` messages the output channel sends in order.

Every piece of text is escaped for Telegram's HTML parse mode (``html.escape``, the escaping
Telegram's documentation asks for: ``<``, ``>``, ``&`` and quotes), so no shopper, catalog or
generator text can break the formatting or inject a link. Telegram counts a message's length after
entity parsing in UTF-16 code units (4,096 at most, captions 1,024): the plain text is split
first, on paragraph, line, sentence and word boundaries, and each piece escaped afterwards.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for a text message (UTF-16 code units)
MAX_CAPTION_CHARS = 1024  # ... and for a photo's caption
MAX_CALLBACK_BYTES = 64  # callback_data limit
MAX_CARDS = 5
# A button whose payload does not fit in callback_data sends its title as typed text instead.
TITLE_PREFIX = "t:"
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")


def utf16_len(text: str) -> int:
    """Length of ``text`` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> int:
    """The largest index ``i`` with ``utf16_len(text[:i]) <= limit``."""
    if utf16_len(text) <= limit:
        return len(text)
    low, high = 0, min(len(text), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if utf16_len(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _break_at(window: str) -> int:
    """Where to end a piece inside ``window``: the last paragraph, line, sentence or word end."""
    floor = len(window) // 3  # never make a piece shorter than a third of the limit
    for separator in ("\n\n", "\n"):
        at = window.rfind(separator)
        if at > floor:
            return at + len(separator)
    sentence_ends = [m.end() for m in _SENTENCE_END_RE.finditer(window) if m.end() > floor]
    if sentence_ends:
        return sentence_ends[-1]
    at = window.rfind(" ")
    if at > floor:
        return at + 1
    return len(window)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units, on natural boundaries.

    Joining the pieces gives ``text`` back up to the whitespace at the cuts; no piece is empty.

    Raises:
        ValueError: for a ``limit`` below 16.
    """
    if limit < 16:
        raise ValueError(f"limit must be at least 16. Currently, limit is {limit}.")
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        end = _cut(rest, limit)
        if end < len(rest):
            end = _break_at(rest[:end])
            # Never split a surrogate pair's character: _cut already counts whole characters.
        piece = rest[:end].strip()
        if piece:
            pieces.append(piece)
        rest = rest[end:].strip()
    return pieces


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message to send: ``text`` (HTML) or a ``photo`` URL with ``text`` as caption."""

    text: str
    photo: str = ""
    keyboard: InlineKeyboardMarkup | None = field(default=None, compare=False)


def escape(text: str) -> str:
    """``text`` for Telegram's HTML parse mode (``<``, ``>``, ``&``; quotes need no escape)."""
    return html.escape(text, quote=False)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def callback_data(title: str, payload: str) -> str | None:
    """What a button carries back: its payload, or its title when the payload is too long."""
    if payload and len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES:
        return payload
    fallback = TITLE_PREFIX + title
    while len(fallback.encode("utf-8")) > MAX_CALLBACK_BYTES:
        fallback = fallback[:-1]
    return fallback if len(fallback) > len(TITLE_PREFIX) else None


def keyboard(message: dict[str, Any]) -> InlineKeyboardMarkup | None:
    """Rasa's ``buttons`` / ``quick_replies`` as an inline keyboard (one button per row)."""
    raw = message.get("buttons") or message.get("quick_replies") or []
    rows = []
    for button in raw if isinstance(raw, list) else []:
        if not isinstance(button, dict):
            continue
        title, payload = _str(button.get("title")), _str(button.get("payload"))
        if payload.startswith(("http://", "https://")):
            rows.append([InlineKeyboardButton(title or payload, url=payload)])
            continue
        data = callback_data(title, payload)
        if title and data:
            rows.append([InlineKeyboardButton(title, callback_data=data)])
    return InlineKeyboardMarkup(rows) if rows else None


def _link(url: str, label: str) -> str:
    """An HTML link, or the escaped label alone when ``url`` is not http(s)."""
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}">{escape(label)}</a>'
    return escape(label)


def citations_html(custom: dict[str, Any]) -> str:
    """``Sources: [1] <a href=...>title</a> ...`` for an answer's citations ("" when none)."""
    parts = []
    for i, citation in enumerate(custom.get("citations") or [], 1):
        if not isinstance(citation, dict):
            continue
        number = citation.get("n") if isinstance(citation.get("n"), int) else i
        title = _str(citation.get("title")) or _str(citation.get("url"))
        if title:
            parts.append(f"[{number}] {_link(_str(citation.get('url')), title)}")
    return "Sources: " + " · ".join(parts) if parts else ""


def product_card(card: dict[str, Any]) -> Outgoing | None:
    """A product as a photo with a caption (when the catalog has an image) or a text card."""
    name = _str(card.get("name"))
    if not name:
        return None
    lines = [f"<b>{_link(_str(card.get('url')), name)}</b>"]
    price = card.get("price")
    if isinstance(price, (int, float)) and not isinstance(price, bool):
        currency = _str(card.get("currency")) or "USD"
        lines.append(escape(f"{price:,.2f} {currency}"))
    in_stock = card.get("in_stock")
    if isinstance(in_stock, bool):
        lines.append("In stock" if in_stock else "Out of stock")
    caption = "\n".join(lines)
    image = _str(card.get("image"))
    if image.startswith(("http://", "https://")) and utf16_len(caption) <= MAX_CAPTION_CHARS:
        return Outgoing(caption, photo=image)
    return Outgoing(caption)


def _console_message(message: dict[str, Any]) -> tuple[str, str] | None:
    """``(prefix, text)`` of an agent console message (``shopbot`` marker); None otherwise.

    The prefix names the agent in bold (HTML) for an agent's message."""
    marker = message.get("shopbot")
    if not isinstance(marker, dict):
        return None
    agent = _str(marker.get("agent"))
    prefix = f"<b>{escape(agent)}</b>: " if marker.get("kind") == "agent" and agent else ""
    return prefix, _str(message.get("text"))


def render(message: dict[str, Any], limit: int = MAX_MESSAGE_CHARS) -> list[Outgoing]:
    """Map one Rasa bot message to the Telegram messages that show it, in sending order.

    The text is split at ``limit``; the inline keyboard goes on the last text piece; citations
    follow the text as links; product cards follow as photos or text cards.
    """
    console = _console_message(message)
    if console is not None:
        prefix, text = console
        pieces = [escape(piece) for piece in split_text(text, limit - 64)] if text else []
        if pieces:
            pieces[0] = prefix + pieces[0]
        return [Outgoing(piece) for piece in pieces]
    custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
    assert isinstance(custom, dict)
    products = [p for p in custom.get("products") or [] if isinstance(p, dict)]
    text = _str(custom.get("display_text")) if custom.get("citations") else ""
    text = text or _str(message.get("text"))
    if products and text:
        text = text.split("\n", 1)[0]  # the cards below carry the list
    sources = citations_html(custom)
    pieces = [escape(piece) for piece in split_text(text, limit)] if text.strip() else []
    if sources:
        if pieces and utf16_len(pieces[-1]) + utf16_len(sources) + 2 <= limit:
            pieces[-1] = f"{pieces[-1]}\n\n{sources}"
        else:
            pieces.append(sources)
    out = [Outgoing(piece) for piece in pieces]
    image = _str(message.get("image"))
    if image.startswith(("http://", "https://")):
        out.append(Outgoing("", photo=image))
    for card in products[:MAX_CARDS]:
        rendered = product_card(card)
        if rendered is not None:
            out.append(rendered)
    markup = keyboard(message)
    if markup is not None:
        if out and not out[-1].photo:
            last = out[-1]
            out[-1] = Outgoing(last.text, last.photo, markup)
        else:
            out.append(Outgoing(escape(_str(message.get("text")) or "Choose:"), "", markup))
    return out
