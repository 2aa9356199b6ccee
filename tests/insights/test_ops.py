"""``/ops`` over a real aiohttp server: refused without the token (header, query, cookie), served with it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.insights.aggregate import SqliteInsights
from bot.insights.ops import COOKIE, OpsPage
from bot.metrics import Metrics
from bot.server import HttpServer, build_http_app
from tests.insights.conftest import Store, write_facts

TOKEN = "s3cret-ops-token-for-tests"


async def _health() -> dict[str, object]:
    return {"ok": True}


async def serve_ops(insights: Callable[[], SqliteInsights | None]) -> HttpServer:
    page = OpsPage(token=TOKEN, insights=insights, default_period="90d")
    server = HttpServer(build_http_app(page.routes(), metrics=Metrics(), health=_health), host="127.0.0.1", port=0)
    await server.start()
    return server


@pytest.fixture
async def ops(store: Store) -> AsyncIterator[str]:
    await write_facts(store, count=80, seed=4, days=30, now=time.time())
    server = await serve_ops(lambda: SqliteInsights(store.db))
    yield server.url
    await server.stop()


@pytest.mark.parametrize(
    "path", ["/ops", "/ops/data", "/ops/todo.csv", "/ops/static/ops.js", "/ops/static/uPlot.iife.min.js"]
)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-of-length"},
        {"Authorization": TOKEN},
        {"Cookie": f"{COOKIE}={TOKEN}"},
        {"Cookie": f"{COOKIE}=forged"},
    ],
)
async def test_refused_without_the_token(ops: str, path: str, headers: dict[str, str], caplog) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(ops + path, headers=headers, allow_redirects=False) as response,
    ):
        assert response.status == 401
        assert TOKEN not in await response.text()
    assert "refused: no valid token" in caplog.text


async def test_a_wrong_query_token_sets_no_cookie(ops: str) -> None:
    async with aiohttp.ClientSession() as client, client.get(ops + "/ops?token=nope", allow_redirects=False) as r:
        assert r.status == 401
        assert COOKIE not in r.cookies


async def test_bearer_token_gets_the_page_data_and_assets(ops: str) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=bearer) as client:
        async with client.get(ops + "/ops") as page:
            assert page.status == 200
            html = await page.text()
            assert "/ops/static/uPlot.iife.min.js" in html and "//cdn" not in html and "https://" not in html
        async with client.get(ops + "/ops/static/uPlot.iife.min.js") as script:
            assert script.status == 200 and "uPlot" in await script.text()
        async with client.get(ops + "/ops/static/../facts.py") as escape:
            assert escape.status in (401, 404)
        async with client.get(ops + "/ops/data?period=90d&channel=web") as data:
            summary = await data.json()
        assert summary["period"]["channel"] == "web" and summary["totals"]["turns"] > 0
        text = str(summary)
        assert "user-" not in text and "web:c" not in text and "13912345678" not in text  # no ids, masked words
        async with client.get(ops + "/ops/data?period=soon") as bad:
            assert bad.status == 400 and "hours, days or weeks" in await bad.text()
        async with client.get(ops + "/ops/todo.csv?period=90d") as todo:
            assert todo.status == 200
            assert (await todo.text()).splitlines()[0] == "question,answer,count,examples"


async def test_the_query_token_becomes_an_httponly_cookie_and_leaves_the_url(ops: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:  # unsafe: an IP host
        async with client.get(ops + f"/ops?token={TOKEN}&period=7d", allow_redirects=False) as first:
            assert first.status == 303
            assert "token" not in first.headers["Location"] and "period=7d" in first.headers["Location"]
            cookie = first.cookies[COOKIE]
            assert cookie["httponly"] and cookie["path"] == "/ops" and TOKEN not in cookie.value
        async with client.get(ops + "/ops/data") as data:  # the cookie jar sends it back
            assert data.status == 200


async def test_before_the_store_is_open_the_data_is_503(tmp_path: Path) -> None:
    server = await serve_ops(lambda: None)
    try:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=bearer) as client, client.get(server.url + "/ops/data") as data:
            assert data.status == 503
    finally:
        await server.stop()


@pytest.mark.parametrize("token", ["", "short"])
def test_a_short_token_is_a_configuration_error(token: str) -> None:
    with pytest.raises(ConfigError, match="at least 12 characters"):
        OpsPage(token=token, insights=lambda: None)


def test_the_token_is_refused_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "kefu.toml"
    config.write_text('[ops]\ntoken = "s3cret-ops-token-for-tests"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="KEFU_OPS__TOKEN"):
        load_settings(config)


def test_the_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_OPS__TOKEN", TOKEN)
    settings = load_settings()
    assert settings.ops.token is not None and settings.ops.token.get_secret_value() == TOKEN
