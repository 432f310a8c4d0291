"""The demo store's HTML: a product grid with the widget's ``<script>`` tag, everything escaped.

No inline script, no inline style, no ``style=`` attribute: the page itself obeys the strict
Content-Security-Policy it is served with (``bot/demo_store/server.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode, urlsplit

from bot.demo_store.catalog import StoreProduct

PAGE_SIZE = 24


@dataclass(frozen=True)
class WidgetTag:
    """The options of the widget's ``<script>`` tag (each becomes a ``data-*`` attribute)."""

    server: str
    store_name: str
    primary_color: str = "#3730a3"
    greeting: str = ""
    privacy_url: str = ""
    customer_token: str = ""
    texts: dict[str, str] = field(default_factory=dict)

    def render(self) -> str:
        """Return the ``<script>`` tag a store pastes into its pages."""
        attrs = {
            "src": f"{self.server}/webhooks/widget/widget.js",
            "data-server": self.server,
            "data-store-name": self.store_name,
            "data-primary-color": self.primary_color,
            "data-greeting": self.greeting,
            "data-privacy-url": self.privacy_url,
            "data-customer-token": self.customer_token,
            **{f"data-text-{key}": value for key, value in self.texts.items()},
        }
        rendered = " ".join(f'{name}="{escape(value)}"' for name, value in attrs.items() if value)
        return f"<script {rendered} defer></script>"


def web_url(url: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """``url`` when it is an absolute URL with one of ``schemes``, else ``""``."""
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in schemes and parts.netloc else ""


def format_price(price: float, currency: str) -> str:
    """``$1,234.50`` for USD, ``1,234.50 EUR`` otherwise (the widget formats prices the same)."""
    return f"${price:,.2f}" if currency == "USD" else f"{price:,.2f} {currency}"


def product_card(product: StoreProduct) -> str:
    """One ``<li>`` of the grid."""
    # https only: the CSP's img-src allows https: images, and an http one would be a violation.
    image = web_url(product.image, ("https",))
    link = web_url(product.url)
    name = escape(product.name)
    title = f'<a href="{escape(link)}" rel="noopener noreferrer">{name}</a>' if link else name
    picture = (
        f'<img src="{escape(image)}" alt="" loading="lazy" referrerpolicy="no-referrer">'
        if image
        else ""
    )
    if product.in_stock is None:
        stock = ""  # the catalog does not say; nothing is made up
    elif product.in_stock:
        count = f" ({product.stock})" if product.stock is not None else ""
        stock = f'<p class="stock in">In stock{count}</p>'
    else:
        stock = '<p class="stock out">Out of stock</p>'

    return (
        f'<li class="product" data-product-id="{escape(product.id)}">'
        f'<div class="picture{"" if image else " no-image"}">{picture}</div>'
        f'<p class="category">{escape(product.category)}</p>'
        f"<h2>{title}</h2>"
        f'<p class="price">{escape(format_price(product.price, product.currency))}</p>'
        f"{stock}</li>"
    )


def matching(products: Sequence[StoreProduct], query: str) -> list[StoreProduct]:
    """Products whose name or category contains every word of ``query`` (case-insensitive)."""
    words = query.lower().split()
    return [p for p in products if all(w in f"{p.name} {p.category}".lower() for w in words)]


def render_store_page(
    products: Sequence[StoreProduct],
    widget: WidgetTag,
    *,
    query: str = "",
    page: int = 1,
    signed_in: str = "",
) -> str:
    """The store's front page: search, a page of the product grid and the widget."""
    found = matching(products, query) if query else list(products)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    grid = "\n".join(product_card(p) for p in shown)
    if not shown:
        grid = '<li class="empty">No products match your search.</li>'
    summary = f"{len(found)} products" + (f" matching “{escape(query)}”" if query else "")
    return _layout(
        widget,
        title=widget.store_name,
        signed_in=signed_in,
        query=query,
        body=(
            f'<h1>Shop our catalog</h1><p class="summary">{summary}</p>'
            f'<ul class="grid">\n{grid}\n</ul>{_pager(query, page, pages)}'
        ),
    )


def render_privacy_page(widget: WidgetTag) -> str:
    """A stand-in privacy notice (the widget links to it)."""
    return _layout(
        widget,
        title=f"Privacy notice — {widget.store_name}",
        signed_in="",
        query="",
        body=(
            "<h1>Privacy notice</h1><p>This is a demo store. Chat messages are stored by the "
            "store's ShopBot server so that a conversation survives a reload and an agent can "
            "read it; nothing leaves the machine it runs on.</p>"
        ),
    )


def _pager(query: str, page: int, pages: int) -> str:
    if pages <= 1:
        return ""

    def href(number: int) -> str:
        params = {"page": str(number), **({"q": query} if query else {})}
        return "/?" + escape(urlencode(params))

    previous = f'<a rel="prev" href="{href(page - 1)}">← Previous</a>' if page > 1 else ""
    following = f'<a rel="next" href="{href(page + 1)}">Next →</a>' if page < pages else ""
    return (
        f'<nav class="pager" aria-label="Pages">{previous}'
        f"<span>Page {page} of {pages}</span>{following}</nav>"
    )


def _layout(widget: WidgetTag, *, title: str, signed_in: str, query: str, body: str) -> str:
    account = f'<span class="account">Signed in as {escape(signed_in)}</span>' if signed_in else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/store.css">
<script src="/static/store.js" defer></script>
{widget.render()}
</head>
<body>
<header class="site-header">
<a class="brand" href="/">{escape(widget.store_name)}</a>
<form class="search" action="/" method="get" role="search">
<label for="q" class="visually-hidden">Search products</label>
<input id="q" name="q" type="search" value="{escape(query)}" placeholder="Search products">
<button type="submit">Search</button>
</form>
{account}
</header>
<main>
{body}
</main>
<footer class="site-footer">
<p>A demo of the ShopBot web widget. Product data: a public Amazon product sample (see
data/demo/catalog/PROVENANCE.md). <a href="/privacy">Privacy notice</a></p>
</footer>
</body>
</html>
"""
