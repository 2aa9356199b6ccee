"""Run a dispatcher by polling as a bot's main() would, for the tests of the bots in this folder (written like the
open-source aiogram 3 bots they imitate, run unchanged against the fake)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher


@asynccontextmanager
async def polling(dp: Dispatcher, *bots: Bot) -> AsyncIterator[None]:
    """Run ``dp.start_polling(*bots)`` as a bot's ``main()`` would, and stop it (closing the sessions) after."""
    task = asyncio.create_task(dp.start_polling(*bots, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        if dp._running_lock.locked():
            await dp.stop_polling()
        await asyncio.wait_for(task, 10)
