"""The demo store's server: routes, the CSP header, violation reports, the runner's service."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from bot.demo_store.catalog import read_products
from bot.demo_store.page import WidgetTag
from bot.demo_store.server import (
    DemoStore,
    build_store,
    content_security_policy,
    make_server,
    parse_csp_reports,
)
from core.settings import Settings

SERVER = "http://127.0.0.1:5005"


def write_catalog(root: Path) -> None:
    store = root / "var" / "store"
    store.mkdir(parents=True)
    rows = [
        {"id": "a", "name": "Chess Set", "price": 18.99, "currency": "USD", "stock": 2,
         "url": "https://shop.example/a", "image": "https://img.example/a.jpg", "category": ["Toys"]},
        {"id": "b", "name": "Longboard", "price": 237.68, "stock": 0, "url": "", "image": ""},
        {"name": "no id, no price"},
    ]  # fmt: skip
    (store / "catalog.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture()
def store_url(tmp_path: Path) -> Iterator[tuple[str, DemoStore]]:
    write_catalog(tmp_path)
    store = build_store(Settings(root=tmp_path, rasa_port=5005, customer_token_secret="s" * 40))
    httpd = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", store
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_catalog_rows_that_are_not_products_are_skipped(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    products = read_products(tmp_path / "var" / "store" / "catalog.jsonl")
    assert [p.name for p in products] == ["Chess Set", "Longboard"]
    assert products[0].category == "Toys" and products[1].currency == "USD"


def test_missing_catalog_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shopbot prepare"):
        read_products(tmp_path / "catalog.jsonl")


def test_policy_names_only_the_page_and_the_server() -> None:
    policy = content_security_policy(SERVER)
    assert f"script-src 'self' {SERVER}" in policy
    assert f"connect-src {SERVER}" in policy
    assert f"style-src 'self' {SERVER}" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "report-uri /csp-report" in policy
    assert "unsafe" not in policy


def test_page_is_served_with_the_csp(store_url: tuple[str, DemoStore]) -> None:
    url, store = store_url
    with urlopen(url + "/?q=chess") as reply:
        html = reply.read().decode()
        assert reply.headers["Content-Security-Policy"] == store.csp
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "Chess Set" in html and "Longboard" not in html
    assert f'src="{SERVER}/webhooks/widget/widget.js"' in html
    with urlopen(url + "/static/store.js") as reply:
        assert reply.headers["Content-Type"].startswith("text/javascript")
    with urlopen(url + "/health") as reply:
        assert json.loads(reply.read()) == {"status": "ok", "products": 2}


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/static/../server.py",
        "/static/.hidden",
        "/static/" + "A" * 10_000,  # stat() raised ENAMETOOLONG: the connection closed, no reply
    ],
    ids=["unknown", "dot-dot", "hidden", "name too long"],
)
def test_unknown_paths_are_404(store_url: tuple[str, DemoStore], path: str) -> None:
    with pytest.raises(HTTPError) as error:
        urlopen(store_url[0] + path)
    error.value.close()
    assert error.value.code == 404


def test_violation_reports_are_logged_and_counted(
    store_url: tuple[str, DemoStore], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = store_url
    report = {"csp-report": {"document-uri": url, "violated-directive": "script-src-elem",
                             "blocked-uri": "inline"}}  # fmt: skip
    request = Request(
        url + "/csp-report",
        data=json.dumps(report).encode(),
        headers={"Content-Type": "application/csp-report"},
        method="POST",
    )
    with urlopen(request) as reply:
        assert reply.status == 204
    with urlopen(url + "/csp-report") as reply:
        counted = json.loads(reply.read())
    assert counted["count"] == 1 and counted["reports"][0]["blocked-uri"] == "inline"
    assert "CSP violation" in caplog.text


def test_a_report_with_a_bad_content_length_is_refused(store_url: tuple[str, DemoStore]) -> None:
    """A negative length made the handler wait for the client to close the connection."""
    import http.client

    url, _ = store_url
    for length in ("-1", "lots"):
        connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
        connection.putrequest("POST", "/csp-report")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        assert connection.getresponse().status == 400
        connection.close()


def test_report_bodies_of_both_formats() -> None:
    assert parse_csp_reports(b'{"csp-report": {"a": 1}}') == [{"a": 1}]
    listed = b'[{"type": "csp-violation", "body": {"b": 2}}, {"type": "x"}]'
    assert parse_csp_reports(listed) == [{"b": 2}]
    assert parse_csp_reports(b"not json") == [] and parse_csp_reports(b"[1]") == []
    # json.loads raised ValueError / RecursionError on these (the handler thread died).
    assert parse_csp_reports(b'{"csp-report": {"a": ' + b"1" * 5000 + b"}}") == []
    assert parse_csp_reports(b"[" * 10_000 + b"]" * 10_000) == []


def test_signed_in_shopper_gets_a_customer_token(store_url: tuple[str, DemoStore]) -> None:
    from actions.store.tokens import verify_customer_token

    url, store = store_url
    with urlopen(url + "/?customer=7") as reply:
        html = reply.read().decode()
    token = html.split('data-customer-token="', 1)[1].split('"', 1)[0]
    assert verify_customer_token(token, store.customer_token_secret) == 7
    assert "Signed in as customer #7" in html
    with urlopen(url + "/?customer=x") as reply:
        assert "data-customer-token" not in reply.read().decode()


def test_runner_starts_the_demo_store_as_a_service(tmp_path: Path) -> None:
    from bot.runner import demo_store
    from tests.conftest import free_port

    write_catalog(tmp_path)
    settings = Settings(root=tmp_path, demo_port=free_port(), run_dir=str(tmp_path / "run"))
    service = demo_store(settings)
    assert service.command == [sys.executable, "-m", "bot.demo_store"]
    assert service.env["SHOPBOT_DEMO_PORT"] == str(settings.demo_port)
    service.cwd = Path(__file__).resolve().parents[4]  # run the checkout's code
    service.start()
    try:
        service.wait_ready(timeout=60)
        with urlopen(f"http://{settings.host}:{settings.demo_port}/") as reply:
            assert "Chess Set" in reply.read().decode()
    finally:
        service.stop()


def test_widget_tag_defaults_to_the_rasa_server(tmp_path: Path) -> None:
    write_catalog(tmp_path)
    store = build_store(Settings(root=tmp_path, rasa_port=6123))
    assert isinstance(store.widget, WidgetTag)
    assert store.widget.server == "http://127.0.0.1:6123"
    assert store.widget.privacy_url == "/privacy"
