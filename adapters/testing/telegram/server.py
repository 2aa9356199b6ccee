"""The loopback fake Bot API server: HTTP front, bots by token, update queue (long polling or webhook), faults.

Owns one aiohttp server on 127.0.0.1 (port 0 by default) shared by every bot added with ``add_bot`` and, in
webhook mode, one client session that POSTs updates to the bot. ``stop`` wakes every waiting long poll, so
a test's teardown never waits out a polling timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from http import HTTPStatus
from typing import Any, Self

import aiohttp
from aiohttp import web

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.delivery import Delivery
from adapters.testing.telegram.methods import HANDLERS
from adapters.testing.telegram.methods.catalog import BOT_API_METHODS
from adapters.testing.telegram.methods.updates import NOT_BY_DEFAULT, UPDATE_KINDS, validate_update
from adapters.testing.telegram.records import ApiCall, Fault, WebhookDelivery
from adapters.testing.telegram.state import BotState
from adapters.testing.telegram.users import FakeUser
from adapters.testing.telegram.waiting import Waiting

log = logging.getLogger(__name__)
_CATALOG = frozenset(name.lower() for name in BOT_API_METHODS)


class FakeTelegram(BotState, Waiting, Delivery):
    """A fake Telegram Bot API for tests: serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

    async with FakeTelegram() as fake:
        bot = fake.aiogram_bot()
        fake.user(42).says("hello")
        [answer] = await fake.expect_reply(42)
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-fake-token",
        username: str = "kefu_test_bot",
        first_name: str = "Kefu Test",
        webhook_attempts: int = 3,
        strict_chats: bool = False,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '<digits>:<text>', got {token!r}")
        super().__init__()
        self.strict_chats = strict_chats
        self.token = token
        self.bot_user = {"id": int(bot_id), "is_bot": True, "first_name": first_name, "username": username}
        self.calls: list[ApiCall] = []
        self.unimplemented: list[str] = []
        """Methods the bot called that the fake does not implement (each answered 501)."""
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.allowed_updates: frozenset[str] | None = None
        """The last ``allowed_updates`` the bot gave (None: never given, Telegram's default set applies)."""
        self.dropped_updates: list[dict[str, Any]] = []
        """Updates not delivered because ``allowed_updates`` left their type out."""
        self.handed_out: list[int] = []
        """Ids of the updates given to the bot (by getUpdates or a webhook POST), in order, repeats included."""
        self.bots: dict[str, FakeTelegram] = {token: self}
        """Every bot on this fake's server by token (``add_bot``); shared by all of them."""
        self._webhook_attempts = webhook_attempts
        self._updates: list[dict[str, Any]] = []
        self._forced: list[dict[str, Any]] = []
        self._delivered: dict[int, dict[str, Any]] = {}
        self._next_update_id = 100_000
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._marks: dict[int, int] = {}
        self._taken_at = 0.0
        self._in_flight = 0
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._delivery: asyncio.Task[None] | None = None
        self.base_url = ""

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, *, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Listen on ``host:port`` (port 0: any free port); ``base_url`` then points at it."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}"
        self._client = aiohttp.ClientSession()
        return self

    def add_bot(self, token: str, *, username: str = "second_test_bot", first_name: str = "Second Bot") -> FakeTelegram:
        """Another bot on the same server (multibot setups): its own updates, chats and records."""
        if token in self.bots:
            raise ValueError(f"bot {token!r} is already on this fake")
        if not self.base_url:
            raise RuntimeError("start the fake before adding bots to it")
        other = FakeTelegram(
            token=token, username=username, first_name=first_name, webhook_attempts=self._webhook_attempts
        )
        other.bots, other.base_url, other._client = self.bots, self.base_url, self._client
        self.bots[token] = other
        return other

    async def stop(self) -> None:
        """Wake waiting long polls and hung faults, stop webhook delivery, close the server."""
        for bot in self.bots.values():
            bot._closing.set()
            bot._pulse()
            if bot._delivery is not None:
                bot._delivery.cancel()
                await asyncio.gather(bot._delivery, return_exceptions=True)
        if self._client is not None and self._runner is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # control plane -------------------------------------------------------------------------------

    def user(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        language_code: str | None = "en",
        first_name: str = "Shopper",
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """A user who writes in ``chat_id`` (a group when negative; then give ``user_id``). A private chat
        takes its user's name; later calls without a name get the same user."""
        known = self._chats.get(chat_id)
        if known is not None and first_name == "Shopper":
            first_name, last_name = known["first_name"], last_name or known.get("last_name")
            username = username or known.get("username")
        if chat_id < 0:
            self._groups.add(chat_id)
        else:
            self._chats[chat_id] = (
                p.chat(chat_id, first_name=first_name)
                | ({"last_name": last_name} if last_name else {})
                | ({"username": username} if username else {})
            )
        user = p.user(
            user_id or abs(chat_id),
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[user["id"]] = user
        return FakeUser(self, chat_id, user=user)

    def inject_update(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Queue an update ``{"update_id": …, kind: obj}`` for the bot and return it; with aiogram installed
        it is first checked against aiogram's ``Update`` (a malformed one raises ValueError, nothing queued)."""
        if kind not in UPDATE_KINDS:
            raise ValueError(f"unknown update type {kind!r}; Telegram's are {sorted(UPDATE_KINDS)}")
        update: dict[str, Any] = {"update_id": self._next_update_id + 1, kind: obj}
        validate_update(update)
        self._next_update_id += 1
        if kind in ("callback_query", "inline_query", "pre_checkout_query"):
            self.open_queries.add(str(obj["id"]))
        if "message" in update and isinstance(obj.get("chat"), dict) and "message_id" in obj:
            self._messages[(int(obj["chat"]["id"]), int(obj["message_id"]))] = obj
        self._mark(update)
        self._updates.append(update)
        self._pulse()
        return update

    def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update again, as Telegram does after a timeout or restart."""
        self._forced.append(self._delivered[update_id])
        self._pulse()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        times: int = 1,
        retry_after: int | None = None,
        hang_s: float | None = None,
    ) -> None:
        """Fail the next ``times`` calls of ``method``: 429 (``retry_after``), 5xx, 403 (bot blocked) or a hang.

        A hang holds the request ``hang_s`` seconds (the client times out), then answers 504 without doing it.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        for _ in range(times):
            self._faults[method.lower()].append(Fault(504 if hang_s else status, retry_after, hang_s))

    def clear_faults(self, method: str) -> None:
        """Forget the failures still queued for ``method`` (``fail_next``): its next calls succeed."""
        self._faults[method.lower()].clear()

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> int:
        return len(self.queued()) + len(self._forced)

    def aiogram_bot(self, **options: Any) -> Any:
        """An aiogram ``Bot`` whose requests go to this fake (imports aiogram; ``options`` go to ``Bot``)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        return Bot(self.token, session=AiohttpSession(api=TelegramAPIServer.from_base(self.base_url)), **options)

    # machinery ----------------------------------------------------------------------------------

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> bool:
        """Wait for any change (update, sent message, shutdown); False when ``timeout`` passed first."""
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def queued(self) -> list[dict[str, Any]]:
        """The queued updates the bot's ``allowed_updates`` let through; the others are dropped, as on Telegram."""
        allowed = self.allowed_updates or UPDATE_KINDS - NOT_BY_DEFAULT
        kept = [u for u in self._updates if next(k for k in u if k != "update_id") in allowed]
        if len(kept) != len(self._updates):
            self.dropped_updates += [u for u in self._updates if u not in kept]
            self._updates = kept
        return self._updates

    def confirm_below(self, offset: int) -> None:
        self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _take(self, limit: int) -> list[dict[str, Any]]:
        batch = (self._forced + self.queued())[:limit]
        self._forced = [u for u in self._forced if u not in batch]
        for update in batch:
            self._delivered[update["update_id"]] = update
            self.handed_out.append(update["update_id"])
        if batch:
            self._taken_at = time.monotonic()
        return batch

    async def _api(self, request: web.Request) -> web.StreamResponse:
        bot = self.bots.get(request.match_info["token"])
        if bot is None:
            return p.error(401, "Unauthorized")
        try:
            params, files = await p.read_params(request)
        except p.BadRequest as exc:
            log.info("fake Telegram refused %s: Bad Request: %s", request.match_info["method"], exc)
            return p.error(400, f"Bad Request: {exc}")
        return await bot._call(request.match_info["method"], params, files)

    async def _call(
        self, method: str, params: dict[str, Any], files: dict[str, p.Upload], *, via: str = "http"
    ) -> web.Response:
        fault = self._faults[method.lower()].popleft() if self._faults[method.lower()] else None
        response = await self._answer(method, params, files, fault)
        self.calls.append(ApiCall(method, params, time.monotonic(), response.status, via))
        self._pulse()
        return response

    async def _answer(
        self, method: str, params: dict[str, Any], files: dict[str, p.Upload], fault: Fault | None
    ) -> web.Response:
        if fault is not None:
            if fault.hang_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.hang_s)
                return p.error(504, "Gateway Timeout")
            if fault.status == 429:
                return p.error(
                    429, f"Too Many Requests: retry after {fault.retry_after}", retry_after=fault.retry_after
                )
            blocked = "Forbidden: bot was blocked by the user"
            return p.error(fault.status, blocked if fault.status == 403 else HTTPStatus(fault.status).phrase)
        handler = HANDLERS.get(method.lower())
        if handler is None and method.lower() not in _CATALOG:
            return p.error(404, "Not Found")
        if handler is None:
            self.unimplemented.append(method)
            log.error("fake Telegram: method %s is not implemented", method)
            return p.error(501, f"fake Telegram: method {method} is not implemented")
        try:
            return p.ok(await handler(self, params, files))
        except p.BadRequest as exc:
            log.info("fake Telegram refused %s: %s: %s", method, exc.prefix, exc)
            return p.error(exc.status, f"{exc.prefix}: {exc}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        bot = self.bots.get(request.match_info["token"])
        if bot is None:
            return p.error(401, "Unauthorized")
        path = request.match_info["path"]
        if path in bot.streamed_sizes:
            return await bot._stream_file(request, path)
        data = bot.files_by_path.get(path)
        if data is None:
            return p.error(404, "Not Found")
        return web.Response(body=data, content_type="application/octet-stream")
