"""``kefu run`` as a real process that a test starts, kills with SIGKILL and starts again over the same store."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp

from bot.config import Settings

QUESTIONS = (
    "How long does shipping take?",
    "我想退货，怎么操作？",
    "Do you ship to Hong Kong?",
    "有没有黑色的毛线帽？",
    "Can I pay with Alipay?",
    "退款多久到账？",
    "what sizes do the linen shirts come in",
    "你们几点上班？",
    "where is my order 100258",
    "运费多少钱？",
    "Can I return shoes I wore once?",
    "有优惠券吗",
    "How do I change my delivery address?",
    "衣服洗了会缩水吗",
    "What is your phone number?",
    "可以开发票吗？",
    "is the denim jacket in stock in M",
    "我要投诉",
    "Do you have gift cards?",
    "订单 100344 到哪了",
)
"""Shoppers' messages in both languages; each chat asks 15 of them, starting at its own place in the list."""


def script(chat: int, count: int) -> list[str]:
    """The messages chat number ``chat`` sends, in order (distinct within the chat)."""
    return [f"{QUESTIONS[(chat + n) % len(QUESTIONS)]}" for n in range(count)]


class KefuProcess:
    """``kefu run`` (or ``command``: ``worker``, ``run --role front``) in a child process with ``env`` over the
    settings' data dir; its output goes to ``log``."""

    def __init__(
        self, settings: Settings, store: Path | str, log: Path, *, command: Sequence[str] = ("run",), **env: str
    ) -> None:
        """``store``: an SQLite file, or a store URL (``redis://…``)."""
        self.command = list(command)
        self.env = {
            **os.environ,
            "KEFU_DATA_DIR": str(settings.data_dir),
            "KEFU_STORE__URL": store if isinstance(store, str) else f"sqlite:///{store}",
            "KEFU_PIPELINE__BATCH_MAX_SIZE": "1",  # the same message gets the same answer in every run
            **env,
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n===== start {self.starts} =====\n".encode())
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from bot.cli import main; main()", *self.command],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, *, timeout_s: float = 60.0) -> int:
        """SIGTERM, then wait for a clean exit; the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def wait_for(condition: Callable[[], bool], process: KefuProcess, *, timeout: float, what: str) -> None:
    """Wait until ``condition()`` holds; fail with the process's log when it dies or time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if not process.alive():
            raise AssertionError(f"kefu exited while waiting for {what}:\n{process.output()[-4000:]}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{process.output()[-4000:]}")
        await asyncio.sleep(0.05)


Probe = tuple[int, dict[str, object]]


async def probe(http: aiohttp.ClientSession, url: str) -> Probe | None:
    """The status and JSON body of ``url``; None while nothing listens there."""
    try:
        async with http.get(url) as response:
            return response.status, await response.json()
    except aiohttp.ClientConnectionError:
        return None


async def probe_until(
    http: aiohttp.ClientSession, url: str, kefu: KefuProcess, *, status: int | None = None, timeout: float = 180
) -> Probe:
    """Poll ``url`` until it answers (with ``status`` when given); fails with the log if kefu dies or time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = await probe(http, url)
        if got is not None and (status is None or got[0] == status):
            return got
        assert kefu.alive(), f"kefu exited:\n{kefu.output()[-4000:]}"
        assert asyncio.get_running_loop().time() < deadline, f"{url} still {got}:\n{kefu.output()[-4000:]}"
        await asyncio.sleep(0.1)
