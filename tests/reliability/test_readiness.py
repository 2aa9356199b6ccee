"""``kefu run`` with its Redis store down at start: alive (``/healthz`` 200) and not ready (``/readyz`` 503, saying
why), trying the store again until it answers; then ready, answering, and stopped cleanly by SIGTERM."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from tests.conftest import require_tool
from tests.redis_server import RedisServer, free_port
from tests.reliability.processes import KefuProcess, probe_until, wait_for

pytestmark = pytest.mark.slow


async def test_redis_down_at_start_is_a_clear_error_and_a_non_ready_process_not_a_crash_loop(
    fake_telegram: FakeTelegram, demo_components: object, demo_settings: Settings, tmp_path: Path
) -> None:
    redis = RedisServer(require_tool("redis-server"), tmp_path / "redis")
    port = free_port()
    kefu = KefuProcess(
        demo_settings,
        redis.url,
        tmp_path / "kefu.log",
        KEFU_TELEGRAM__TOKEN=fake_telegram.token,
        KEFU_TELEGRAM__API_BASE=fake_telegram.base_url,
        KEFU_HTTP__PORT=str(port),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        kefu.start()
        async with aiohttp.ClientSession() as http:
            await probe_until(http, base + "/readyz", kefu)
            await asyncio.sleep(2.5)  # a few tries of the store: the process must still be alive and not ready
            assert await probe_until(http, base + "/healthz", kefu) == (200, {"ok": True, "starting": True})
            status, body = await probe_until(http, base + "/readyz", kefu)
            assert status == 503 and body["ready"] is False and body["models"] == "not loaded"
            assert str(body["store"]).startswith(f"cannot reach the Redis store at {redis.url}")
            output = kefu.output()
            assert output.count("error: cannot reach the Redis store") == 1, output
            assert "trying again in" in output and "Traceback" not in output

            redis.start()
            ready = await probe_until(http, base + "/readyz", kefu, status=200)
            assert ready == (200, {"ready": True, "models": "loaded", "store": "answering"})
            fake_telegram.user(7001, language_code=None).says("How long does shipping take?")
            await wait_for(lambda: bool(fake_telegram.sent.get(7001)), kefu, timeout=120, what="the answer")
            assert "Traceback" not in kefu.output()
        assert kefu.terminate() == 0, kefu.output()[-3000:]
        assert [m.text for m in fake_telegram.sent[7001]] and len(fake_telegram.sent[7001]) == 1
    finally:
        if kefu.alive():
            kefu.kill()
        redis.stop()


async def test_sigterm_while_waiting_for_the_store_stops_cleanly(demo_settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    kefu = KefuProcess(
        demo_settings, f"redis://127.0.0.1:{free_port()}/0", tmp_path / "kefu.log", KEFU_HTTP__PORT=str(port)
    )
    kefu.start()
    try:
        async with aiohttp.ClientSession() as http:
            assert (await probe_until(http, f"http://127.0.0.1:{port}/readyz", kefu))[0] == 503
        assert kefu.terminate(timeout_s=30) == 0, kefu.output()
        assert "Traceback" not in kefu.output()
    finally:
        if kefu.alive():
            kefu.kill()


async def test_sigterm_mid_stream_answers_what_it_holds_and_the_restart_answers_the_rest_once(
    fake_telegram: FakeTelegram, demo_components: object, demo_settings: Settings, tmp_path: Path
) -> None:
    """Graceful stop: SIGTERM while 30 chats are waiting exits 0, with every message either answered before the stop
    or kept and answered after the next start, and none answered twice."""
    chats = range(7101, 7131)
    kefu = KefuProcess(
        demo_settings,
        tmp_path / "store.sqlite3",
        tmp_path / "kefu.log",
        KEFU_TELEGRAM__TOKEN=fake_telegram.token,
        KEFU_TELEGRAM__API_BASE=fake_telegram.base_url,
        KEFU_HTTP__PORT="0",
    )

    def answered() -> int:
        return sum(1 for chat in chats if fake_telegram.sent.get(chat))

    try:
        kefu.start()
        for chat in chats:
            fake_telegram.user(chat, language_code=None).says("How long does shipping take?")
        await wait_for(lambda: answered() >= 1, kefu, timeout=240, what="a first answer")
        # in a thread: the fake Telegram lives on this loop and must keep serving while kefu drains
        assert await asyncio.to_thread(kefu.terminate) == 0, kefu.output()[-3000:]
        before = answered()
        assert "stopping: answering what is queued" in kefu.output()
        kefu.start()
        # serving again, so it took up what the first run kept (all may have been answered before the stop)
        await wait_for(lambda: kefu.output().count(" is running: ") == 2, kefu, timeout=240, what="the restart")
        await wait_for(lambda: answered() == len(chats), kefu, timeout=240, what="every answer")
        await fake_telegram.wait_quiet(1.0, timeout=60)
        assert kefu.terminate() == 0, kefu.output()[-3000:]
    finally:
        if kefu.alive():
            kefu.kill()
    assert all(len(fake_telegram.sent[chat]) == 1 for chat in chats), {c: len(fake_telegram.sent[c]) for c in chats}
    print(f"SIGTERM: {before} of {len(chats)} chats answered before the stop, the rest after the restart")
    assert "Traceback" not in kefu.output()
