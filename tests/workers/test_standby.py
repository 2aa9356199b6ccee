"""``kefu run --role front`` and ``kefu worker`` started with their Redis store down: alive (``/healthz`` 200), not
ready (``/readyz`` 503, saying why), one ``error:`` line each, trying the store again; once a ``redis-server`` starts
on that port both become ready and answer a Telegram message. SIGTERM while they wait ends them cleanly (exit 0)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from adapters.testing.telegram import FakeTelegram
from bot.config import Settings
from tests.conftest import require_tool
from tests.redis_server import RedisServer, free_port
from tests.reliability.processes import KefuProcess, probe_until, wait_for

pytestmark = pytest.mark.slow

ROLES = {"front": ("run", "--role", "front"), "worker": ("worker", "--name", "w-standby")}


def processes(settings: Settings, url: str, folder: Path, **env: str) -> dict[str, tuple[KefuProcess, str]]:
    """The front and a worker over ``url``, each with the base URL of its own HTTP port."""
    started = {}
    for role, command in ROLES.items():
        port = free_port()
        process = KefuProcess(settings, url, folder / f"{role}.log", command=command, KEFU_HTTP__PORT=str(port), **env)
        started[role] = (process, f"http://127.0.0.1:{port}")
    return started


async def test_the_front_and_a_worker_wait_for_redis_not_ready_then_serve_once_it_starts(
    fake_telegram: FakeTelegram, demo_components: object, demo_settings: Settings, tmp_path: Path
) -> None:
    redis = RedisServer(require_tool("redis-server"), tmp_path / "redis")  # its port is free: nothing listens yet
    roles = processes(
        demo_settings,
        redis.url,
        tmp_path,
        KEFU_TELEGRAM__TOKEN=fake_telegram.token,
        KEFU_TELEGRAM__API_BASE=fake_telegram.base_url,
    )
    try:
        for process, _ in roles.values():
            process.start()
        async with aiohttp.ClientSession() as http:
            for role, (process, base) in roles.items():
                await probe_until(http, base + "/readyz", process)
                await wait_for(lambda p=process: "trying again in" in p.output(), process, timeout=60, what="a retry")
                assert await probe_until(http, base + "/healthz", process) == (200, {"ok": True, "starting": True})
                status, body = await probe_until(http, base + "/readyz", process)
                assert status == 503 and body["ready"] is False and body["reason"] == "starting", (role, body)
                assert str(body["store"]).startswith(f"cannot reach the Redis store at {redis.url}"), body
                assert body.get("models") == ("not loaded" if role == "worker" else None), (role, body)
                output = process.output()
                assert output.count("error: cannot reach the Redis store") == 1, output
                assert "Traceback" not in output and process.alive()

            redis.start()
            for role, (process, base) in roles.items():
                status, body = await probe_until(http, base + "/readyz", process, status=200, timeout=240)
                assert body == {"ready": True, "role": role, "store": "answering"}, body
            fake_telegram.user(7301, language_code=None).says("How long does shipping take?")
            front = roles["front"][0]
            await wait_for(lambda: bool(fake_telegram.sent.get(7301)), front, timeout=120, what="the answer")
        await fake_telegram.wait_quiet(1.0, timeout=60)
        for role, (process, _) in roles.items():
            assert process.terminate() == 0, (role, process.output()[-3000:])
            assert "is running: http://127.0.0.1:" in process.output() and "Traceback" not in process.output()
        assert len(fake_telegram.sent[7301]) == 1
    finally:
        for process, _ in roles.values():
            if process.alive():
                process.kill()
        redis.stop()


async def test_sigterm_while_waiting_for_redis_stops_the_front_and_a_worker_cleanly(
    demo_settings: Settings, tmp_path: Path
) -> None:
    roles = processes(demo_settings, f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    try:
        for process, _ in roles.values():
            process.start()
        async with aiohttp.ClientSession() as http:
            for process, base in roles.values():
                assert (await probe_until(http, base + "/readyz", process))[0] == 503
        for role, (process, _) in roles.items():
            assert process.terminate(timeout_s=30) == 0, (role, process.output())
            assert "Traceback" not in process.output() and "is running" not in process.output()
    finally:
        for process, _ in roles.values():
            if process.alive():
                process.kill()
