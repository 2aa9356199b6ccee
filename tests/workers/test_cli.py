"""``kefu worker`` and ``kefu run --role front`` refuse what they cannot run on, in one ``error:`` line, before any
model loads (Redis down at start is not refused: ``test_standby.py``); ``kefu bench load`` refuses a database that is
not empty."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import redis

from tests.conftest import wait_until
from tests.dialogue.test_cli import kefu
from tests.redis_server import free_port


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KEFU_DATA_DIR", str(tmp_path))
    return tmp_path


def test_worker_mode_on_the_sqlite_store_is_a_configuration_error(data_dir: Path) -> None:
    code, out = kefu("worker")
    assert code == 2 and out.startswith("error: kefu worker needs a Redis store") and "KEFU_STORE__URL" in out
    code, out = kefu("run", "--role", "front")
    assert code == 2 and out.startswith("error: kefu run --role front needs a Redis store")
    assert not (data_dir / "kb").exists()


def test_worker_mode_on_a_malformed_redis_url_is_a_configuration_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The standby waits for a Redis that does not answer, never for a URL that cannot name one."""
    monkeypatch.setenv("KEFU_STORE__URL", "redis://127.0.0.1:notaport/0")
    monkeypatch.setenv("KEFU_HTTP__PORT", "0")
    for command in (["worker"], ["run", "--role", "front"]):
        code, out = kefu(*command)
        assert code == 2 and out.startswith("error: store URL") and "KEFU_STORE__URL" in out, (command, out)
        assert "Traceback" not in out
    assert not (data_dir / "kb").exists()


def test_a_port_in_use_is_one_clear_error(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("KEFU_STORE__URL", f"redis://127.0.0.1:{free_port()}/0")
        monkeypatch.setenv("KEFU_HTTP__PORT", str(port))
        for command in (["worker"], ["run", "--role", "front"]):
            code, out = kefu(*command)
            assert code == 1 and out.startswith(f"error: cannot listen on http://127.0.0.1:{port}"), (command, out)
            assert "KEFU_HTTP__PORT" in out and "Traceback" not in out


def test_an_unknown_role_is_a_usage_error(data_dir: Path) -> None:
    code, out = kefu("run", "--role", "worker")
    assert code == 2 and "--role takes all or front" in out


def test_bench_load_refuses_a_database_in_use_and_bad_counts(
    redis_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEFU_STORE__URL", redis_url)
    code, out = kefu("bench", "load", "--workers", "1,x")
    assert code == 2 and "--workers takes counts" in out
    code, out = kefu("bench", "load", "--workers", "0")
    assert code == 2 and "positive" in out
    redis.Redis.from_url(redis_url).set("someone-else", "1")
    from bot.cli.load_bench import check_empty
    from bot.config import load_settings
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="is not empty"):
        asyncio.run(check_empty(load_settings()))


BUSY = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ninput()"
"""A child that spends 0.3 s of CPU, then waits for a line."""


def test_bench_load_counts_each_roles_cpu_per_message(redis_url: str, tmp_path: Path) -> None:
    from bot.cli.load_bench import _cpu_of, _local_redis_pid, cpu_per_message
    from bot.config import load_settings

    busy = subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.PIPE)
    try:
        wait_until(lambda: _cpu_of([busy.pid]) >= 0.3, timeout=30)
        assert _cpu_of([busy.pid, 2**22 + 7]) >= 0.3, "a process that is gone counts nothing"
    finally:
        busy.communicate(b"\n", timeout=30)
    assert cpu_per_message({"workers": 1.0, "front": 0.5}, {"workers": 3.0, "front": 0.6}, 100) == {
        "workers": 20.0,
        "front": 1.0,
    }
    pid = asyncio.run(_local_redis_pid(load_settings(data_dir=tmp_path, store={"url": redis_url})))
    assert pid is not None and psutil.Process(pid).name().startswith("redis"), "the test's own redis-server is local"


async def test_the_front_is_ready_once_its_channels_are_live_and_while_redis_answers(
    redis_server, redis_url: str, tmp_path: Path
) -> None:
    import aiohttp

    from bot.app.roles import KefuFront
    from bot.config import load_settings

    settings = load_settings(data_dir=tmp_path, store={"url": redis_url}, http={"port": 0})
    front = KefuFront(settings)
    assert (await front.ready())["reason"] == "starting the channels"
    await front.start()
    try:
        assert front.http is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{front.http.url}/readyz") as response:
                assert response.status == 200 and (await response.json())["store"] == "answering"
            redis_server.stop()
            async with http.get(f"{front.http.url}/readyz") as response:
                body = await response.json()
                assert response.status == 503 and body["ready"] is False and body["store"] != "answering"
            redis_server.start()
            async with http.get(f"{front.http.url}/readyz") as response:
                assert response.status == 200
    finally:
        await front.stop()
