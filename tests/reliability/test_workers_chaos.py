"""Chaos suite for worker mode: 1 000 Telegram messages from 50 chats through a front and 3 ``kefu worker``
processes on Redis; a worker is killed with SIGKILL mid-stream and started again, twice. Each kill picks a worker
seen holding an unacknowledged entry (turns take milliseconds now, so a kill at a random moment often found its
worker idle and nothing to claim), and the worker starts again only after the claim timeout, so the others claim.

Each message asks for a different order number, and the answer names it ("order #700123"), so the fake
Telegram's record says which message each reply answers: every chat must get exactly one reply per message, in
the order of its messages. Message ids collide across chats as Telegram's do.
"""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path

import pytest

from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from tests.redis_server import RedisServer
from tests.reliability.processes import KefuProcess

pytestmark = pytest.mark.slow

CHATS = range(6001, 6051)
PER_CHAT = 20
ORDER = re.compile(r"#(\d{6})")
FAST_TAKEOVER = {"KEFU_WORKERS__LEASE_S": "3", "KEFU_WORKERS__CLAIM_AFTER_S": "4", "KEFU_WORKERS__DRAIN_TIMEOUT_S": "5"}
"""Short lease and claim times, so a killed worker's conversations move on within seconds."""


def order_number(chat: int, n: int) -> int:
    return 700000 + (chat - CHATS.start) * PER_CHAT + n


def question(chat: int, n: int) -> str:
    number = order_number(chat, n)
    return f"where is my order {number}" if (chat + n) % 2 else f"订单 {number} 到哪了"


def answered(fake: FakeTelegram, chat: int) -> list[int]:
    """The order number each reply in ``chat`` names, in arrival order (-1 for a reply that names none)."""
    found = [ORDER.search(message.text) for message in fake.sent.get(chat, [])]
    return [int(match.group(1)) if match else -1 for match in found]


def replies(fake: FakeTelegram) -> int:
    return sum(len(fake.sent.get(chat, [])) for chat in CHATS)


async def holding_entries(url: str, names: list[str], *, timeout: float = 20.0) -> str | None:
    """The first of the workers ``names`` seen holding an entry it has not acknowledged (None after ``timeout``): its
    SIGKILL leaves work for the others to claim. Turns take milliseconds, so a kill at a random moment often finds
    a worker idle."""
    import redis.asyncio as aioredis

    from bot.inbox.stream import GROUP

    client = aioredis.Redis.from_url(url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            summary = await client.xpending("kefu:stream:in", GROUP)
            for consumer in summary.get("consumers") or ():
                name = consumer["name"].decode() if isinstance(consumer["name"], bytes) else consumer["name"]
                if name in names and int(consumer["pending"]):
                    return str(name)
            await asyncio.sleep(0.002)
        return None
    finally:
        await client.aclose()


class Cluster:
    """The front and the workers as processes over one Redis store."""

    def __init__(self, fake: FakeTelegram, settings: Settings, url: str, folder: Path) -> None:
        env = {"KEFU_TELEGRAM__TOKEN": fake.token, "KEFU_TELEGRAM__API_BASE": fake.base_url, "KEFU_HTTP__PORT": "0"}
        self.front = KefuProcess(settings, url, folder / "front.log", command=("run", "--role", "front"), **env)
        self.workers = [
            KefuProcess(
                settings, url, folder / f"w{n}.log", command=("worker", "--name", f"w{n}"), **env, **FAST_TAKEOVER
            )
            for n in range(1, 4)
        ]

    @property
    def processes(self) -> list[KefuProcess]:
        return [self.front, *self.workers]

    def start(self) -> None:
        for process in self.processes:
            process.start()

    async def wait(self, condition: object, *, timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():  # type: ignore[operator]
            for process in self.processes:
                if not process.alive():
                    raise AssertionError(
                        f"{process.command} exited while waiting for {what}:\n{process.output()[-4000:]}"
                    )
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}:\n{self.logs()}")
            await asyncio.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(f"--- {p.command}\n{p.output()[-1500:]}" for p in self.processes)

    def stop(self) -> list[int]:
        codes = [process.terminate() for process in self.processes if process.alive()]
        return codes

    def kill_all(self) -> None:
        for process in self.processes:
            if process.alive():
                process.kill()


async def test_a_thousand_messages_through_three_workers_with_two_sigkills_each_answered_once_in_order(
    fake_telegram: FakeTelegram, demo_components: object, demo_settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    rng = random.Random(22)
    for chat in CHATS:
        fake_telegram._message_ids[chat] = 9000
    users = {chat: fake_telegram.user(chat, language_code=None) for chat in CHATS}
    queue = [(chat, n) for n in range(PER_CHAT) for chat in CHATS]
    cluster = Cluster(fake_telegram, demo_settings, redis_url, tmp_path)

    async def keep_writing() -> None:
        for chat, n in queue:
            users[chat].says(question(chat, n))
            await asyncio.sleep(rng.uniform(0.0, 0.02))

    writer: asyncio.Task[None] | None = None
    try:
        cluster.start()
        await cluster.wait(lambda: bool(fake_telegram.calls_to("getUpdates")), timeout=120, what="the front polling")
        writer = asyncio.create_task(keep_writing())
        by_name = {worker.command[-1]: worker for worker in cluster.workers}
        starts = dict.fromkeys(by_name, 1)
        left_pending = 0
        for round_, at in enumerate([250, 600], 1):
            await cluster.wait(lambda at=at: replies(fake_telegram) >= at, timeout=240, what=f"{at} replies")
            await asyncio.sleep(rng.uniform(0.0, 0.3))
            holder = await holding_entries(redis_url, list(by_name), timeout=5.0)
            name = holder or f"w{round_}"
            by_name[name].kill()
            left_pending += holder is not None
            print(f"chaos: SIGKILL {name} at {replies(fake_telegram)} replies (round {round_}, holding {bool(holder)})")
            await asyncio.sleep(float(FAST_TAKEOVER["KEFU_WORKERS__CLAIM_AFTER_S"]) + 2)  # the others claim first
            by_name[name].start()
            starts[name] += 1
        await writer
        await cluster.wait(
            lambda: all(len(fake_telegram.sent.get(chat, [])) >= PER_CHAT for chat in CHATS),
            timeout=300,
            what="every chat's answers",
        )
        await fake_telegram.wait_quiet(3.0, timeout=60)
        await cluster.wait(  # a worker started again late must be up before the clean stop is checked
            lambda: all(by_name[n].output().count("is answering the stream") >= starts[n] for n in by_name),
            timeout=120,
            what="the restarted workers",
        )
        assert cluster.stop() == [0, 0, 0, 0], cluster.logs()
    finally:
        if writer is not None:
            writer.cancel()
        cluster.kill_all()

    for chat in CHATS:
        assert answered(fake_telegram, chat) == [order_number(chat, n) for n in range(PER_CHAT)], chat
    assert replies(fake_telegram) == len(CHATS) * PER_CHAT
    outputs = [worker.output() for worker in cluster.workers]
    assert all("stopped after" in output for output in outputs), "every worker stopped cleanly at the end"
    assert left_pending >= 1, "a kill found its worker holding entries"
    assert any("claimed" in output for output in outputs), "a killed worker's entries were claimed"


async def test_redis_restarted_mid_run_loses_nothing_acknowledged_and_the_workers_carry_on(
    fake_telegram: FakeTelegram,
    demo_components: object,
    demo_settings: Settings,
    redis_server: RedisServer,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """The server restarts with its append-only file while 20 chats write: the front's polling, the workers' loops
    and the replies channel reconnect, and every message is still answered once, in order."""
    chats, per_chat = CHATS[:20], 10
    for chat in chats:
        fake_telegram._message_ids[chat] = 9000
    users = {chat: fake_telegram.user(chat, language_code=None) for chat in chats}
    cluster = Cluster(fake_telegram, demo_settings, redis_url, tmp_path)
    cluster.workers = cluster.workers[:2]
    try:
        cluster.start()
        await cluster.wait(lambda: bool(fake_telegram.calls_to("getUpdates")), timeout=120, what="the front polling")
        for n in range(per_chat):
            for chat in chats:
                users[chat].says(question(chat, n))
        await cluster.wait(lambda: replies(fake_telegram) >= 60, timeout=240, what="60 replies")
        redis_server.restart()
        print(f"redis restarted at {replies(fake_telegram)} replies")
        await cluster.wait(
            lambda: all(len(fake_telegram.sent.get(chat, [])) >= per_chat for chat in chats),
            timeout=240,
            what="every chat's answers",
        )
        await fake_telegram.wait_quiet(3.0, timeout=60)
        assert cluster.stop() == [0, 0, 0], cluster.logs()
    finally:
        cluster.kill_all()
    for chat in chats:
        assert answered(fake_telegram, chat) == [order_number(chat, n) for n in range(per_chat)], chat
