"""Generated hostile input (Hypothesis) on every POST endpoint of every running process.

The fixed corpus (``hostile_corpus.py``, in ``test_rest_conversation.py``) holds the cases we
thought of; these tests let Hypothesis write the bodies: arbitrary unicode (lone surrogates,
controls, bidi, NUL) and out-of-range numbers in the fields a legitimate caller fills, arbitrary
JSON documents of any shape, and arbitrary bytes. For each generated case, every endpoint must
answer a 2xx or a 4xx without a stack trace or a leaked path, and every process must still pass
its health check. Derandomized, so a CI failure reproduces; Hypothesis prints the case.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e import test_rest_conversation as hostile
from tests.e2e.hostile_corpus import send, shaped_body
from tests.e2e.test_rest_conversation import Everything, problems_of, sick_processes

pytestmark = pytest.mark.e2e

# The hostile-input module's fixtures: every process of `shopbot run`, and its POST endpoints.
everything = hostile.everything
endpoints = hostile.endpoints

FUZZ = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KEYS = (
    "sender", "message", "metadata", "text", "client_id", "conversation", "message_id",
    "value", "tokens", "stream_id", "update_id", "chat", "from", "id", "event", "name",
    "tracker", "next_action", "domain", "email", "password", "csrf_token", "q", "page",
)  # fmt: skip
ANY_TEXT = st.text(st.characters(exclude_categories=[]), max_size=300)  # lone surrogates too
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT
)
JSON_DOCS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | ANY_TEXT, inner, max_size=6)
    ),
    max_leaves=30,
)


def assert_every_endpoint_copes(
    everything: Everything, endpoints: dict[str, tuple[str, dict[str, str]]], body_of: Any
) -> None:
    """POST ``body_of(endpoint name)`` to each endpoint; collect what is wrong, then check health."""
    failures = []
    for name, (url, headers) in endpoints.items():
        answer = send(url, body_of(name), headers)
        problems = problems_of(answer.status, answer.text, answer.content_type)
        if "without" in name and not 400 <= answer.status < 500:
            problems.append(f"status {answer.status} without the secret")
        if problems:
            failures.append((name, problems, answer.text[:300]))
    failures += [(sick, ["down after the case"], "") for sick in sick_processes(everything)]
    assert not failures, failures


@FUZZ
@given(text=ANY_TEXT, ident=ANY_TEXT)
def test_generated_values_in_legitimate_bodies(
    everything: Everything,
    endpoints: dict[str, tuple[str, dict[str, str]]],
    text: str,
    ident: str,
) -> None:
    """Each endpoint's own body shape, its text and id fields filled by Hypothesis."""
    assert_every_endpoint_copes(everything, endpoints, lambda name: shaped_body(name, text, ident))


@FUZZ
@given(document=JSON_DOCS)
def test_generated_json_documents(
    everything: Everything, endpoints: dict[str, tuple[str, dict[str, str]]], document: Any
) -> None:
    """Any JSON document (objects with the endpoints' own keys, lists, scalars, huge integers)."""
    body = json.dumps(document).encode()
    assert_every_endpoint_copes(everything, endpoints, lambda name: body)


@FUZZ
@given(body=st.binary(max_size=2000))
def test_generated_bytes(
    everything: Everything, endpoints: dict[str, tuple[str, dict[str, str]]], body: bytes
) -> None:
    """Any bytes: broken UTF-8, truncated JSON, NULs."""
    assert_every_endpoint_copes(everything, endpoints, lambda name: body)
