"""The conversation page's scripts, read without a browser: CSP-safe DOM building only (no HTML
parsing sinks, no inline handlers or styles), links only from http(s) URLs, and the test hooks
the browser tests use."""

from __future__ import annotations

import re
from pathlib import Path

import bot.console

STATIC_DIR = Path(bot.console.__file__).parent / "static"
PAGE_SCRIPTS = ("console.js", "conversation.js", "correct.js")


def test_page_scripts_have_no_inline_handlers_or_html_sinks() -> None:
    for name in PAGE_SCRIPTS:
        source = (STATIC_DIR / name).read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{name} uses {sink}"
        assert "new Function" not in source, f"{name} builds code from text"
        assert not re.search(r"\.on[a-z]+\s*=", source), f"{name} sets an on* handler property"
        assert not re.search(r"""["']on[a-z]+["']\s*:""", source), f"{name} sets an on* attribute"
        assert not re.search(r"""setAttribute\(\s*["'](on[a-z]+|style)""", source), name
        assert not re.search(r"""["']style["']\s*:|\.style\.""", source), f"{name} sets a style"


def test_reasoning_hooks_and_safe_links() -> None:
    source = (STATIC_DIR / "conversation.js").read_text()
    for hook in ("reasoning", "passage", "citation", "outcome", "entity", "thumbs"):
        assert f'"data-testid": "{hook}"' in source, f"no data-testid={hook}"
    for attribute in ("data-score", "data-value"):
        assert f'"{attribute}"' in source
    assert "href: href" in source and "safeUrl(c.url)" in source  # never a javascript: link
    assert "<details" not in source and 'C.el("details"' in source  # built, not parsed
