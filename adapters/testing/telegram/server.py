"""The loopback fake Bot API server: HTTP front, update queue (long polling or webhook), faults, records.

Owns one aiohttp server on 127.0.0.1 (port 0 by default) and, in webhook mode, one client session that
POSTs updates to the bot. ``stop`` wakes every waiting long poll, so a test's teardown never waits out a
polling timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Self

import aiohttp
from aiohttp import web

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods import MethodsMixin
from adapters.testing.telegram.records import ApiCall, Fault, WebhookDelivery
from adapters.testing.telegram.users import FakeUser

log = logging.getLogger(__name__)


class FakeTelegram(MethodsMixin):
    """A fake Telegram Bot API for tests: serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

        async with FakeTelegram() as fake:
            bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
            fake.user(42).says("hello")
            [answer] = await fake.wait_for_messages(42, 1)
    """

    def __init__(self, *, token: str = "123456:TEST-fake-token", username: str = "kefu_test_bot",
                 webhook_attempts: int = 3) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"a bot token looks like '<digits>:<text>', got {token!r}")
        super().__init__()
        self.token = token
        self.bot_user = {"id": int(bot_id), "is_bot": True, "first_name": "Kefu Test", "username": username}
        self.calls: list[ApiCall] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.handed_out: list[int] = []
        """Ids of the updates given to the bot (by getUpdates or a webhook POST), in order, repeats included."""
        self._webhook_attempts = webhook_attempts
        self._updates: list[dict[str, Any]] = []
        self._forced: list[dict[str, Any]] = []
        self._delivered: dict[int, dict[str, Any]] = {}
        self._next_update_id = 100_000
        self._message_ids: dict[int, int] = defaultdict(int)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
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

    async def stop(self) -> None:
        """Wake waiting long polls and hung faults, stop webhook delivery, close the server."""
        self._closing.set()
        self._pulse()
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # control plane -------------------------------------------------------------------------------

    def user(self, chat_id: int, *, user_id: int | None = None, language_code: str | None = "en",
             first_name: str = "Shopper") -> FakeUser:
        """A user who writes in ``chat_id`` (a group when negative; then give ``user_id``)."""
        return FakeUser(self, chat_id, user_id=user_id or abs(chat_id), language_code=language_code,
                        first_name=first_name)

    def inject_update(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Queue an update ``{"update_id": …, kind: obj}`` for the bot and return it."""
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, kind: obj}
        self._updates.append(update)
        self._pulse()
        return update

    def redeliver(self, update_id: int) -> None:
        """Deliver an already delivered update again, as Telegram does after a timeout or restart."""
        self._forced.append(self._delivered[update_id])
        self._pulse()

    def fail_next(self, method: str, *, status: int = 500, times: int = 1, retry_after: int | None = None,
                  hang_s: float | None = None) -> None:
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
        return len(self._updates) + len(self._forced)

    def aiogram_bot(self, **options: Any) -> Any:
        """An aiogram ``Bot`` whose requests go to this fake (imports aiogram; ``options`` go to ``Bot``)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        return Bot(self.token, session=AiohttpSession(api=TelegramAPIServer.from_base(self.base_url)), **options)

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, re-checked after every API call and update and every 20 ms."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self._wait_change(min(remaining, 0.02))

    async def wait_for_messages(self, chat_id: int, count: int, *, timeout: float = 5.0) -> list[Any]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``; return them all."""
        try:
            await self.wait_until(lambda: len(self.sent.get(chat_id, [])) >= count, timeout=timeout)
        except TimeoutError:
            got = [m.text for m in self.sent.get(chat_id, [])]
            raise TimeoutError(f"expected {count} messages in chat {chat_id} within {timeout} s, got {got}") from None
        return list(self.sent[chat_id])

    async def wait_quiet(self, quiet_s: float = 0.2, *, timeout: float = 10.0) -> None:
        """Wait until the bot has made no API call (other than polling) for ``quiet_s`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = max((c.at for c in self.calls if c.method.lower() != "getupdates"), default=0.0)
            idle = time.monotonic() - last
            if idle >= quiet_s:
                return
            await asyncio.sleep(quiet_s - idle)
        raise TimeoutError(f"the bot kept calling the API for {timeout} s")

    async def webhook_post(self, update: dict[str, Any], *, secret_token: str | None) -> int:
        """POST ``update`` to the registered webhook with ``secret_token`` (forged or not); return the status."""
        if self.webhook_url is None or self._client is None:
            raise RuntimeError("no webhook is set")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token is not None else {}
        async with self._client.post(self.webhook_url, json=update, headers=headers) as response:
            return response.status

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

    def _take(self, limit: int) -> list[dict[str, Any]]:
        batch = (self._forced + self._updates)[:limit]
        self._forced = [u for u in self._forced if u not in batch]
        for update in batch:
            self._delivered[update["update_id"]] = update
            self.handed_out.append(update["update_id"])
        return batch

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return p.error(401, "Unauthorized")
        try:
            params, files = await p.read_params(request)
        except p.BadRequest as exc:
            return p.error(400, f"Bad Request: {exc}")
        fault = self._faults[method.lower()].popleft() if self._faults[method.lower()] else None
        response = await self._answer(method, params, files, fault)
        self.calls.append(ApiCall(method, params, time.monotonic(), response.status))
        self._pulse()
        return response

    async def _answer(self, method: str, params: dict[str, Any], files: dict[str, bytes],
                      fault: Fault | None) -> web.Response:
        if fault is not None:
            if fault.hang_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.hang_s)
                return p.error(504, "Gateway Timeout")
            if fault.status == 429:
                return p.error(429, f"Too Many Requests: retry after {fault.retry_after}",
                               retry_after=fault.retry_after)
            blocked = "Forbidden: bot was blocked by the user"
            return p.error(fault.status, blocked if fault.status == 403 else HTTPStatus(fault.status).phrase)
        handler = self.handlers.get(method.lower())
        if handler is None:
            return p.error(404, "Not Found")
        try:
            return p.ok(await handler(params, files))
        except p.BadRequest as exc:
            return p.error(exc.status, f"{exc.prefix}: {exc}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return p.error(401, "Unauthorized")
        path = request.match_info["path"]
        if path in self.streamed_sizes:
            return await self._stream_file(request, path)
        data = self.files_by_path.get(path)
        if data is None:
            return p.error(404, "Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    def _start_delivery(self) -> None:
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver_loop())

    async def _deliver_loop(self) -> None:
        """POST queued updates to the webhook in order, retrying a failed one a few times before dropping it."""
        failures = 0
        while self.webhook_url is not None and not self._closing.is_set():
            if not self._forced and not self._updates:
                await self._wait_change(3600)
                continue
            update = (self._forced + self._updates)[0]
            status = await self._post_update(update)
            self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status))
            if 200 <= status < 300 or failures + 1 >= self._webhook_attempts:
                if not 200 <= status < 300:
                    log.warning("fake Telegram dropped update %s after %d failed deliveries", update["update_id"],
                                failures + 1)
                self._take(1)
                self._updates = [u for u in self._updates if u is not update]
                failures = 0
                self._pulse()
            else:
                failures += 1
                await asyncio.sleep(0.05 * 2**failures)

    async def _post_update(self, update: dict[str, Any]) -> int:
        assert self._client is not None and self.webhook_url is not None
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
        try:
            async with self._client.post(self.webhook_url, json=update, headers=headers,
                                         timeout=aiohttp.ClientTimeout(total=10)) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0
