"""The REST channel requires the server-side secret unless switched off."""

from __future__ import annotations

import pytest

from bot.channels.rest import ShopRestInput

SECRET = "rest-secret-0123456789abcdef0123456789"


def test_the_secret_is_required_by_default() -> None:
    channel = ShopRestInput.from_credentials({"secret": SECRET})
    assert isinstance(channel, ShopRestInput)
    assert channel.authorized(f"Bearer {SECRET}")
    assert not channel.authorized(None)
    assert not channel.authorized("Bearer wrong")
    assert not channel.authorized(SECRET)  # not a bearer header


def test_without_a_secret_the_channel_refuses_to_start_unless_auth_is_off() -> None:
    with pytest.raises(ValueError, match="SHOPBOT_REST_AUTH=off"):
        ShopRestInput.from_credentials({})
    open_channel = ShopRestInput.from_credentials({"auth": False})
    assert isinstance(open_channel, ShopRestInput) and open_channel.authorized(None)
