"""Webhook delivery: POST each update in order, retry a failing one, and run a reply sent in the response body."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from aiohttp import web

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.records import WebhookDelivery

log = logging.getLogger(__name__)


class Delivery:
    """Mixin of ``FakeTelegram``: the delivery task and the body-reply executor."""

    webhook_url: str | None
    webhook_secret: str | None
    webhook_deliveries: list[WebhookDelivery]
    _client: aiohttp.ClientSession | None
    _delivery: asyncio.Task[None] | None
    _closing: asyncio.Event
    _forced: list[dict[str, Any]]
    _updates: list[dict[str, Any]]
    _webhook_attempts: int
    _in_flight: int

    def queued(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _take(self, limit: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _pulse(self) -> None:
        raise NotImplementedError

    async def _wait_change(self, timeout: float) -> bool:
        raise NotImplementedError

    async def _call(
        self, method: str, params: dict[str, Any], files: dict[str, p.Upload], *, via: str = "http"
    ) -> web.Response:
        raise NotImplementedError

    async def webhook_post(self, update: dict[str, Any], *, secret_token: str | None) -> int:
        """POST ``update`` to the registered webhook with ``secret_token`` (forged or not); return the status."""
        if self.webhook_url is None or self._client is None:
            raise RuntimeError("no webhook is set")
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token is not None else {}
        async with self._client.post(self.webhook_url, json=update, headers=headers) as response:
            return response.status

    def _start_delivery(self) -> None:
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver_loop())

    async def _deliver_loop(self) -> None:
        """POST queued updates to the webhook in order, retrying a failed one a few times before dropping it."""
        failures = 0
        while self.webhook_url is not None and not self._closing.is_set():
            ready = self._forced + self.queued()
            if not ready:
                await self._wait_change(3600)
                continue
            update = ready[0]
            self._in_flight += 1
            try:
                status = await self._post_update(update)
            finally:
                self._in_flight -= 1
            self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status))
            if 200 <= status < 300 or failures + 1 >= self._webhook_attempts:
                if not 200 <= status < 300:
                    log.warning(
                        "fake Telegram dropped update %s after %d failed deliveries", update["update_id"], failures + 1
                    )
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
            async with self._client.post(
                self.webhook_url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if 200 <= response.status < 300:
                    await self._run_body_reply(response)
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    async def _run_body_reply(self, response: aiohttp.ClientResponse) -> None:
        """Telegram executes a method the bot puts in the webhook response body (``{"method": ...}``)."""
        params: dict[str, Any] = {}
        files: dict[str, p.Upload] = {}
        if response.content_type == "application/json":
            body = await response.read()
            decoded = json.loads(body) if body.strip() else {}
            params = decoded if isinstance(decoded, dict) else {}
        elif response.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader.from_response(response)
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    files[part.name] = p.Upload(bytes(data), part.filename, part.headers.get(aiohttp.hdrs.CONTENT_TYPE))
                else:
                    params[part.name] = bytes(data).decode()
        method = params.pop("method", None)
        if isinstance(method, str) and method:
            try:
                await self._call(method, p.decode_fields(params), files, via="webhook reply")
            except p.BadRequest as exc:
                log.warning("fake Telegram: a webhook reply was malformed: %s", exc)
