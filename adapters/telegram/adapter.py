"""``TelegramAdapter``: kefu's Telegram channel on aiogram 3, by long polling or by webhook.

    adapter = TelegramAdapter(token=token, api_base="https://api.telegram.org", mode="polling")
    await adapter.start(dispatch)                # aiogram is imported here, not at import time
    await adapter.send(ConversationRef("telegram", "42"), Reply(text="Hi!"))
    await adapter.stop()

In webhook mode ``routes()`` gives ``POST /telegram/webhook`` for the shared aiohttp server; the route
checks ``X-Telegram-Bot-Api-Secret-Token`` and ``start`` registers the URL with ``setWebhook``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from adapters.base import Adapter, Dispatch
from adapters.feedback import FeedbackHook
from adapters.telegram.delivery import Outbox
from adapters.telegram.files import DEFAULT_MAX_DOWNLOAD_BYTES
from adapters.telegram.ratelimit import RateLimiter
from adapters.telegram.render import ButtonRows, CallbackCodec, render_reply
from bot.errors import ConfigError
from bot.messages import ConversationRef, Reply

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from adapters.telegram.inbound import Inbound

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.telegram.org"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramAdapter(Adapter):
    """A Telegram bot: inbound updates become ``Message``s; ``Reply``s go out as HTML with inline buttons."""

    name = "telegram"

    def __init__(
        self,
        *,
        token: str,
        api_base: str = DEFAULT_API_BASE,
        mode: Literal["polling", "webhook"] = "polling",
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        on_feedback: FeedbackHook | None = None,
        rate_limiter: RateLimiter | None = None,
        polling_timeout_s: int = 10,
        request_timeout_s: float = 30.0,
        album_window_s: float = 0.6,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        max_albums: int = 1000,
        max_albums_per_chat: int = 3,
        dedupe_size: int = 10_000,
        shutdown_timeout_s: float = 10.0,
    ) -> None:
        if not _TOKEN.match(token or ""):
            raise ConfigError("KEFU_TELEGRAM__TOKEN must look like '<digits>:<text>' (from @BotFather)")
        if mode not in ("polling", "webhook"):
            raise ConfigError(f"KEFU_TELEGRAM__MODE must be 'polling' or 'webhook', not {mode!r}")
        if mode == "webhook" and not webhook_url:
            raise ConfigError("webhook mode needs KEFU_TELEGRAM__WEBHOOK_URL (https://<host>/telegram/webhook)")
        if mode == "webhook" and not (webhook_secret and _SECRET.match(webhook_secret)):
            raise ConfigError("webhook mode needs KEFU_TELEGRAM__WEBHOOK_SECRET: 1-256 characters A-Z a-z 0-9 _ -")
        if not api_base.startswith(("http://", "https://")):
            raise ConfigError(f"KEFU_TELEGRAM__API_BASE must be an http(s) URL, not {api_base!r}")
        self.token = token
        self.api_base = api_base.rstrip("/")
        self.mode = mode
        self.webhook_url = webhook_url
        self._webhook_secret = webhook_secret or ""
        self._on_feedback = on_feedback
        self._limiter = rate_limiter or RateLimiter()
        self._polling_timeout_s = polling_timeout_s
        self._request_timeout_s = request_timeout_s
        self._album_window_s = album_window_s
        self._max_albums, self._max_albums_per_chat = max_albums, max_albums_per_chat
        self._max_download_bytes = max_download_bytes
        self._dedupe_size = dedupe_size
        self._shutdown_timeout_s = shutdown_timeout_s
        self._callbacks = CallbackCodec()
        self.outbox = Outbox(limiter=self._limiter, max_attempts=max_attempts, backoff_s=backoff_s)
        self._bot: Bot | None = None
        self._dp: Dispatcher | None = None
        self._inbound: Inbound | None = None
        self._polling: asyncio.Task[None] | None = None

    async def start(self, dispatch: Dispatch) -> None:
        """Connect (``getMe``), then poll or register the webhook; raises ``ConfigError`` for a refused token."""
        from aiogram import Bot, Dispatcher
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer
        from aiogram.exceptions import TelegramUnauthorizedError

        from adapters.telegram.inbound import Inbound
        from bot.recent import RecentKeys

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.api_base), timeout=self._request_timeout_s)
        bot = Bot(self.token, session=session)
        inbound = Inbound(
            bot=bot,
            dispatch=dispatch,
            callbacks=self._callbacks,
            on_feedback=self._on_feedback,
            max_download_bytes=self._max_download_bytes,
            album_window_s=self._album_window_s,
            max_albums=self._max_albums,
            max_albums_per_chat=self._max_albums_per_chat,
            seen=RecentKeys[int](self._dedupe_size),
        )
        dp = Dispatcher()
        dp.include_router(inbound.router())
        dp.update.outer_middleware(inbound.skip_duplicates)
        try:
            me = await bot.me()
            if self.mode == "webhook":
                await bot.set_webhook(
                    self.webhook_url or "",
                    secret_token=self._webhook_secret,
                    allowed_updates=dp.resolve_used_update_types(),
                )
            else:
                await bot.delete_webhook(drop_pending_updates=False)
        except TelegramUnauthorizedError as error:
            await session.close()
            raise ConfigError("Telegram refused KEFU_TELEGRAM__TOKEN (401 Unauthorized)") from error
        except BaseException:
            await session.close()
            raise
        self._bot, self._dp, self._inbound = bot, dp, inbound
        if self.mode == "polling":
            self._polling = asyncio.create_task(
                dp.start_polling(
                    bot,
                    handle_signals=False,
                    close_bot_session=False,
                    handle_as_tasks=False,
                    polling_timeout=self._polling_timeout_s,
                )
            )
        log.info("telegram: @%s started (%s, %s)", me.username, self.mode, self.api_base)

    async def stop(self) -> None:
        """Stop receiving, dispatch albums being collected, deliver queued replies, close the session."""
        dp, bot, inbound = self._dp, self._bot, self._inbound
        self._dp = self._bot = self._inbound = None
        if self._polling is not None and dp is not None:
            if not self._polling.done():
                await dp.stop_polling()
            await asyncio.gather(self._polling, return_exceptions=True)
            self._polling = None
        if inbound is not None:
            await inbound.flush_albums()
        await self.outbox.drain(self._shutdown_timeout_s)
        if bot is not None:
            await bot.session.close()

    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        """Deliver ``reply`` in order for its chat; raises ``DeliveryFailed`` after the retries."""
        rendered = render_reply(reply, callbacks=self._callbacks)
        chat_id = _chat_id(conversation)
        last = len(rendered.chunks) - 1
        calls = [
            self._message_call(chat_id, chunk, rendered.buttons if i == last else [])
            for i, chunk in enumerate(rendered.chunks)
        ]
        await self.outbox.deliver(chat_id, calls)

    async def fetch(self, locator: str) -> bytes:
        """The file with id ``locator`` (``getFile`` + download, within the download cap)."""
        from adapters.telegram.files import download

        return await download(self._started(), locator, max_bytes=self._max_download_bytes)

    async def working(self, conversation: ConversationRef) -> None:
        """``sendChatAction typing`` (best effort: a failure is logged, never raised)."""
        bot = self._started()
        try:
            await bot.send_chat_action(_chat_id(conversation), "typing")
        except Exception as error:  # noqa: BLE001 - best effort, logged
            log.warning("telegram: typing indicator for %s failed: %s", conversation, error)

    def routes(self) -> Iterable[web.RouteDef]:
        """``POST /telegram/webhook`` in webhook mode; nothing in polling mode."""
        return [web.post(WEBHOOK_PATH, self.handle_webhook)] if self.mode == "webhook" else []

    async def handle_webhook(self, request: web.Request) -> web.StreamResponse:
        """401 for a missing or forged secret, 400 for a malformed update (or JSON too deeply nested for the
        parser), 200 once the update is dispatched."""
        offered = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(offered.encode(), self._webhook_secret.encode()):
            log.warning("telegram: webhook call from %s with a wrong secret token refused", request.remote)
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        if self._dp is None or self._bot is None:
            return web.json_response({"ok": False, "error": "not started"}, status=503)
        try:
            update = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "body is not JSON"}, status=400)
        except RecursionError:
            log.warning("telegram: webhook body from %s refused: JSON nested too deeply", request.remote)
            return web.json_response({"ok": False, "error": "JSON nested too deeply"}, status=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.json_response({"ok": False, "error": "not a Telegram update"}, status=400)
        from pydantic import ValidationError

        try:
            await self._dp.feed_webhook_update(self._bot, update)
        except ValidationError as error:
            log.warning("telegram: malformed update %s refused: %s", update.get("update_id"), _summary(error))
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        return web.json_response({"ok": True})

    def _started(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._bot

    def _message_call(self, chat_id: int, html: str, buttons: ButtonRows) -> Any:
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

        bot = self._started()
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=label, callback_data=data) for label, data in row] for row in buttons
                ]
            )
            if buttons
            else None
        )

        async def call() -> Any:
            return await bot.send_message(
                chat_id,
                html,
                parse_mode="HTML",
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )

        return call


def _summary(error: Any) -> str:
    """A pydantic ``ValidationError`` on one line, by field and reason, without the input values (personal data)."""
    problems = [f"{'.'.join(map(str, e['loc'])) or 'update'}: {e['msg']}" for e in error.errors(include_input=False)]
    more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def _chat_id(conversation: ConversationRef) -> int:
    if conversation.channel != TelegramAdapter.name:
        raise ValueError(f"{conversation} is not a Telegram conversation")
    try:
        return int(conversation.conversation_id)
    except ValueError:
        raise ValueError(f"{conversation} does not carry a numeric Telegram chat id") from None
