"""Who may take over and resolve tickets: ``KEFU_SLACK__OPERATORS``, user ids (``U…``, ``W…``) and user-group ids
(``S…``, their members read with ``usergroups.users.list`` and kept for a minute)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from adapters.slack.webapi import DeliveryFailed
from bot.errors import DeliveryDeferred

log = logging.getLogger(__name__)

Call = Callable[..., Awaitable[Mapping[str, Any]]]


class Operators:
    """``await operators.allow(user_id)``: whether ``user_id`` is an operator, directly or through a group."""

    def __init__(
        self, ids: Iterable[str], *, call: Call, ttl_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        ids = [i.strip() for i in ids if i.strip()]
        self.users = frozenset(i for i in ids if not i.startswith("S"))
        self.groups = tuple(i for i in ids if i.startswith("S"))
        self._call, self._ttl_s, self._clock = call, ttl_s, clock
        self._members: dict[str, tuple[frozenset[str], float]] = {}

    async def allow(self, user_id: str) -> bool:
        if user_id in self.users:
            return True
        for group in self.groups:
            if user_id in await self._members_of(group):
                return True
        return False

    async def _members_of(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and self._clock() - cached[1] < self._ttl_s:
            return cached[0]
        try:
            answer = await self._call("usergroups.users.list", query={"usergroup": group})
        except (DeliveryFailed, DeliveryDeferred) as error:  # unreadable: the last known members still count
            log.warning("slack desk: could not read the members of user group %s (%s)", group, error)
            return cached[0] if cached else frozenset()
        members = frozenset(str(u) for u in answer.get("users") or [] if isinstance(u, str))
        self._members[group] = (members, self._clock())
        return members
