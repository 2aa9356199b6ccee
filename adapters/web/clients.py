"""Bounds per client: open sockets (overall, per address, per session).

A client is its network address: an IPv4 address, or the /64 network of an IPv6 one (one subscriber's share).
Messages carry it as ``Message.client``, so the core also counts requests for a human per client
(``bot.handoff.budget``).
Behind a reverse proxy every shopper has the proxy's address; set ``request.remote`` from the proxy's
forwarded header there (aiohttp's ``request.clone(remote=...)`` in a middleware), or raise these limits.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """What one client may hold or ask for. One address can be many shoppers behind a NAT: keep these generous."""

    max_sockets: int = 5000
    """Open sockets on this chat in all."""
    max_sockets_per_address: int = 50
    """Open sockets from one client address."""
    max_sockets_per_session: int = 10
    """Open sockets (tabs) of one session."""


DEFAULT_CLIENT_LIMITS = ClientLimits()


def client_address(remote: str | None) -> str:
    """The key a client is counted under: its IPv4 address or IPv6 /64 network (``remote`` as aiohttp gives it)."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return remote or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class SocketCounter:
    """Open sockets overall, per address and per session; only addresses and sessions with a socket are kept."""

    def __init__(self, limits: ClientLimits) -> None:
        self._limits = limits
        self._total = 0
        self._by_address: Counter[str] = Counter()
        self._by_session: Counter[str] = Counter()

    def open(self, address: str, session_id: str) -> str | None:
        """Count a new socket and return None, or return why it is refused (text for the shopper)."""
        limits = self._limits
        if self._total >= limits.max_sockets:
            return "The chat is full right now; please try again in a few minutes."
        if self._by_address[address] >= limits.max_sockets_per_address:
            return "Too many chat connections from your network; close other chat tabs and try again."
        if self._by_session[session_id] >= limits.max_sockets_per_session:
            return "This conversation is open in too many tabs; close some and try again."
        self._total += 1
        self._by_address[address] += 1
        self._by_session[session_id] += 1
        return None

    def close(self, address: str, session_id: str) -> None:
        """Forget a socket that ``open`` counted."""
        self._total -= 1
        for counts, key in ((self._by_address, address), (self._by_session, session_id)):
            counts[key] -= 1
            if counts[key] <= 0:
                del counts[key]

    def __len__(self) -> int:
        return self._total
