"""How many conversations from one client may open a hand-off ticket within a window.

A web chat shopper is anyone who opens a socket: twenty fresh sessions from one address could open twenty
tickets and bury the operators. Messages from such unverified senders carry ``Message.client`` (the web chat's
client address); escalations are counted per client, whether the shopper pressed "talk to a human" or typed it.
Platforms that vouch for their users (Telegram, Slack) leave ``client`` empty and are not counted here: a
conversation has at most one open ticket anyway.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TicketLimits:
    """Tickets per client: one address can be many shoppers behind a NAT, so keep these generous."""

    per_client: int = 5
    """Conversations from one client that may open a ticket within ``window_s``."""
    window_s: float = 600.0
    max_clients: int = 10_000
    """Clients remembered; past it the one that asked longest ago is forgotten."""


class TicketBudget:
    """Counts the conversations of each client that opened a ticket within the window (in this process's memory).

    A conversation already counted may ask again (the desk answers "already waiting"); others past the budget
    are refused until the oldest one leaves the window.
    """

    def __init__(self, limits: TicketLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._asked: OrderedDict[str, dict[str, float]] = OrderedDict()
        """Per client, when each of its conversations asked; clients in the order they last asked."""

    def allow(self, client: str, conversation: str) -> bool:
        """Whether ``conversation`` (from ``client``) may open a ticket now; counts it when it may."""
        now = self._clock()
        window = self._limits.window_s
        while self._asked:  # forget clients whose last request left the window: O(forgotten)
            oldest = next(iter(self._asked.values()))
            if now - max(oldest.values(), default=-math.inf) <= window:
                break
            self._asked.popitem(last=False)
        asked = self._asked.setdefault(client, {})
        for counted, when in list(asked.items()):  # at most per_client entries
            if now - when > window:
                del asked[counted]
        if conversation in asked:
            return True
        if len(asked) >= self._limits.per_client:
            return False
        asked[conversation] = now
        self._asked.move_to_end(client)
        while len(self._asked) > self._limits.max_clients:
            self._asked.popitem(last=False)
        return True

    def __len__(self) -> int:
        """Clients remembered."""
        return len(self._asked)
