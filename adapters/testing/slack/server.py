"""The loopback fake Slack: one aiohttp server on 127.0.0.1 for the Web API (``/api/<method>``), private file
downloads, ``response_url`` posts and the Socket Mode WebSocket, plus the control plane tests drive it with."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from adapters.testing.slack.directory import DirectoryMixin
from adapters.testing.slack.events import EventsMixin
from adapters.testing.slack.methods import MethodsMixin, SlackError
from adapters.testing.slack.records import ApiCall, Fault, SentMessage
from adapters.testing.slack.responses import ResponsesMixin
from adapters.testing.slack.socket_mode import SocketModeMixin
from adapters.testing.slack.users import FakeSlackUser
from adapters.testing.slack.views import ViewsMixin

log = logging.getLogger(__name__)
_LOGIN_PAGE = "<!DOCTYPE html><html><body>Sign in to Kefu Test</body></html>"


class FakeSlack(MethodsMixin, ViewsMixin, DirectoryMixin, ResponsesMixin, SocketModeMixin, EventsMixin):
    """A fake Slack for tests: the Web API the bot calls and the Events API requests Slack makes to the bot.

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
        fake.events_url = "http://127.0.0.1:8080/slack/events"
        await fake.user("U1001").mentions("C0GENERAL", "hello")
        [answer] = await fake.wait_for_messages("C0GENERAL", 1)
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-0000-fake-bot-token",
        signing_secret: str = "fake-signing-secret",
        app_token: str = "xapp-1-fake-app-token",
        team_id: str = "T0KEFU",
        bot_user_id: str = "UKEFUBOT",
        bot_id: str = "BKEFUBOT",
        api_app_id: str = "AKEFU",
    ) -> None:
        self.bot_token, self.signing_secret, self.app_token = bot_token, signing_secret, app_token
        self.team_id, self.bot_user_id, self.bot_id, self.api_app_id = team_id, bot_user_id, bot_id, api_app_id
        self.base_url = self.root_url = ""
        self.events_url: str | None = None
        """Where events, slash commands and button presses are posted (the app's ``/slack/events``)."""
        MethodsMixin.__init__(self)
        ViewsMixin.__init__(self)
        DirectoryMixin.__init__(self)
        EventsMixin.__init__(self)
        SocketModeMixin.__init__(self)
        self.calls: list[ApiCall] = []
        self.unimplemented: list[str] = []
        """Methods the app called that the fake does not implement (Slack would answer them; ``check()`` fails)."""
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._apps: list[web.AppRunner] = []
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, *, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Listen on ``host:port`` (0: a free port); ``base_url`` is then ``http://host:port/api/``."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/files-pri/{key}/{name}", self._download)
        app.router.add_post("/response/{key}", self.response_url_post)
        app.router.add_get("/socket", self.socket_connection)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0]
        self.root_url = f"http://{bound[0]}:{bound[1]}/"
        self.base_url = f"{self.root_url}api/"
        self._client = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        """Close Socket Mode connections, the client session and the server."""
        await self.close_sockets()
        for runner in self._apps:
            await runner.cleanup()
        self._apps.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # control plane -------------------------------------------------------------------------------

    def user(self, user_id: str, *, real_name: str | None = None, name: str | None = None) -> FakeSlackUser:
        """A workspace member (``U…``, added to ``members`` for ``users.info`` the first time) who can DM, mention,
        use slash commands and shortcuts, press buttons, fill in modals and react."""
        self.add_member(user_id, name=name, real_name=real_name)
        return FakeSlackUser(self, user_id)

    def check(self) -> None:
        """Fail (AssertionError) if the app called a method the fake does not implement: Slack would have
        answered it, so what the test saw is not what users would see."""
        if self.unimplemented:
            missing = ", ".join(sorted(set(self.unimplemented)))
            raise AssertionError(f"fake Slack: method(s) {missing} not implemented (the app got unknown_method)")

    def web_client(self, **options: Any) -> Any:
        """A slack_sdk ``AsyncWebClient`` with the bot token whose requests go to this fake (imports slack_sdk)."""
        from slack_sdk.web.async_client import AsyncWebClient

        return AsyncWebClient(token=self.bot_token, base_url=self.base_url, **options)

    async def serve(self, app: web.Application, *, path: str = "/slack/events") -> str:
        """Serve the app under test (e.g. bolt's ``AsyncApp.web_app()``) on a free loopback port until the fake
        stops; the URL of ``path`` on it, for ``events_url``."""
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._apps.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}{path}"

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: int = 1, error: str | None = None, times: int = 1
    ) -> None:
        """Fail the next ``times`` calls of ``method``: HTTP 429 with ``Retry-After`` (the default), another HTTP
        status, or ``ok: false`` with Slack's ``error`` code (``status=200, error="channel_not_found"``)."""
        for _ in range(times):
            self._faults[method].append(Fault(status, retry_after if status == 429 else None, error))

    def clear_faults(self, method: str) -> None:
        """Forget the failures still queued for ``method`` (``fail_next``): its next calls succeed."""
        self._faults[method].clear()

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def messages_in(self, channel: str, *, thread_ts: str | None = None) -> list[SentMessage]:
        """What the bot posted in ``channel`` (only in the thread ``thread_ts`` when given), in order."""
        return [m for m in self.messages if m.channel == channel and (thread_ts is None or m.thread_ts == thread_ts)]

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, re-checked after every request to the fake and every 20 ms."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.02))

    async def wait_for_messages(
        self, channel: str, count: int, *, thread_ts: str | None = None, timeout: float = 5.0
    ) -> list[SentMessage]:
        """Wait until the bot posted at least ``count`` messages in ``channel`` (``thread_ts``); return them all."""
        try:
            await self.wait_until(lambda: len(self.messages_in(channel, thread_ts=thread_ts)) >= count, timeout=timeout)
        except TimeoutError:
            got = [m.body for m in self.messages_in(channel, thread_ts=thread_ts)]
            raise TimeoutError(f"expected {count} messages in {channel} within {timeout} s, got {got}") from None
        return self.messages_in(channel, thread_ts=thread_ts)

    async def wait_quiet(self, quiet_s: float = 0.2, *, timeout: float = 10.0) -> None:
        """Wait until the bot has made no request to the fake for ``quiet_s`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            idle = time.monotonic() - max((c.at for c in self.calls), default=0.0)
            if idle >= quiet_s:
                return
            await asyncio.sleep(quiet_s - idle)
        raise TimeoutError(f"the bot kept calling the API for {timeout} s")

    # machinery ----------------------------------------------------------------------------------

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        wanted = self.app_token if method == "apps.connections.open" else self.bot_token
        offered = request.headers.get("Authorization", "").removeprefix("Bearer ") or params.get("token", "")
        fault = self._faults[method].popleft() if self._faults[method] else None
        if not offered:
            response, error = _error("not_authed"), "not_authed"
        elif offered != wanted:
            response, error = _error("invalid_auth"), "invalid_auth"
        elif fault is not None and fault.status == 429:
            response, error = (
                web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(fault.retry_after)}
                ),
                "ratelimited",
            )
        elif fault is not None and fault.error is None:
            response, error = web.json_response({"ok": False, "error": "fatal_error"}, status=fault.status), None
        elif fault is not None:
            response, error = _error(fault.error or "fatal_error"), fault.error
        elif method not in self.handlers:
            response, error = _error("unknown_method"), "unknown_method"
            self.unimplemented.append(method)
            log.warning("fake Slack: method %s is not implemented; answered unknown_method", method)
        else:
            try:
                response, error = web.json_response({"ok": True} | await self.handlers[method](params)), None
            except SlackError as failure:
                response, error = _error(failure.error), failure.error
        self.calls.append(ApiCall(method, params, time.monotonic(), response.status, error))
        self._pulse()
        return response

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """The file with Bearer auth; without it Slack answers 200 with its sign-in page, and so does the fake."""
        file_id = request.match_info["key"].rsplit("-", 1)[-1]
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return web.Response(text=_LOGIN_PAGE, content_type="text/html")
        data = self.file_bytes.get(file_id)
        if data is None:
            return web.Response(status=404, text="file not found")
        response = web.StreamResponse(headers={"Content-Type": self.files[file_id]["mimetype"]})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(data), 64 * 1024):
                part = data[start : start + 64 * 1024]
                await response.write(part)
                self.served[file_id] += len(part)
            await response.write_eof()
        except ConnectionError:  # the client stopped reading
            pass
        return response


async def _params(request: web.Request) -> dict[str, Any]:
    """Query string, then a form or JSON body, as Slack reads them (slack_sdk sends JSON for chat.*)."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body if isinstance(body, dict) else {})
        else:
            params.update(parse_qsl(await request.text()))
    for name in ("blocks", "view", "attachments", "metadata"):
        if isinstance(params.get(name), str):
            try:
                params[name] = json.loads(params[name])
            except ValueError:
                params[name] = None
    return params


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})
