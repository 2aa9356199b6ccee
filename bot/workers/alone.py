"""``Alone``: a part that must run in one process of many, started only while this process holds its lease.

Telegram's long polling allows one ``getUpdates`` consumer per bot token (a second one gets 409 Conflict, and the
two would take turns failing). Several fronts on one database run it through ``Alone``: the front that takes the
lease ``poller:telegram`` polls and renews it; the others wait, not ready, and log why once; when the polling front
dies its lease runs out and a waiting front takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.fencing import Fence
from bot.workers.leases import Leases

log = logging.getLogger(__name__)


class Alone:
    """Run part ``name`` (``start`` … ``stop``) while this process holds its lease; ``waiting``: why it does not."""

    def __init__(
        self,
        leases: Leases,
        name: str,
        *,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        waiting: str,
    ) -> None:
        self.leases = leases
        self.name = name
        self._start = start
        self._stop = stop
        self._why = waiting
        self.waiting: str | None = None
        """Set (to the reason) while another process holds the part."""
        self._fence: Fence | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def begin(self) -> None:
        """Start the part now if its lease is free (errors of its start are raised), else wait for it in the
        background; the lease is renewed from the start on, a slow start included."""
        self._tasks = [asyncio.create_task(self._renew_forever())]
        if await self._take():
            await self._started()
        self._tasks.append(asyncio.create_task(self._take_forever()))

    async def end(self) -> None:
        """Stop watching and release the lease (the part itself is stopped by its owner)."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5.0)
        self._tasks = []
        if self._fence is not None:
            with contextlib.suppress(Exception):  # Redis gone: the lease runs out instead
                await self.leases.release(self._fence)
            self._fence = None

    async def _take(self) -> bool:
        fence = await self.leases.acquire(self.name)
        if fence is None:
            if self.waiting is None:
                log.error("%s", self._why)
            self.waiting = self._why
            return False
        self._fence, self.waiting = fence, None
        return True

    async def _started(self) -> None:
        """Start the part under the lease just taken; a start that fails gives the lease back."""
        try:
            await self._start()
        except BaseException:
            fence, self._fence = self._fence, None
            if fence is not None:
                with contextlib.suppress(Exception):
                    await self.leases.release(fence)
            raise

    async def _take_forever(self) -> None:
        while True:
            await asyncio.sleep(self.leases.lease_ms / 3000)
            if self._fence is not None:
                continue
            try:
                if await self._take():
                    log.info("took over %s (the process that ran it stopped)", self.name)
                    await self._started()
            except Exception:  # Redis restarting, a start that failed: tried again
                log.warning("%s: could not take it over", self.name, exc_info=True)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.leases.lease_ms / 3000)
            fence = self._fence
            if fence is None:
                continue
            try:
                lost = await self.leases.renew([fence])
            except Exception:  # Redis restarting: tried again
                log.warning("%s: could not renew its lease", self.name, exc_info=True)
                continue
            if lost and self._fence is fence:
                log.error("lost the lease of %s (this process stalled past it); stopping it here", self.name)
                self._fence = None
                await self._stop()
