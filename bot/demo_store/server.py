"""The demo store's web server (Python's standard library: a few routes need no framework).

Routes: ``/`` (the product grid, ``?q=`` search, ``?page=``, ``?customer=<id>`` signs the shopper in
when ``SHOPBOT_CUSTOMER_TOKEN_SECRET`` is set), ``/privacy``, ``/static/<file>``, ``/health``,
``POST /csp-report`` (browsers report CSP violations there; each is logged and counted) and
``GET /csp-report`` (the count and the reports, for tests and for a curious store owner).
"""

from __future__ import annotations

import argparse
import json
import logging
import mimetypes
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.demo_store.catalog import StoreProduct, read_products
from bot.demo_store.page import WidgetTag, render_privacy_page, render_store_page
from core.json_body import JsonBodyError, load_json_body
from core.settings import Settings

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_REPORT_BYTES = 64 * 1024
MAX_KEPT_REPORTS = 100


def content_security_policy(server: str) -> str:
    """The page's CSP: scripts, styles and connections only from the page and the ShopBot server."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {server}",
            f"connect-src {server}",
            f"style-src 'self' {server}",
            f"img-src 'self' {server} https: data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "report-uri /csp-report",
        ]
    )


@dataclass
class CspReports:
    """Violation reports received, counted and kept (the latest ``MAX_KEPT_REPORTS``)."""

    count: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, report: dict[str, Any]) -> None:
        """Count and keep one violation report."""
        with self.lock:
            self.count += 1
            self.reports.append(report)
            del self.reports[:-MAX_KEPT_REPORTS]

    def snapshot(self) -> dict[str, Any]:
        """The count and the kept reports, as JSON-ready data."""
        with self.lock:
            return {"count": self.count, "reports": list(self.reports)}


def parse_csp_reports(body: bytes) -> list[dict[str, Any]]:
    """The violations in a report body: ``{"csp-report": {...}}`` (report-uri) or a Reporting
    API list (``[{"type": "csp-violation", "body": {...}}]``). Anything else → ``[]``."""
    try:
        data = load_json_body(body, max_bytes=MAX_REPORT_BYTES)
    except JsonBodyError:  # also a 5,000-digit number or 10,000-deep nesting
        return []
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [data["csp-report"]]
    if isinstance(data, list):
        return [
            item["body"]
            for item in data
            if isinstance(item, dict) and isinstance(item.get("body"), dict)
        ]
    return []


@dataclass
class DemoStore:
    """What the request handler needs: the products, the widget tag and the report counter."""

    products: list[StoreProduct]
    widget: WidgetTag
    csp: str
    customer_token_secret: str = ""
    reports: CspReports = field(default_factory=CspReports)

    def customer_token(self, raw_id: str) -> tuple[str, str]:
        """(token, label) for ``?customer=<id>``, or ``("", "")`` when tokens are off or the id is bad."""
        if not self.customer_token_secret or not raw_id.isdigit() or int(raw_id) <= 0:
            return "", ""
        from actions.store.tokens import sign_customer_token

        return sign_customer_token(int(raw_id), self.customer_token_secret), f"customer #{raw_id}"


class DemoStoreHandler(BaseHTTPRequestHandler):
    """Serves the demo store's routes."""

    server_version = "ShopBotDemoStore/1.0"
    store: DemoStore  # set on the subclass built by make_server()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        """GET routes."""
        url = urlsplit(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path == "/":
            token, label = self.store.customer_token(params.get("customer", ""))
            widget = self.store.widget
            if token:
                widget = WidgetTag(**{**widget.__dict__, "customer_token": token})
            try:
                page = int(params.get("page", "1"))
            except ValueError:
                page = 1
            html = render_store_page(
                self.store.products,
                widget,
                query=params.get("q", "")[:200],
                page=page,
                signed_in=label,
            )
            self.send_text(HTTPStatus.OK, html, "text/html; charset=utf-8", page=True)
        elif url.path == "/privacy":
            html = render_privacy_page(self.store.widget)
            self.send_text(HTTPStatus.OK, html, "text/html; charset=utf-8", page=True)
        elif url.path.startswith("/static/"):
            self.send_static(url.path.removeprefix("/static/"))
        elif url.path == "/health":
            self.send_json(HTTPStatus.OK, {"status": "ok", "products": len(self.store.products)})
        elif url.path == "/csp-report":
            self.send_json(HTTPStatus.OK, self.store.reports.snapshot())
        else:
            self.send_text(HTTPStatus.NOT_FOUND, "Not found", "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        """``POST /csp-report``: log and count the violations a browser reports."""
        if urlsplit(self.path).path != "/csp-report":
            self.send_text(HTTPStatus.NOT_FOUND, "Not found", "text/plain; charset=utf-8")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:  # rfile.read(-1) would wait for the client to close the connection
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": "bad Content-Length"})
            return
        if length > MAX_REPORT_BYTES:
            self.send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "report too large"})
            return
        for report in parse_csp_reports(self.rfile.read(length)):
            self.store.reports.add(report)
            logger.warning(
                "CSP violation on %s: %s blocked %s",
                report.get("document-uri") or report.get("documentURL"),
                report.get("violated-directive") or report.get("effectiveDirective"),
                report.get("blocked-uri") or report.get("blockedURL"),
            )
        self.send_response(HTTPStatus.NO_CONTENT)
        self.end_headers()

    def send_static(self, name: str) -> None:
        """A file of ``static/`` (no sub-folders, no way out of it)."""
        path = STATIC_DIR / name
        try:
            found = "/" not in name and not name.startswith(".") and path.is_file()
        except OSError:  # a name longer than the file system allows (ENAMETOOLONG): none such
            found = False
        if not found:
            self.send_text(HTTPStatus.NOT_FOUND, "Not found", "text/plain; charset=utf-8")
            return
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind.endswith("javascript"):
            kind += "; charset=utf-8"
        self.send_bytes(HTTPStatus.OK, path.read_bytes(), kind, {"Cache-Control": "max-age=300"})

    def send_json(self, status: HTTPStatus, data: Any) -> None:
        """A JSON response."""
        self.send_bytes(status, json.dumps(data).encode(), "application/json", {})

    def send_text(self, status: HTTPStatus, text: str, kind: str, page: bool = False) -> None:
        """A text response; ``page`` adds the CSP and the other page headers."""
        headers = {"Cache-Control": "no-store"}
        if page:
            headers |= {
                "Content-Security-Policy": self.store.csp,
                "Referrer-Policy": "strict-origin-when-cross-origin",
                "X-Frame-Options": "DENY",
            }
        self.send_bytes(status, text.encode(), kind, headers)

    def send_bytes(
        self, status: HTTPStatus, body: bytes, kind: str, headers: dict[str, str]
    ) -> None:
        """Send a complete response."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def make_server(store: DemoStore, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``store`` bound to ``host:port`` (port 0: a free one)."""
    handler = type("BoundDemoStoreHandler", (DemoStoreHandler,), {"store": store})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def build_store(settings: Settings, server_url: str = "") -> DemoStore:
    """The demo store for ``settings``: its catalog, and the widget pointed at the Rasa server."""
    server = server_url.rstrip("/") or f"http://{settings.host}:{settings.rasa_port}"
    products = read_products(settings.var_dir / "store" / "catalog.jsonl")
    widget = WidgetTag(
        server=server,
        store_name="ShopBot Demo Store",
        greeting=(
            "Hi! I'm ShopBot. Ask me about a product, search the catalog, or track, cancel or "
            "return an order."
        ),
        privacy_url="/privacy",
    )
    return DemoStore(
        products=products,
        widget=widget,
        csp=content_security_policy(server),
        customer_token_secret=settings.customer_token_secret,
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.demo_store``: serve the demo store until interrupted."""
    from core.logging_setup import configure_logging

    parser = argparse.ArgumentParser(prog="python -m bot.demo_store", description=__doc__)
    parser.add_argument(
        "--port", type=int, help="port of the page (default: SHOPBOT_DEMO_PORT or 8000)"
    )
    parser.add_argument(
        "--server", default="", help="the ShopBot server's URL (default: http://<host>:<rasa_port>)"
    )
    args = parser.parse_args(argv)
    configure_logging()
    try:
        settings = Settings(**({"demo_port": args.port} if args.port else {}))
        store = build_store(settings, args.server)
    except (ValueError, FileNotFoundError) as exc:
        logger.error("%s", exc)
        return 2
    httpd = make_server(store, settings.host, settings.demo_port)
    logger.info(
        "Demo store with %d products on http://%s:%d (widget from %s)",
        len(store.products), settings.host, settings.demo_port, store.widget.server,
    )  # fmt: skip
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
