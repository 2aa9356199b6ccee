"""``kefu run``'s life: wait for the store, load the models, serve until SIGTERM, then stop gracefully.

Until the bot is up, a standby server on the bot's port answers ``/healthz`` (alive) and ``/readyz`` (503, saying
what is missing), so an orchestrator sees a live but unready process instead of a crash loop. A Redis store that
does not answer is tried again with growing pauses until it does; a malformed URL still ends the command (exit 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import typer

from bot import __version__
from bot.cli.kit import fail, fail_usage

if TYPE_CHECKING:
    from bot.app import Components
    from bot.config import Settings

log = logging.getLogger(__name__)

STORE_RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Pauses between tries to reach the store at start; the last repeats for as long as it takes."""


class Standby:
    """What ``/healthz`` and ``/readyz`` say before the bot is up: alive, not ready, and why."""

    def __init__(self) -> None:
        self.store = "not checked yet"
        self.models = "not loaded"

    async def health(self) -> dict[str, object]:
        return {"ok": True, "starting": True}

    async def ready(self) -> dict[str, object]:
        return {"ready": False, "store": self.store, "models": self.models, "reason": "starting"}


async def wait_for_store(
    settings: Settings, standby: Standby, stopping: asyncio.Event, *, pauses: Sequence[float] = STORE_RETRY_S
) -> bool:
    """Probe the store until it answers (True) or ``stopping`` is set (False). The first failure is one ``error:``
    line on stderr, later ones a warning each; a bad URL ends the command with exit code 2."""
    from bot.app import probe_store
    from bot.errors import ConfigError, StoreUnavailable

    tries = 0
    while not stopping.is_set():
        try:
            standby.store = "answering: " + await probe_store(settings)
            log.info("store: %s", standby.store)
            return True
        except ConfigError as error:
            fail_usage(error)
        except StoreUnavailable as error:
            pause = pauses[min(tries, len(pauses) - 1)]
            standby.store = str(error)
            if tries == 0:
                typer.secho(
                    f"error: {error} (kefu keeps trying; /readyz answers 503 until the store answers)",
                    fg="red",
                    err=True,
                )
            log.warning("%s; trying again in %g s", error, pause)
            tries += 1
            try:
                await asyncio.wait_for(stopping.wait(), pause)
            except TimeoutError:
                continue
    return False


async def serve(settings: Settings, *, load: Callable[[Settings], Components]) -> None:
    """Wait for the store and load the models behind a standby server, then run the bot until SIGINT or SIGTERM,
    and stop it gracefully: answer and deliver what is queued, keep the rest for the next start."""
    from bot.app import Kefu
    from bot.errors import StoreUnavailable
    from bot.metrics import Metrics
    from bot.server import HttpServer, build_http_app

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    standby = Standby()
    server = HttpServer(
        build_http_app([], metrics=Metrics(), health=standby.health, ready=standby.ready),
        host=settings.http.host,
        port=settings.http.port,
    )
    await server.start()
    try:
        if not await wait_for_store(settings, standby, stopping):
            return
        standby.models = "loading"
        components = await asyncio.to_thread(load, settings)
    finally:
        await server.stop()
    if stopping.is_set():
        return
    bot = Kefu(settings, components)
    try:
        await bot.start()
    except Exception as error:  # a channel or store that fails to start: one clear line, no traceback
        log.debug("kefu could not start", exc_info=True)
        with contextlib.suppress(Exception):
            await bot.stop()
        fail(error if isinstance(error, StoreUnavailable) else f"kefu could not start: {type(error).__name__} {error}")
    if bot.http is not None:
        typer.secho(f"kefu {__version__} is running: {bot.http.url}  (Ctrl+C stops)", fg="green", err=True)
    await stopping.wait()
    log.info("stopping: answering what is queued, then closing")
    await bot.stop()
