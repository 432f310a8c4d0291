"""The widget protocol's client for the end-to-end tests: it lives in ``training.bench.widget_client``
(the "Widget" benchmark drives the real channel with it too)."""

from __future__ import annotations

from training.bench.widget_client import (
    Reply,
    SseEvent,
    StreamReader,
    WidgetClient,
    parse_sse_block,
    post_json,
)

__all__ = ["Reply", "SseEvent", "StreamReader", "WidgetClient", "parse_sse_block", "post_json"]
