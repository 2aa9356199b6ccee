"""``kefu bench load``: messages/s and end-to-end latency of worker mode with 1, 2, 3… workers, in one run.

Each round starts a front (``kefu run --role front``) and N ``kefu worker`` processes on the configured Redis store,
against a fake Telegram in this process. Shoppers write like people do: each chat sends its next message when
the last one was answered, all chats at once. End to end is from the update's arrival at the fake Telegram to the
reply's. The bot-wide send limit is lifted to 1 000 messages/s (``KEFU_TELEGRAM__MESSAGES_PER_SECOND``), else
Telegram's free 30/s caps every round alike; the per-chat pace (a message a second) stays, so there must be many
more chats than a round answers in a second. The store must be an empty Redis database (it is emptied between
rounds); nothing else may use it. Each round also reports the CPU time each process spent per message (workers,
front, this process with the fake Telegram and its shoppers, a local Redis): what the machine's cores allow at most.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from bot.config import Settings
from bot.errors import ConfigError, KefuError
from bot.inbox.stream import StreamInbox
from bot.sessions.redis import RedisConnection

if TYPE_CHECKING:
    from adapters.testing.telegram import FakeTelegram

QUESTIONS = (
    "How long does delivery take?",
    "退货要怎么办理？",
    "Can I pay by credit card?",
    "你们有实体店吗？",
    "Do you ship overseas?",
    "什么时候发货？",
    "How do I return an item?",
    "可以换尺码吗？",
)
"""What the shoppers ask, in turn (both languages, as the demo shop's customers write)."""

SHOPPER_POLL_S = 0.05
"""How often a waiting shopper looks for its reply."""

START_TIMEOUT_S = 600.0
"""How long a round waits for its processes to load their models and join (a guard against a hang)."""


class LoadBenchError(KefuError):
    """The benchmark cannot run (not an empty Redis database) or a process died."""


async def check_empty(settings: Settings) -> None:
    """Refuse anything but an empty Redis database: the benchmark empties it between rounds."""
    if not settings.store_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "kefu bench load needs a Redis store: KEFU_STORE__URL=redis://host:port/db (an empty database)"
        )
    connection = await RedisConnection.open(settings.store_url)
    try:
        if await connection.client.dbsize():
            raise ConfigError(
                f"{connection.safe_url} is not empty; kefu bench load empties its database between rounds, so point"
                " KEFU_STORE__URL at an unused one (redis://host:6379/15)"
            )
    finally:
        await connection.close()


class Round:
    """One front and ``workers`` worker processes against ``fake``, logging under ``folder``."""

    def __init__(self, settings: Settings, fake: FakeTelegram, *, workers: int, folder: Path, config: Path | None):
        self.env = {
            **os.environ,
            "KEFU_DATA_DIR": str(settings.data_dir),
            "KEFU_STORE__URL": settings.store_url,
            "KEFU_TELEGRAM__TOKEN": fake.token,
            "KEFU_TELEGRAM__API_BASE": fake.base_url,
            "KEFU_HTTP__PORT": "0",
            # Telegram's free 30 messages/s would cap every round alike: the workers are what is measured
            "KEFU_TELEGRAM__MESSAGES_PER_SECOND": "1000",
        }
        extra = ["--config", str(config)] if config else []
        self.commands = [["run", "--role", "front", *extra]] + [
            ["worker", "--name", f"bench-{n}", *extra] for n in range(1, workers + 1)
        ]
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for n, command in enumerate(self.commands):
            with (self.folder / f"process-{n}.log").open("ab") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", "from bot.cli import main; main()", *command],
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def cpu_seconds(self, redis_pid: int | None) -> dict[str, float]:
        """CPU seconds (user + system) spent so far by each role's processes; a process gone counts 0."""
        return {
            "workers": _cpu_of([p.pid for p in self.processes[1:]]),
            "front": _cpu_of([self.processes[0].pid]),
            "bench": _cpu_of([os.getpid()]),
            "redis": _cpu_of([redis_pid]) if redis_pid else 0.0,
        }

    def check(self) -> None:
        for process, command in zip(self.processes, self.commands, strict=True):
            if process.poll() is not None:
                raise LoadBenchError(f"`kefu {' '.join(command)}` exited (logs in {self.folder})")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _cpu_of(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def _local_redis_pid(settings: Settings) -> int | None:
    """The Redis server's process id when it runs on this machine (its CPU is part of what a round costs)."""
    connection = await RedisConnection.open(settings.store_url)
    try:
        pid = int((await connection.client.info("server")).get("process_id") or 0)
    finally:
        await connection.close()
    try:
        return pid if pid and "redis" in psutil.Process(pid).name() else None
    except psutil.Error:
        return None


def cpu_per_message(before: dict[str, float], after: dict[str, float], messages: int) -> dict[str, float]:
    """Milliseconds of CPU per message by role, between two ``Round.cpu_seconds`` readings."""
    return {role: round((after[role] - before[role]) * 1000 / max(1, messages), 2) for role in before}


async def _until(condition: Any, bench: Round, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        bench.check()
        if time.monotonic() > deadline:
            raise LoadBenchError(f"timed out waiting for {what} (logs in {bench.folder})")
        await asyncio.sleep(0.01)


async def _consumers(settings: Settings) -> int:
    """How many workers have joined the stream's group."""
    stream = StreamInbox(await RedisConnection.open(settings.store_url))
    try:
        return len(await stream.consumers())
    finally:
        await stream.close()


async def _converse(fake: FakeTelegram, chats: Sequence[int], per_chat: int, bench: Round) -> list[float]:
    """Each chat asks ``per_chat`` questions, one after the other; the seconds from each update to its reply.

    Each shopper looks for its reply every ``SHOPPER_POLL_S`` (the latency is the fake's send time, so this does not
    blur it) and one watchdog checks the processes: 200 shoppers checking the processes every 10 ms cost the bench
    as much CPU per message as the front, and waking all of them at every send cost more."""
    latencies: list[float] = []

    async def shopper(chat: int) -> None:
        user = fake.user(chat, language_code=None)
        for n in range(per_chat):
            answered = len(fake.sent.get(chat, []))
            user.says(QUESTIONS[(chat + n) % len(QUESTIONS)])
            asked = time.monotonic()

            give_up = time.monotonic() + START_TIMEOUT_S
            while len(fake.sent.get(chat, [])) <= answered:
                if time.monotonic() > give_up:
                    raise LoadBenchError(f"timed out waiting for a reply (logs in {bench.folder})")
                await asyncio.sleep(SHOPPER_POLL_S)
            latencies.append(fake.sent[chat][answered].at - asked)

    shoppers: asyncio.Future[Any] = asyncio.gather(*(shopper(chat) for chat in chats))
    watchdog: asyncio.Future[Any] = asyncio.create_task(_watch(bench))
    try:
        await asyncio.wait([shoppers, watchdog], return_when=asyncio.FIRST_COMPLETED)
        if watchdog.done():
            shoppers.cancel()
            watchdog.result()  # raises: a process died
        await shoppers
    finally:
        watchdog.cancel()
    return latencies


async def _watch(bench: Round) -> None:
    """Raise ``LoadBenchError`` as soon as one of the round's processes exits."""
    while True:
        bench.check()
        await asyncio.sleep(0.5)


async def one_round(
    settings: Settings, *, workers: int, chats: int, per_chat: int, config: Path | None, folder: Path
) -> dict[str, Any]:
    from adapters.testing.telegram import FakeTelegram

    connection = await RedisConnection.open(settings.store_url)
    try:
        await connection.client.flushdb()
    finally:
        await connection.close()
    redis_pid = await _local_redis_pid(settings)
    async with FakeTelegram() as fake:
        bench = Round(settings, fake, workers=workers, folder=folder, config=config)
        bench.start()
        try:
            await _until(lambda: bool(fake.calls_to("getUpdates")), bench, timeout=START_TIMEOUT_S, what="the front")
            deadline = time.monotonic() + START_TIMEOUT_S
            while await _consumers(settings) < workers:
                bench.check()
                if time.monotonic() > deadline:
                    raise LoadBenchError(f"timed out waiting for {workers} workers (logs in {folder})")
                await asyncio.sleep(0.2)
            await _converse(fake, range(1, 2 * workers + 1), 2, bench)  # warm-up: every worker's first turns
            cpu_before = bench.cpu_seconds(redis_pid)
            started = time.monotonic()
            latencies = await _converse(fake, range(1001, 1001 + chats), per_chat, bench)
            elapsed = time.monotonic() - started
            cpu = cpu_per_message(cpu_before, bench.cpu_seconds(redis_pid), len(latencies))
        finally:
            bench.stop()
    latencies.sort()
    cpus = os.cpu_count() or 1
    return {
        "workers": workers,
        "messages": len(latencies),
        "seconds": round(elapsed, 2),
        "messages_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[max(0, round(0.95 * len(latencies)) - 1)] * 1000, 1),
        "cpu_ms_per_message": cpu,
        "cpu_ceiling_messages_per_s": round(cpus * 1000 / sum(cpu.values()), 1) if sum(cpu.values()) else None,
    }


async def bench_load(
    settings: Settings, *, workers: Sequence[int], chats: int, per_chat: int, config: Path | None = None
) -> dict[str, Any]:
    """Every round in ``workers`` (1, 2, 3), then each round's speed-up over the first."""
    await check_empty(settings)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="kefu-bench-load-") as folder:
        for count in workers:
            rounds.append(
                await one_round(
                    settings, workers=count, chats=chats, per_chat=per_chat, config=config, folder=Path(folder)
                )
            )
    base = rounds[0]["messages_per_s"]
    for measured in rounds:
        measured["speedup"] = round(measured["messages_per_s"] / base, 2) if base else None
    connection = await RedisConnection.open(settings.store_url)
    try:
        await connection.client.flushdb()
    finally:
        await connection.close()
    return {"rounds": rounds, "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def render_load_report(report: dict[str, Any]) -> list[str]:
    lines = [f"{'workers':>7}  {'messages':>8}  {'msg/s':>7}  {'p50 ms':>8}  {'p95 ms':>8}  {'speed-up':>8}"]
    for r in report["rounds"]:
        lines.append(
            f"{r['workers']:>7}  {r['messages']:>8}  {r['messages_per_s']:>7}  {r['p50_ms']:>8}  {r['p95_ms']:>8}"
            f"  {r['speedup']:>7}x"
        )
    names = {"workers": "workers", "front": "front", "bench": "fake Telegram and shoppers", "redis": "Redis"}
    for r in report["rounds"]:
        spent = ", ".join(f"{names[role]} {ms:g} ms" for role, ms in r["cpu_ms_per_message"].items())
        lines.append(
            f"{r['workers']} worker(s): CPU per message: {spent}; at most {r['cpu_ceiling_messages_per_s']} "
            f"messages/s on {report['cpus']} CPUs"
        )
    load = " ".join(str(x) for x in report["load_average"])
    lines.append(f"{report['cpus']} CPUs; load average before the last round ended: {load}")
    return lines
