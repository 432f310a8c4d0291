import pytest

from actions.validation import normalize_email, normalize_order_number, shorten


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("104233", "104233"),
        ("#104233", "104233"),
        ("order 104233 please", "104233"),
        ("104 233", "104233"),
        (104233, "104233"),
        ("12345", None),
        ("1042331", None),
        ("104233 and 551203", None),
        ("abc", None),
        (None, None),
        (["104233"], None),
    ],
)
def test_normalize_order_number(raw: object, expected: str | None) -> None:
    assert normalize_order_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Maria.Garcia@Example.com", "maria.garcia@example.com"),
        ("my email is a.chen@example.org.", "a.chen@example.org"),
        ("o'brien+shop@mail.example.co.uk", "o'brien+shop@mail.example.co.uk"),
        ("maria@", None),
        ("not an email", None),
        ("a@b.c", None),
        (42, None),
    ],
)
def test_normalize_email(raw: object, expected: str | None) -> None:
    assert normalize_email(raw) == expected


def test_shorten_single_line() -> None:
    assert shorten("a\nb") == "a b"
    assert len(shorten("x" * 100, 10)) == 10
