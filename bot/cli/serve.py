"""The one serve loop of ``kefu run``, ``kefu run --role front`` and ``kefu worker``: wait for the store, load the
models, serve until SIGTERM or SIGINT, then stop gracefully.

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
from typing import TYPE_CHECKING, Protocol, TypeVar

import typer

from bot import __version__
from bot.cli.kit import fail, fail_usage

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.server import HttpServer

log = logging.getLogger(__name__)

STORE_RETRY_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Pauses between tries to reach the store at start; the last repeats for as long as it takes."""

Loaded = TypeVar("Loaded")


class Served(Protocol):
    """A bot the serve loop runs (``Kefu``, ``KefuFront``, ``KefuWorker``): started, then stopped at a signal."""

    @property
    def http(self) -> HttpServer | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Standby:
    """What ``/healthz`` and ``/readyz`` say before the bot is up: alive, not ready, and why (``models``: None for a
    process that loads none, the front)."""

    def __init__(self, *, models: str | None = "not loaded") -> None:
        self.store = "not checked yet"
        self.models = models

    async def health(self) -> dict[str, object]:
        return {"ok": True, "starting": True}

    async def ready(self) -> dict[str, object]:
        status: dict[str, object] = {"ready": False, "store": self.store, "reason": "starting"}
        if self.models is not None:
            status["models"] = self.models
        return status


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


async def serve(
    settings: Settings, build: Callable[[Loaded], Served], *, load: Callable[[], Loaded], models: bool = True
) -> None:
    """Wait for the store and run ``load`` (blocking: the models; in a worker thread) behind a standby server, then
    start ``build(loaded)`` and serve until SIGINT or SIGTERM, and stop it gracefully: ``stop`` finishes or hands
    back what it holds. ``models``: whether ``load`` loads any (the standby's ``/readyz`` says so)."""
    from bot.errors import StoreUnavailable
    from bot.metrics import Metrics
    from bot.server import http_server

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    standby = Standby(models="not loaded" if models else None)
    server = http_server([], settings.http, metrics=Metrics(), health=standby.health, ready=standby.ready)
    try:
        await server.start()
    except OSError as error:  # the port is taken (another kefu on this machine) or not ours to bind
        fail(f"cannot listen on {server.url}: {error.strerror or error} (KEFU_HTTP__HOST, KEFU_HTTP__PORT)")
    try:
        if not await wait_for_store(settings, standby, stopping):
            return
        if models:
            standby.models = "loading"
        loaded = await asyncio.to_thread(load)
    finally:
        await server.stop()
    if stopping.is_set():
        return
    bot = build(loaded)
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
