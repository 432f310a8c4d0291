"""The widget's files: version stamps current, loader within budget, nothing a strict CSP or an
XSS review would object to."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest

from bot.channels import widget_version
from bot.channels.widget_version import ASSETS_DIR, compute_version, stale_files, stamp

LOADER_BUDGET_GZIP = 30 * 1024
JS_FILES = sorted(ASSETS_DIR.glob("*.js"))


def test_the_assets_carry_the_current_version() -> None:
    stale = stale_files()
    assert not stale, f"Stale widget version in {stale}: run python -m bot.channels.widget_version"


def test_changing_a_lazy_file_changes_the_version_and_stamp_updates_every_import(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, folder)
    before = compute_version(folder)
    with (folder / "widget.css").open("a", encoding="utf-8") as css:
        css.write("\n.x { color: red; }\n")
    assert compute_version(folder) != before
    assert "widget.js" in stale_files(folder)
    after = stamp(folder)
    assert stale_files(folder) == []
    assert f'const VERSION = "{after}"' in (folder / "widget.js").read_text(encoding="utf-8")
    stamps = re.findall(r"\?v=([\w.-]+)", (folder / "widget-app.js").read_text(encoding="utf-8"))
    assert stamps and set(stamps) == {after}


def test_check_mode_reports_stale_stamps(capsys: pytest.CaptureFixture[str]) -> None:
    assert widget_version.main(["--check"]) == 0
    assert "is current" in capsys.readouterr().out


def test_loader_is_within_its_budget() -> None:
    size = len(gzip.compress((ASSETS_DIR / "widget.js").read_bytes(), 9))
    assert size <= LOADER_BUDGET_GZIP, f"widget.js is {size} bytes gzipped"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_no_html_parsing_eval_or_inline_styles(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    code = re.sub(r"/\*[\s\S]*?\*/|^\s*//.*$", "", source, flags=re.MULTILINE)
    forbidden = {
        "innerHTML": r"\.innerHTML\b",
        "outerHTML": r"\.outerHTML\b",
        "insertAdjacentHTML": r"insertAdjacentHTML",
        "document.write": r"document\.write",
        "eval": r"\beval\s*\(",
        "new Function": r"new\s+Function\b",
        "string timers": r"set(Timeout|Interval)\(\s*['\"`]",
        "style attribute": r"setAttribute\(\s*['\"]style['\"]",
        "cssText": r"\.cssText\b",
    }
    found = [name for name, pattern in forbidden.items() if re.search(pattern, code)]
    assert not found, f"{path.name} uses {found}"


def test_every_lazy_module_is_served_from_static() -> None:
    """The loader loads static/<file>?v=…; each module it imports must exist beside it."""
    app = (ASSETS_DIR / "widget-app.js").read_text(encoding="utf-8")
    messages = (ASSETS_DIR / "widget-messages.js").read_text(encoding="utf-8")
    imported = re.findall(r'from "\./([\w.-]+\.js)\?v=', app + messages)
    assert imported
    for name in imported:
        assert (ASSETS_DIR / name).is_file(), name
