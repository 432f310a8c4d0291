"""The demo store's HTML: escaped, no inline script or style, the widget tag with its options."""

from __future__ import annotations

import re

from bot.demo_store.catalog import StoreProduct
from bot.demo_store.page import WidgetTag, format_price, render_store_page, web_url


def product(**fields: object) -> StoreProduct:
    values: dict[str, object] = {
        "id": "p1",
        "name": "Chess Set",
        "price": 18.99,
        "currency": "USD",
        "stock": 3,
        "url": "https://shop.example/chess",
        "image": "https://img.example/chess.jpg",
        "category": "Toys & Games",
    }
    return StoreProduct(**{**values, **fields})  # type: ignore[arg-type]


WIDGET = WidgetTag(server="http://127.0.0.1:5005", store_name="Demo & Co", privacy_url="/privacy")


def test_everything_from_the_catalog_is_escaped() -> None:
    hostile = product(
        name='<script>alert(1)</script>"',
        category="<b>cat</b>",
        url='https://x.example/" onmouseover="alert(1)',
    )
    html = render_store_page([hostile], WIDGET)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in html
    assert "&lt;b&gt;cat&lt;/b&gt;" in html
    assert 'onmouseover="' not in html


def test_only_web_links_and_https_pictures_are_used() -> None:
    html = render_store_page(
        [product(url="javascript:alert(1)", image="http://img.example/a.jpg")], WIDGET
    )
    assert "javascript:" not in html
    assert "http://img.example" not in html  # an http picture would break img-src https:
    assert 'class="picture no-image"' in html
    assert web_url("https://a.example/x") == "https://a.example/x"
    assert web_url("data:text/html,hi") == ""


def test_no_inline_script_or_style() -> None:
    html = render_store_page([product()], WIDGET, query="chess")
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
    assert "<style" not in html and " style=" not in html
    assert re.search(r" on\w+=", html) is None


def test_widget_tag_carries_the_options() -> None:
    tag = WidgetTag(
        server="http://127.0.0.1:5005",
        store_name='Bob\'s "Shop"',
        primary_color="#0a7",
        greeting="Hi <there>",
        privacy_url="/privacy",
        customer_token="abc.def.ghi",
        texts={"placeholder": "Ask us"},
    ).render()
    assert tag.startswith('<script src="http://127.0.0.1:5005/webhooks/widget/widget.js"')
    assert 'data-server="http://127.0.0.1:5005"' in tag
    assert 'data-store-name="Bob&#x27;s &quot;Shop&quot;"' in tag
    assert 'data-greeting="Hi &lt;there&gt;"' in tag
    assert 'data-customer-token="abc.def.ghi"' in tag
    assert 'data-text-placeholder="Ask us"' in tag
    assert tag.endswith(" defer></script>")


def test_search_and_pages() -> None:
    products = [product(id=str(i), name=f"Thing {i}") for i in range(30)]
    products.append(product(id="c", name="Wooden Chess Board"))
    page_two = render_store_page(products, WIDGET, page=2)
    assert "Page 2 of 2" in page_two and 'rel="prev"' in page_two
    found = render_store_page(products, WIDGET, query="chess board")
    assert "Wooden Chess Board" in found and "Thing 1<" not in found
    assert "1 products matching" in found
    assert "No products match" in render_store_page(products, WIDGET, query="zebra")


def test_prices_read_like_the_widget_shows_them() -> None:
    assert format_price(1234.5, "USD") == "$1,234.50"
    assert format_price(9.0, "EUR") == "9.00 EUR"


def test_stock_is_shown_only_as_the_catalog_gives_it() -> None:
    assert "In stock (3)" in render_store_page([product()], WIDGET)
    assert "Out of stock" in render_store_page([product(stock=0)], WIDGET)
    words_only = render_store_page([product(stock=None, availability=True)], WIDGET)
    assert "In stock<" in words_only
    unknown = render_store_page([product(stock=None)], WIDGET)
    assert "stock" not in unknown.split('class="product"', 1)[1].lower()
