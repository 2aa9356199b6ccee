"""The shared HTTP server: a route that parses a hostile JSON body does not become a 500 with a traceback."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web

from bot.metrics import Metrics
from bot.server import HttpServer, build_http_app


async def _ok() -> dict[str, object]:
    return {"ok": True}


async def _events(request: web.Request) -> web.Response:
    """An adapter route that parses its body as JSON without guarding against deep nesting."""
    event = await request.json()
    return web.json_response({"ok": True, "type": event.get("type")})


async def test_any_route_given_json_nested_too_deeply_answers_400_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    server = HttpServer(
        build_http_app([web.post("/slack/events", _events)], metrics=Metrics(), health=_ok), host="127.0.0.1", port=0
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            deep = "[" * 100_000 + "]" * 100_000
            async with http.post(f"{server.url}/slack/events", data=deep) as response:
                assert response.status == 400
                assert await response.json() == {"ok": False, "error": "request nested too deeply"}
            async with http.post(f"{server.url}/slack/events", json={"type": "event_callback"}) as response:
                assert await response.json() == {"ok": True, "type": "event_callback"}
    finally:
        await server.stop()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == "http: POST /slack/events from 127.0.0.1 refused: request nested too deeply"
