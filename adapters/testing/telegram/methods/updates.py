"""getMe, getUpdates and the webhook methods: how updates reach the bot."""

from __future__ import annotations

import logging
import time
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

log = logging.getLogger(__name__)
UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
"""Update types Telegram sends only when ``allowed_updates`` names them."""


def set_allowed(fake: FakeTelegram, params: dict[str, Any]) -> None:
    """Remember ``allowed_updates`` when given (an empty list, or only unknown names: the default set), as Telegram
    does; Telegram ignores a value that is not a JSON array of strings (the setting stays), so does the fake, with a
    warning in the log."""
    allowed = params.get("allowed_updates")
    if allowed is None:
        return
    if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
        log.warning(
            "fake Telegram: allowed_updates %r is not a JSON array of strings; ignored, as Telegram does", allowed
        )
        return
    fake.allowed_updates = frozenset(allowed) & UPDATE_KINDS or UPDATE_KINDS - NOT_BY_DEFAULT


@method("getMe")
async def get_me(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    return fake.bot_user


@method("close", "logOut")
async def noop(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return True


@method("getUpdates")
async def get_updates(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> list[dict[str, Any]]:
    if fake.webhook_url is not None:
        raise p.Conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        )
    set_allowed(fake, params)
    offset, limit = p.integer(params, "offset", 0), max(1, min(p.integer(params, "limit", 100), 100))
    if offset > 0:
        fake.confirm_below(offset)
    fake._poll_generation += 1
    generation = fake._poll_generation
    fake._pulse()
    deadline = time.monotonic() + p.integer(params, "timeout", 0)
    while not fake._closing.is_set():
        if fake._poll_generation != generation:
            raise p.Conflict("terminated by other getUpdates request; make sure that only one bot instance is running")
        if fake._forced or fake.queued() or not await fake._wait_change(deadline - time.monotonic()):
            break
    return fake._take(limit)


@method("setWebhook")
async def set_webhook(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    url = params.get("url") or ""
    if url and not url.startswith(("http://", "https://")):
        raise p.BadRequest("bad webhook: invalid URL")
    set_allowed(fake, params)
    if p.flag(params, "drop_pending_updates"):
        fake._updates.clear()
    fake.webhook_url = url or None
    fake.webhook_secret = params.get("secret_token") or None
    if fake.webhook_url:
        fake._start_delivery()
    return True


@method("deleteWebhook")
async def delete_webhook(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    return await set_webhook(fake, {**params, "url": ""}, files)


@method("getWebhookInfo")
async def get_webhook_info(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": fake.webhook_url or "",
        "has_custom_certificate": False,
        "pending_update_count": fake.pending_updates,
    }
    if fake.allowed_updates is not None:
        info["allowed_updates"] = sorted(fake.allowed_updates)
    return info


def validate_update(update: dict[str, Any]) -> None:
    """Check a hand-built update against aiogram's types when aiogram is installed."""
    if find_spec("aiogram") is None:
        return
    from aiogram.types import Update
    from pydantic import ValidationError

    try:
        Update.model_validate(update)
    except ValidationError as exc:
        raise ValueError(f"this update would not parse in aiogram: {exc}") from None
