"""The client-address key: keyed, stable, never the address; X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from bot.channels.rest import ShopRestInput
from bot.channels.widget import WidgetInput
from core.client_key import (
    CLIENT_METADATA_KEY,
    ClientKeys,
    client_address,
    client_key,
    parse_trusted_proxies,
)
from core.settings import Settings

SECRET = "client-key-secret-0123456789abcdef0123"


def test_the_key_is_an_hmac_of_the_address_and_never_the_address() -> None:
    key = client_key("203.0.113.7", SECRET)
    expected = hmac.new(SECRET.encode(), b"203.0.113.7", hashlib.sha256).hexdigest()
    assert key == expected and len(key) == 64
    assert "203.0.113.7" not in key
    assert client_key("203.0.113.7", SECRET) == key  # stable: lockouts count per client
    assert client_key("203.0.113.8", SECRET) != key
    assert client_key("203.0.113.7", SECRET[::-1]) != key  # keyed: another server secret differs


def test_a_short_secret_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_CLIENT_KEY_SECRET"):
        client_key("1.2.3.4", "short")
    with pytest.raises(ValueError, match="at least 32"):
        ClientKeys("short")


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    keys = ClientKeys(SECRET)
    assert keys.key("198.51.100.1", "203.0.113.7") == client_key("198.51.100.1", SECRET)
    assert client_address("198.51.100.1", "203.0.113.7") == "198.51.100.1"


def test_forwarded_for_is_read_only_from_a_trusted_proxy() -> None:
    trusted = parse_trusted_proxies("10.0.0.5, 192.168.0.0/16")
    # From the trusted proxy: the client it names.
    assert client_address("10.0.0.5", "203.0.113.7", trusted) == "203.0.113.7"
    # A chain: right to left, skipping trusted hops; a spoofed left-most entry is not believed.
    assert client_address("10.0.0.5", "6.6.6.6, 203.0.113.7, 192.168.1.2", trusted) == "203.0.113.7"
    # Every hop trusted: the left-most one.
    assert client_address("10.0.0.5", "192.168.1.9, 192.168.1.2", trusted) == "192.168.1.9"
    # Not from a trusted proxy: the header is the client's own claim and is ignored.
    assert client_address("198.51.100.1", "203.0.113.7", trusted) == "198.51.100.1"
    # Garbage ends the walk at the last address a trusted proxy vouched for.
    assert client_address("10.0.0.5", "not-an-ip", trusted) == "10.0.0.5"
    assert client_address("10.0.0.5", "", trusted) == "10.0.0.5"
    ipv6 = parse_trusted_proxies("::1")
    assert client_address("::1", "2001:db8::7", ipv6) == "2001:db8::7"


def test_bad_trusted_proxies_name_the_setting() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.local'.*SHOPBOT_TRUSTED_PROXIES"):
        parse_trusted_proxies("10.0.0.1, proxy.local")
    with pytest.raises(ValueError, match="SHOPBOT_TRUSTED_PROXIES"):
        Settings(trusted_proxies="nope")


def test_without_a_secret_a_random_process_key_is_used_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = ClientKeys(), ClientKeys()
    assert "SHOPBOT_CLIENT_KEY_SECRET" in caplog.text
    assert first.key("1.2.3.4") != second.key("1.2.3.4")


def test_the_secret_is_generated_once_into_var_and_masked(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, client_key_secret="")
    secret = settings.ensure_client_key_secret()
    assert len(secret) >= 32
    assert (tmp_path / "var" / "client_key_secret").stat().st_mode & 0o077 == 0
    assert Settings(root=tmp_path, client_key_secret="").ensure_client_key_secret() == secret
    assert settings.describe()["client_key_secret"] == "***"
    assert Settings(trusted_proxies="10.0.0.1").to_env()["SHOPBOT_TRUSTED_PROXIES"] == "10.0.0.1"


def test_both_channels_hash_with_the_configured_secret_and_proxies(tmp_path: Path) -> None:
    config = {"client_key_secret": SECRET, "trusted_proxies": "10.0.0.5"}
    rest = ShopRestInput.from_credentials({"auth": False, **config})
    widget = WidgetInput.from_credentials(
        {
            "app_db_url": f"sqlite:///{tmp_path / 'a.db'}",
            "widget_secret": "w" * 40,
            **config,
        }
    )
    assert isinstance(rest, ShopRestInput) and isinstance(widget, WidgetInput)
    expected = client_key("203.0.113.7", SECRET)
    assert rest.client_keys.key("10.0.0.5", "203.0.113.7") == expected
    assert widget.client_keys.key("10.0.0.5", "203.0.113.7") == expected
    assert CLIENT_METADATA_KEY == "client"  # what actions/identity.py reads
