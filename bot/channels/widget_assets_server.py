"""Serves the widget's script and its lazily loaded files (``bot/channels/widget_assets``).

One ``<script src=".../webhooks/widget/widget.js">`` on the store's page is the whole install, so
the Rasa server serves the files itself: correct content types, ``nosniff``, ETags, gzip for
text files, and cache lifetimes that fit each file (the loader's URL never changes, so it is
cached for an hour; a lazily loaded file requested with ``?v=<hash>`` never changes, so it is
cached for a year).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sanic import response
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".map", ".svg")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LOADER_MAX_AGE_S = 3600
STATIC_MAX_AGE_S = 86400
VERSIONED_MAX_AGE_S = 31536000


@dataclass(frozen=True)
class _Asset:
    mtime_ns: int
    body: bytes
    gzipped: bytes | None
    etag: str


class AssetServer:
    """Files of one folder, read once per change.

    Args:
        folder: Where the files are; names are checked, so no path leaves it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, _Asset] = {}

    def _load(self, name: str) -> _Asset | None:
        if not _NAME_RE.match(name) or Path(name).suffix not in CONTENT_TYPES:
            return None
        path = self.folder / name
        try:
            stat = path.stat()
        except OSError:
            return None
        cached = self._cache.get(name)
        if cached is not None and cached.mtime_ns == stat.st_mtime_ns:
            return cached
        body = path.read_bytes()
        gzipped = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
        asset = _Asset(
            stat.st_mtime_ns, body, gzipped, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        )
        self._cache[name] = asset
        return asset

    def serve(
        self,
        name: str,
        request_headers: Mapping[str, str],
        loader: bool = False,
        versioned: bool = False,
    ) -> HTTPResponse:
        """The file ``name`` (or a 404), honouring ``If-None-Match`` and ``Accept-Encoding``."""
        asset = self._load(name)
        if asset is None:
            return response.json({"error": f"No widget file named {name[:100]!r}."}, status=404)
        if loader:
            max_age = LOADER_MAX_AGE_S
        else:
            max_age = VERSIONED_MAX_AGE_S if versioned else STATIC_MAX_AGE_S
        headers = {
            "Cache-Control": f"public, max-age={max_age}" + (", immutable" if versioned else ""),
            "ETag": asset.etag,
            "X-Content-Type-Options": "nosniff",
            # The store's page (another origin) loads these files.
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Vary": "Accept-Encoding",
        }
        if request_headers.get("if-none-match") == asset.etag:
            return response.empty(status=304, headers=headers)
        body = asset.body
        accepts = request_headers.get("accept-encoding", "")
        if asset.gzipped is not None and "gzip" in accepts:
            body = asset.gzipped
            headers["Content-Encoding"] = "gzip"
        return response.raw(body, headers=headers, content_type=CONTENT_TYPES[Path(name).suffix])
