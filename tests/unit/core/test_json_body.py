"""Request bodies that ``json.loads`` alone turns into a 500 are refused with a reason."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.json_body import (
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    JsonBodyError,
    load_json_body,
    nesting_depth,
)

HOSTILE = [
    # CPython's int() guard (4,300 digits) raises ValueError, not JSONDecodeError.
    (b'{"a":' + b"1" * 5000 + b"}", 400, "digits"),
    (b'{"a": -' + b"9" * (MAX_INT_DIGITS + 1) + b"}", 400, "digits"),
    # Deeper than the recursion limit: RecursionError.
    (b"[" * 10_000 + b"]" * 10_000, 400, "levels deep"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400, "levels deep"),
    # Unbalanced and deep: still refused before json.loads recurses.
    (b"[" * 100_000, 400, "levels deep"),
    (b'{"a": NaN}', 400, "not JSON"),
    (b'{"a": -Infinity}', 400, "not JSON"),
    (b'{"a": "\\ud800"}', 400, "lone surrogate"),
    (b'{"\\udfff": 1}', 400, "lone surrogate"),
    (b"", 400, "empty"),
    (b"  \n", 400, "empty"),
    (b'{"a": "\xff"}', 400, "UTF-8"),
    (b'{"a": "x"', 400, "not valid JSON"),
    (b"\x00\x01", 400, "not valid JSON"),
]


@pytest.mark.parametrize(
    ("raw", "status", "fragment"), HOSTILE, ids=[repr(raw[:30]) for raw, _, _ in HOSTILE]
)
def test_hostile_bodies_are_refused_with_a_reason(raw: bytes, status: int, fragment: str) -> None:
    with pytest.raises(JsonBodyError) as info:
        load_json_body(raw)
    assert info.value.status == status
    assert fragment in info.value.reason


def test_a_body_over_the_limit_is_413_and_names_it() -> None:
    with pytest.raises(JsonBodyError) as info:
        load_json_body(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert info.value.status == 413 and "1000" in info.value.reason


def test_ordinary_bodies_decode_unchanged() -> None:
    value = {
        "update_id": 123456789,
        "message": {"chat": {"id": -1001234567890}, "text": '[[[ {{ ]] " \\ \U0001f600'},
        "n": [1.5, -2, 1e300, True, None, "9" * 5000],
        "escaped_pair": "\U0001f600",
    }
    raw = json.dumps(value).encode()  # ensure_ascii: the emoji as an escaped surrogate pair
    assert load_json_body(raw) == value
    assert load_json_body(raw.decode()) == value


def test_the_example_is_quoted_in_the_reason() -> None:
    with pytest.raises(JsonBodyError) as info:
        load_json_body(b"{", '{"sender": "id"}')
    assert 'send JSON like {"sender": "id"}' in info.value.reason


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[[[", "{{{{"]', 1),  # brackets inside strings do not count
        ('["\\"[[[["]', 1),  # nor after an escaped quote
        ("[" * (MAX_JSON_DEPTH + 50), MAX_JSON_DEPTH + 1),  # stops counting past the limit
    ],
    ids=lambda value: repr(value)[:30],
)
def test_nesting_depth_counts_brackets_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=40,
)


@given(JSON_VALUES)
def test_nesting_depth_is_the_depth_of_the_decoded_value(value: object) -> None:
    """Removing innermost pairs level by level measures exactly what the value nests."""
    assert nesting_depth(json.dumps(value), limit=1_000) == _depth(value)


@pytest.mark.parametrize(
    ("text", "depth"),
    [("[[[]", 3), ("[{]}", 2), ("[[{]]]", 3), ("[[]]]][[", 2)],
)
def test_brackets_that_do_not_pair_up_are_counted_one_by_one(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_exactly_the_limit_is_accepted() -> None:
    deepest = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json_body(deepest) is not None
    with pytest.raises(JsonBodyError):
        load_json_body("[" + deepest + "]")


def test_the_scan_of_a_large_body_is_linear() -> None:
    """1 MiB of shallow brackets, or one long string full of escapes, is scanned in ~0.1 s here;
    the bound only catches a quadratic scan or a backtracking string pattern (shared CPUs)."""
    for raw in (
        b"[" + b"[]," * 349_000 + b"[]]",
        b'["' + b'\\"[' * 200_000 + b'"]',
    ):
        started = time.perf_counter()
        assert load_json_body(raw)
        assert time.perf_counter() - started < 5.0
