"""The widget's files: content types, caching, gzip, and no way out of the folder."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bot.channels.widget_assets_server import AssetServer


@pytest.fixture()
def assets(tmp_path: Path) -> AssetServer:
    (tmp_path / "widget.js").write_text("console.log('loader');" * 20)
    (tmp_path / "widget.css").write_text(".a{color:red}")
    (tmp_path / "notes.txt").write_text("secret")
    return AssetServer(tmp_path)


def test_loader_is_served_with_type_cache_and_gzip(assets: AssetServer) -> None:
    reply = assets.serve("widget.js", {"accept-encoding": "gzip, br"}, loader=True)
    assert reply.status == 200
    assert reply.content_type == "text/javascript; charset=utf-8"
    assert reply.headers["cache-control"] == "public, max-age=3600"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(reply.body).startswith(b"console.log")
    plain = assets.serve("widget.js", {}, loader=True)
    assert "content-encoding" not in plain.headers and plain.body.startswith(b"console")


def test_versioned_static_files_are_immutable_and_etags_answer_304(assets: AssetServer) -> None:
    reply = assets.serve("widget.css", {}, versioned=True)
    assert reply.content_type == "text/css; charset=utf-8"
    assert "immutable" in reply.headers["cache-control"]
    again = assets.serve("widget.css", {"if-none-match": reply.headers["etag"]})
    assert again.status == 304


@pytest.mark.parametrize(
    "name", ["../widget.js", "notes.txt", ".hidden.js", "missing.js", "a/b.js"]
)
def test_other_names_get_404(assets: AssetServer, name: str) -> None:
    assert assets.serve(name, {}).status == 404
