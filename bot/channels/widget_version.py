"""Stamps the web widget's version (a hash of its lazily loaded files) into its sources.

The loader (``widget.js``) loads ``static/widget-app.js?v=<version>``, which imports its sibling
modules with the same ``?v=``; the widget channel serves a ``?v=`` request as immutable for a
year. So the version must change whenever any of those files does: it is the first 12 hex digits
of a SHA-256 over the files with their stamps blanked. There is no build step; after editing a
widget file, run ``python -m bot.channels.widget_version`` (a unit test fails until you do).
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "widget_assets"
LOADER = "widget.js"
_STAMP_RE = re.compile(r"(\?v=)[0-9A-Za-z._-]*")
_LOADER_RE = re.compile(r'(const VERSION = ")[0-9A-Za-z._-]*(")')


def lazy_files(folder: Path = ASSETS_DIR) -> list[Path]:
    """The files loaded when the chat opens: every ``.js`` and ``.css`` but the loader."""
    return sorted(p for p in folder.iterdir() if p.suffix in (".js", ".css") and p.name != LOADER)


def compute_version(folder: Path = ASSETS_DIR) -> str:
    """The version the current files should carry."""
    digest = hashlib.sha256()
    for path in lazy_files(folder):
        blanked = _STAMP_RE.sub(r"\1", path.read_text(encoding="utf-8"))
        digest.update(path.name.encode() + b"\0" + blanked.encode() + b"\0")
    return digest.hexdigest()[:12]


def stale_files(folder: Path = ASSETS_DIR) -> list[str]:
    """Names of the files whose stamps differ from :func:`compute_version` (empty: all current)."""
    version = compute_version(folder)
    stale = []
    loader = (folder / LOADER).read_text(encoding="utf-8")
    match = _LOADER_RE.search(loader)
    if match is None:
        raise ValueError(f'{folder / LOADER} has no `const VERSION = "..."` line to stamp.')
    if _LOADER_RE.sub(rf"\g<1>{version}\g<2>", loader) != loader:
        stale.append(LOADER)
    for path in lazy_files(folder):
        text = path.read_text(encoding="utf-8")
        if _STAMP_RE.sub(rf"\g<1>{version}", text) != text:
            stale.append(path.name)
    return stale


def stamp(folder: Path = ASSETS_DIR) -> str:
    """Write the current version into the loader and every ``?v=`` import; return it."""
    version = compute_version(folder)
    loader = folder / LOADER
    loader.write_text(
        _LOADER_RE.sub(rf"\g<1>{version}\g<2>", loader.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    for path in lazy_files(folder):
        text = path.read_text(encoding="utf-8")
        stamped = _STAMP_RE.sub(rf"\g<1>{version}", text)
        if stamped != text:
            path.write_text(stamped, encoding="utf-8")
    return version


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.channels.widget_version [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.widget_version", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="only report stale stamps (exit 1)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        if stale:
            print(
                f"Stale widget version in {', '.join(stale)}: run python -m bot.channels.widget_version"
            )
            return 1
        print(f"Widget version {compute_version()} is current.")
        return 0
    print(f"Widget version {stamp()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
