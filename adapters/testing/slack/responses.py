"""``response_url`` posts in the fake Slack (bolt's ``respond()``): a new message, ephemeral unless ``in_channel``,
or, for an interaction on a message, ``replace_original`` / ``delete_original`` of that message."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from adapters.testing.slack.records import ApiCall, SentMessage

MAX_RESPONSE_URL_USES = 5


class ResponsesMixin:
    """Answers ``POST /response/<key>`` as Slack does: at most 5 uses, 404 for unknown or used-up urls."""

    response_urls: dict[str, dict[str, Any]]
    messages: list[SentMessage]
    history: list[dict[str, Any]]
    calls: list[ApiCall]
    next_ts: Callable[[], str]
    record_message: Callable[[SentMessage], None]
    forget_message: Callable[[str, str], None]
    _pulse: Callable[[], None]

    async def response_url_post(self, request: web.Request) -> web.StreamResponse:
        target = self.response_urls.get(request.match_info["key"])
        if target is None or target["uses"] >= MAX_RESPONSE_URL_USES:
            return web.Response(status=404, text="expired_url" if target else "no_such_url")
        target["uses"] += 1
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        if not isinstance(body, dict):
            return web.Response(status=400, text="invalid_payload")
        self.calls.append(ApiCall("response_url", body, time.monotonic()))
        original = self._original(target)
        if _flag(body.get("delete_original")) and original is not None:
            self.forget_message(original.channel, original.ts)
            self._pulse()
            return web.Response(text="ok")
        text, blocks = body.get("text") or "", body.get("blocks") or []
        if not text and not blocks:
            return web.Response(status=400, text="no_text")
        if _flag(body.get("replace_original")) and original is not None:
            original.text, original.blocks, original.edits = text, blocks, original.edits + 1
            for stored in self.history:
                if stored["channel"] == original.channel and stored["ts"] == original.ts:
                    stored.update(text=text, blocks=blocks)
            self._pulse()
            return web.Response(text="ok")
        ephemeral = body.get("response_type", "ephemeral") != "in_channel"
        self.record_message(
            SentMessage(
                target["channel"],
                self.next_ts(),
                text,
                blocks,
                thread_ts=body.get("thread_ts"),
                via="response_url",
                ephemeral_to=target["user"] if ephemeral else None,
            )
        )
        self._pulse()
        return web.Response(text="ok")

    def _original(self, target: dict[str, Any]) -> SentMessage | None:
        """The message the interaction that issued this url came from, while it still exists."""
        ts = target.get("message_ts")
        return next((m for m in self.messages if m.channel == target["channel"] and m.ts == ts), None)


def _flag(value: Any) -> bool:
    return value is True or value in ("true", "True", "1")
