"""``/ops``: the operators' dashboard on kefu's one server, behind ``KEFU_OPS__TOKEN``.

The token comes as ``Authorization: Bearer …`` or once as ``?token=…``, which sets an HttpOnly cookie (holding a
keyed digest of the token, not the token) and redirects to the same page without it. Every comparison is constant
time. The page, its script and the vendored uPlot are served from this package (no CDN); the figures come from
``/ops/data`` as JSON, masked questions only and no user ids.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.errors import ConfigError
from bot.insights.aggregate import Insights, Period, parse_period
from bot.insights.export import todo_csv

log = logging.getLogger(__name__)

COOKIE = "kefu_ops"
MIN_TOKEN = 12
_ASSETS = {
    "ops.js": "application/javascript",
    "ops.css": "text/css",
    "uPlot.iife.min.js": "application/javascript",
    "uPlot.min.css": "text/css",
}


def _asset(name: str) -> bytes:
    folder = resources.files("bot.insights") / "static"
    path = folder / "uplot" / name if name.startswith("uPlot") else folder / name
    return path.read_bytes()


class OpsPage:
    """The dashboard's routes; ``insights()`` gives the figures' source once the bot has opened its store (None
    before: 503)."""

    def __init__(self, *, token: str, insights: Callable[[], Insights | None], default_period: str = "7d") -> None:
        if len(token) < MIN_TOKEN:
            raise ConfigError(f"KEFU_OPS__TOKEN must be at least {MIN_TOKEN} characters")
        self._token = token.encode("utf-8")
        self._cookie = hmac.new(self._token, b"kefu-ops-cookie", hashlib.sha256).hexdigest()
        self._insights = insights
        self._default_period = default_period

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/ops", self._page),
            web.get("/ops/data", self._data),
            web.get("/ops/todo.csv", self._todo),
            web.get("/ops/static/{name}", self._static),
        ]

    def _allowed(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode("utf-8"), self._token):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie.encode("utf-8"), self._cookie.encode("utf-8"))

    def _refuse(self, request: web.Request) -> web.Response:
        log.warning("ops: %s %s from %s refused: no valid token", request.method, request.path, request.remote)
        return web.json_response(
            {"ok": False, "error": "a valid ops token is needed"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="kefu ops"'},
        )

    async def _page(self, request: web.Request) -> web.StreamResponse:
        given = request.query.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode("utf-8"), self._token):
                return self._refuse(request)
            query = {k: v for k, v in request.query.items() if k != "token"}
            response = web.Response(status=303, headers={"Location": str(request.rel_url.with_query(query))})
            response.set_cookie(COOKIE, self._cookie, httponly=True, samesite="Strict", path="/ops")
            return response
        if not self._allowed(request):
            return self._refuse(request)
        html = _asset("ops.html").decode("utf-8").replace("{{default_period}}", self._default_period)
        return web.Response(text=html, content_type="text/html", headers=_NO_STORE)

    async def _static(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            return self._refuse(request)
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound()
        return web.Response(body=_asset(name), content_type=_ASSETS[name])

    def _period(self, request: web.Request) -> Period:
        try:
            seconds = parse_period(request.query.get("period") or self._default_period)
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return Period.last(seconds, channel=request.query.get("channel") or None)

    async def _summary(self, request: web.Request) -> dict[str, Any]:
        period = self._period(request)
        insights = self._insights()
        if insights is None:
            raise web.HTTPServiceUnavailable(text="the bot is starting")
        return await insights.summary(period)

    async def _data(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            return self._refuse(request)
        return web.json_response(await self._summary(request), headers=_NO_STORE)

    async def _todo(self, request: web.Request) -> web.StreamResponse:
        if not self._allowed(request):
            return self._refuse(request)
        summary = await self._summary(request)
        return web.Response(
            text=todo_csv(summary["unanswered"]["groups"]),
            content_type="text/csv",
            headers={**_NO_STORE, "Content-Disposition": 'attachment; filename="todo.csv"'},
        )


_NO_STORE = {"Cache-Control": "no-store"}
