"""The opaque client key the channels put in a message's metadata (``metadata["client"]``).

The order service counts failed identity checks per client as well as per conversation and per
order number (``actions/identity.py``), so a fresh conversation id buys no new guesses. The key is
an HMAC-SHA256 of the request's client address under a server secret
(``Settings.client_key_secret``): the same address always gives the same key, but the key reveals
nothing about the address, and the raw IP is never stored in the tracker.

``X-Forwarded-For`` is honoured only when the request comes from a proxy named in
``Settings.trusted_proxies`` (off by default): otherwise a client could pick its own address and
dodge the lockout.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Iterable

logger = logging.getLogger(__name__)

# The metadata key of the client's hash: written by the channels, read by the actions.
CLIENT_METADATA_KEY = "client"
MIN_SECRET_CHARS = 32

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(raw: str) -> tuple[IPNetwork, ...]:
    """Parse a comma- or space-separated list of proxy addresses or networks (CIDR).

    Args:
        raw: e.g. ``"10.0.0.5, 192.168.1.0/24 ::1"``; empty trusts no proxy.

    Raises:
        ValueError: For an entry that is not an IP address or network.
    """
    networks: list[IPNetwork] = []
    for entry in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                "trusted_proxies must list IP addresses or networks (e.g. 10.0.0.5 or "
                f"10.0.0.0/8), separated by commas. Currently, it contains {entry!r} "
                "(set SHOPBOT_TRUSTED_PROXIES)."
            ) from None
    return tuple(networks)


def _is_trusted(address: str, trusted: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in trusted)


def client_address(
    peer: str, forwarded_for: str | None, trusted: tuple[IPNetwork, ...] = ()
) -> str:
    """The request's client address: the peer, or the client a trusted proxy names.

    With trusted proxies, ``X-Forwarded-For`` is read right to left (each proxy appends the
    address it saw) and the first address that is not a trusted proxy is the client; the
    left-most one when every hop is trusted. An entry that is not an IP address ends the walk
    (the last address a trusted proxy vouched for is used).

    Args:
        peer: The address of the TCP peer.
        forwarded_for: The ``X-Forwarded-For`` header, if any.
        trusted: :func:`parse_trusted_proxies` of the setting; empty ignores the header.
    """
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _is_trusted(hop, trusted):
            break
    return client


def client_key(address: str, secret: str) -> str:
    """HMAC-SHA256 of ``address`` under ``secret``, as 64 hex digits (never the address itself).

    Raises:
        ValueError: When ``secret`` is shorter than 32 characters.
    """
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(
            f"The client key secret must be at least {MIN_SECRET_CHARS} characters. Currently, "
            f"it has {len(secret)} (set SHOPBOT_CLIENT_KEY_SECRET or let `shopbot run` generate "
            "var/client_key_secret)."
        )
    return hmac.new(secret.encode(), address.strip().encode(), hashlib.sha256).hexdigest()


class ClientKeys:
    """Turns a request's peer and ``X-Forwarded-For`` into its client key.

    Args:
        secret: The HMAC key (``Settings.client_key_secret``), at least 32 characters; empty
            → a random key of this process (keys then change on restart and differ between
            replicas, so lockouts per client do not carry over; a warning says so).
        trusted_proxies: ``Settings.trusted_proxies`` (empty: the header is ignored).
    """

    def __init__(self, secret: str = "", trusted_proxies: str = "") -> None:
        if not secret:
            logger.warning(
                "No client key secret configured: client addresses are hashed with a random key "
                "of this process. Set SHOPBOT_CLIENT_KEY_SECRET (`shopbot run` generates "
                "var/client_key_secret) so every server hashes alike."
            )
            secret = secrets.token_urlsafe(32)
        client_key("", secret)  # checks the secret now, not on the first request
        self._secret = secret
        self.trusted = parse_trusted_proxies(trusted_proxies)

    @classmethod
    def from_credentials(cls, credentials: dict[str, object]) -> ClientKeys:
        """Build from a channel's ``credentials.yml`` section (``client_key_secret``,
        ``trusted_proxies``), as ``bot.runtime_config`` renders it for every channel."""
        return cls(
            str(credentials.get("client_key_secret") or ""),
            str(credentials.get("trusted_proxies") or ""),
        )

    def key(self, peer: str, forwarded_for: str | None = None) -> str:
        """The client key of a request from ``peer`` with this ``X-Forwarded-For``."""
        return client_key(client_address(peer, forwarded_for, self.trusted), self._secret)
