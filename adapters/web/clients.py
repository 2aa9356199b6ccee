"""Bounds per client: open sockets (overall, per address, per session) and requests for a human per address.

A client is its network address: an IPv4 address, or the /64 network of an IPv6 one (one subscriber's share).
Behind a reverse proxy every shopper has the proxy's address; set ``request.remote`` from the proxy's
forwarded header there (aiohttp's ``request.clone(remote=...)`` in a middleware), or raise these limits.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
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
    handoffs_per_address: int = 5
    """Sessions from one address that may ask for a human (``kefu:human``) within ``handoff_window_s``."""
    handoff_window_s: float = 600.0
    max_addresses: int = 10_000
    """Addresses whose requests for a human are remembered; past it the one that asked longest ago is dropped."""


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


class HandoffBudget:
    """How many sessions of one address may ask for a human within a window (each may open a ticket).

    A session already counted may ask again (the desk answers "already waiting"); others past the budget are
    refused until the oldest request leaves the window.
    """

    def __init__(self, limits: ClientLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._asked: OrderedDict[str, dict[str, float]] = OrderedDict()
        """Per address, when each of its sessions asked; addresses in the order they last asked."""

    def allow(self, address: str, session_id: str) -> bool:
        """Whether this session's request for a human may go through (and count it)."""
        now = self._clock()
        window = self._limits.handoff_window_s
        while self._asked:  # forget addresses whose last request left the window: O(forgotten)
            oldest = next(iter(self._asked.values()))
            if now - max(oldest.values(), default=-math.inf) <= window:
                break
            self._asked.popitem(last=False)
        asked = self._asked.setdefault(address, {})
        for session, when in list(asked.items()):  # at most handoffs_per_address entries
            if now - when > window:
                del asked[session]
        if session_id in asked:
            return True
        if len(asked) >= self._limits.handoffs_per_address:
            return False
        asked[session_id] = now
        self._asked.move_to_end(address)
        while len(self._asked) > self._limits.max_addresses:
            self._asked.popitem(last=False)
        return True

    def __len__(self) -> int:
        """Addresses remembered."""
        return len(self._asked)
