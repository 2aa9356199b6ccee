"""Serve an adapter's HTTP routes the way kefu does, on a loopback port, for tests of webhook channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from adapters.base import Adapter
from bot.metrics import Metrics
from bot.server import build_http_app


@asynccontextmanager
async def serve_routes(adapter: Adapter, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Mount ``adapter.routes()`` on kefu's own HTTP application at ``host`` port 0; yields the base URL.

    The adapter is neither started nor stopped here: like ``kefu run``, mount first, then ``start`` it.
    """

    async def health() -> dict[str, object]:
        return {"ok": True, "channels": [adapter.name]}

    app = build_http_app(adapter.routes(), metrics=Metrics(), health=health)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, 0).start()
        bound_host, port = runner.addresses[0][:2]
        yield f"http://{bound_host}:{port}"
    finally:
        await runner.cleanup()
