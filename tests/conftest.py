"""Fixtures shared across the suite: the demo store's engines, loaded once per session; a private Redis server.

BLAS runs on one thread in the suite (``pytest_configure``): its matrices are small, and OpenBLAS's second thread only
contends with the first on a shared 2-core machine (training the demo intent model took 26 s of CPU on two threads, 4 s
on one, at load 6). Results stay the same to rounding; the thread count is no part of what any test checks.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import Components, load_components
from bot.config import Settings, load_settings

if TYPE_CHECKING:
    from tests.redis_server import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    """One BLAS thread (``OPENBLAS_NUM_THREADS`` where set wins): the variable reaches libraries loaded later and the
    ``kefu`` subprocesses tests start; threadpoolctl limits those already loaded."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(int(os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")), user_api="blas")


def require_tool(name: str) -> str:
    """The path of a system tool the test needs; skip where it is missing, but fail in CI (which installs it)."""
    path = shutil.which(name) or (name if Path(name).is_file() else None)
    if path is None:
        message = f"{name} is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def spoken_wav(text: str, path: Path) -> Path:
    """``text`` read aloud in English by espeak-ng, written to ``path`` as WAV (real speech for Whisper)."""
    subprocess.run([require_tool("espeak-ng"), "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
    return path


def wait_until(condition: Callable[[], bool], *, timeout: float = 60.0) -> None:
    """Poll ``condition`` (run it in a thread from async tests); ``timeout`` is a hang guard, not a speed claim."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {timeout:g} s")
        time.sleep(0.01)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private ``redis-server`` (Debian's package) on a free port, AOF on, for the whole session; skipped where it
    is not installed, failed in CI (``.ci/run`` installs it)."""
    binary = require_tool("redis-server")
    from tests.redis_server import RedisServer

    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The private server's URL, emptied for this test (``redis://127.0.0.1:<port>/0``)."""
    if redis_server.process is None:  # a test stopped it and failed before starting it again
        redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings with a fresh data dir, so the demo index and intent model are built as on first run."""
    data_dir = tmp_path_factory.mktemp("kefu-data")
    return load_settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def demo_components(demo_settings: Settings) -> Components:
    """The real encoder, knowledge base and intent model of the demo store (no speech, no vision)."""
    return load_components(demo_settings, speech=False, vision=False)


@pytest.fixture(autouse=True)
def _aiogram_closes_plain_http_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiogram's session close waits 250 ms for its TLS connections to shut; a session on a plain-HTTP API (the loopback
    fake) has none, so here it just closes (142 closes in the fast suite: 35 s of waiting). Applied once aiogram is
    imported (the first test to import it still waits); ``https://`` sessions keep aiogram's own close."""
    module = sys.modules.get("aiogram.client.session.aiohttp")
    if module is None:
        return
    graceful = module.AiohttpSession.close

    async def close(session: Any) -> None:
        if session.api.base.startswith("https://"):
            await graceful(session)
        elif session._session is not None and not session._session.closed:
            await session._session.close()

    monkeypatch.setattr(module.AiohttpSession, "close", close)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Undo what a test (or a CLI command run in-process) did to the root logger: its handlers, filters, level."""
    root = logging.getLogger()
    handlers = {handler: list(handler.filters) for handler in root.handlers}
    filters, level = list(root.filters), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler, kept in handlers.items():
        handler.filters = kept
    root.filters = filters
    root.setLevel(level)


@pytest.fixture
def kefu_logging() -> Callable[[str], object]:
    """``configure(level)``: kefu's own logging set-up (to stderr); undone after the test."""
    from bot.logs import configure_logging

    return configure_logging
