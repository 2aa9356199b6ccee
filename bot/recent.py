"""``RecentKeys``: the last N keys seen, to recognise redeliveries; a leaf (imports nothing from ``bot``).

Used by the in-memory inbox (message identities, posted keys) and by the Telegram adapter (update ids).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class RecentKeys(Generic[K]):
    """Remembers the last ``capacity`` keys added; the oldest is forgotten first.

        seen = RecentKeys[int](10_000)
        seen.add(42)  # True: new
        seen.add(42)  # False: a redelivery

    A repeated ``add`` does not refresh a key: keys are forgotten in the order they were first added.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[K, None] = OrderedDict()

    def add(self, key: K) -> bool:
        """Remember ``key``; False when it is remembered already."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
        return True

    def discard(self, key: K) -> None:
        """Forget ``key`` (its next delivery counts as new); nothing when it is not remembered."""
        self._keys.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)
