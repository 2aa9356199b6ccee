"""The one aiohttp server: every adapter's routes (web chat ``/``, ``/telegram/webhook``, ``/slack/events``)
beside ``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.config import HttpSettings

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, object]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def refuse_deep_nesting(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A 400 (one warning line, no traceback) for a body nested too deeply to parse, on any adapter's route.

    ``json.loads`` raises ``RecursionError`` past about a thousand levels; an adapter that does not catch
    it would otherwise answer 500 and log a traceback as long as the attacker likes.
    """
    try:
        return await handler(request)
    except RecursionError:
        log.warning(
            "http: %s %s from %s refused: request nested too deeply", request.method, request.path, request.remote
        )
        return web.json_response({"ok": False, "error": "request nested too deeply"}, status=400)


def build_http_app(
    routes: Iterable[web.RouteDef],
    *,
    metrics: Metrics,
    health: HealthCheck,
    ready: HealthCheck | None = None,
    client_max_size: int = 32 * 1024**2,
) -> web.Application:
    """An application with the given routes plus the health, readiness and metrics endpoints; deep nesting is a 400.

    ``/healthz`` is 200 while ``health()`` says ``ok``; ``/readyz`` is 200 while ``ready()`` (default: ``health``)
    says ``ready``, else 503 with the same JSON saying what is not ready."""
    app = web.Application(client_max_size=client_max_size, middlewares=[refuse_deep_nesting])
    readiness = ready or health

    async def healthz(_: web.Request) -> web.Response:
        status = await health()
        return web.json_response(status, status=200 if status.get("ok") else 503)

    async def readyz(_: web.Request) -> web.Response:
        status = await readiness()
        return web.json_response(status, status=200 if status.get("ready", status.get("ok")) else 503)

    async def metrics_endpoint(_: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = metrics.content_type
        return response

    own = [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics_endpoint)]
    app.router.add_routes([*own, *routes])
    return app


class HttpServer:
    """Runs an application on host:port; port 0 picks a free port, read back from ``port`` after ``start``."""

    def __init__(self, app: web.Application, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self._runner.addresses:  # the port actually bound (``port`` may be 0)
            self.port = self._runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def http_server(
    routes: Iterable[web.RouteDef],
    address: HttpSettings,
    *,
    metrics: Metrics,
    health: HealthCheck,
    ready: HealthCheck | None = None,
) -> HttpServer:
    """A kefu process's one server on ``KEFU_HTTP__HOST:PORT``: ``routes`` beside ``/healthz``, ``/readyz`` and
    ``/metrics`` (``build_http_app``)."""
    app = build_http_app(routes, metrics=metrics, health=health, ready=ready)
    return HttpServer(app, host=address.host, port=address.port)
