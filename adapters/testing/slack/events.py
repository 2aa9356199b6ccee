"""The Events API side of the fake: request signing and the posts Slack makes to an app (events, slash
commands, button presses), signed as Slack signs them: ``v0=`` + HMAC-SHA256(secret, ``v0:{ts}:{body}``)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.testing.slack.records import Delivery, SentMessage

OWN_SECRET = object()
"""Sign with the fake's own signing secret (the default)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` of ``body`` sent at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str | None, body: bytes, *, timestamp: float | None = None) -> dict[str, str]:
    """The two signing headers (none when ``secret`` is None), as of ``timestamp`` (default: now)."""
    if secret is None:
        return {}
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature(secret, stamp, body)}


class EventsMixin:
    """Posts signed requests to ``events_url`` (the app's ``/slack/events``) and records each in ``deliveries``."""

    signing_secret: str
    team_id: str
    bot_user_id: str
    api_app_id: str
    root_url: str
    events_url: str | None
    _client: aiohttp.ClientSession | None

    _sockets: list[Any]
    socket_request: Callable[[str, bytes, str], Awaitable[Delivery]]
    next_ts: Callable[[], str]
    record_message: Callable[[SentMessage], None]

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._event_ids = itertools.count(1)
        self._trigger_numbers = itertools.count(1)
        self.triggers: dict[str, tuple[str | None, float]] = {}
        """Every ``trigger_id`` handed out: the user it opens views for and when (``time.monotonic()``)."""
        self.response_urls: dict[str, dict[str, Any]] = {}
        """Every ``response_url`` handed out: the channel and user it answers, the message it came from (``ts``,
        for ``replace_original``), and how often it was used."""

    async def post_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        secret: Any = OWN_SECRET,
        timestamp: float | None = None,
    ) -> Delivery:
        """POST ``event`` wrapped in an ``event_callback``; ``retry_num`` adds Slack's retry headers (as after a
        timeout), ``secret=None`` leaves the signature out, another secret forges it, ``timestamp`` dates it."""
        envelope = self.event_envelope(event, event_id=event_id)
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return await self.post(
            "event_callback",
            json.dumps(envelope).encode(),
            "application/json",
            extra=headers,
            secret=secret,
            timestamp=timestamp,
            event_id=envelope["event_id"],
            ts=event.get("ts"),
        )

    def event_envelope(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """``event`` as Slack wraps it for the Events API (and for a Socket Mode ``events_api`` envelope)."""
        return {
            "token": "unused-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True, "is_enterprise_install": False}
            ],
            "is_ext_shared_channel": False,
        }

    async def url_verification(self, challenge: str = "kefu-challenge", *, secret: Any = OWN_SECRET) -> Delivery:
        """The handshake Slack makes when the Request URL is saved; the app must echo ``challenge``."""
        body = {"token": "unused-verification-token", "challenge": challenge, "type": "url_verification"}
        return await self.post("url_verification", json.dumps(body).encode(), "application/json", secret=secret)

    async def slash_command(
        self, user_id: str, text: str, *, channel: str, command: str = "/kefu", secret: Any = OWN_SECRET
    ) -> Delivery:
        """A slash command as a form post, with a fresh ``response_url`` and ``trigger_id``; a message in the app's
        ack (``ack("text")``, ``ack(blocks=…, response_type="in_channel")``) is shown as Slack shows it: to the user
        alone unless ``in_channel`` (``via="ack"``)."""
        form = {
            "token": "unused-verification-token",
            "team_id": self.team_id,
            "team_domain": "kefu-test",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(channel, user_id),
            "trigger_id": self.new_trigger_id(user_id),
        }
        delivery = await self.post(
            "slash_command", urlencode(form).encode(), "application/x-www-form-urlencoded", secret=secret
        )
        if delivery.status == 200 and delivery.body.strip():
            self._show_ack(delivery.body, channel=channel, user_id=user_id)
        return delivery

    def _show_ack(self, body: str, *, channel: str, user_id: str) -> None:
        """The message in a slash command's ack: JSON with ``text``/``blocks``, or plain text as it is."""
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {"text": body}
        if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
            return
        public = answer.get("response_type") == "in_channel"
        sent = SentMessage(
            channel,
            self.next_ts(),
            str(answer.get("text") or ""),
            list(answer.get("blocks") or []),
            via="ack",
            ephemeral_to=None if public else user_id,
        )
        self.record_message(sent)

    async def block_action(self, payload: dict[str, Any], *, secret: Any = OWN_SECRET) -> Delivery:
        """An interactivity payload (``block_actions``, ``view_submission``) in the form field ``payload``."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(
            payload.get("type", "interaction"), body, "application/x-www-form-urlencoded", secret=secret
        )

    def new_response_url(self, channel: str, user_id: str, *, message_ts: str | None = None) -> str:
        """A ``response_url`` answering ``user_id`` in ``channel`` (about the message ``message_ts``, if any)."""
        key = f"R{len(self.response_urls) + 1:08d}"
        self.response_urls[key] = {"channel": channel, "user": user_id, "uses": 0, "message_ts": message_ts}
        return f"{self.root_url}response/{key}"

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """A ``trigger_id`` that can open one view for ``user_id`` within ``trigger_ttl_s``."""
        trigger = f"{next(self._trigger_numbers)}.{self.team_id}.trigger"
        self.triggers[trigger] = (user_id, time.monotonic())
        return trigger

    async def post(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str] | None = None,
        secret: Any = OWN_SECRET,
        timestamp: float | None = None,
        event_id: str | None = None,
        ts: str | None = None,
    ) -> Delivery:
        """POST ``body`` to ``events_url``, signed (see ``post_event``); returns and records the answer. Without an
        ``events_url``, an app connected over Socket Mode gets it as an envelope instead."""
        if self.events_url is None and self._sockets:
            return await self.socket_request(kind, body, content_type)
        if self.events_url is None or self._client is None:
            raise RuntimeError("set fake.events_url to the app's /slack/events URL first (and start the fake)")
        used = self.signing_secret if secret is OWN_SECRET else secret
        headers = {"Content-Type": content_type, **signed_headers(used, body, timestamp=timestamp), **(extra or {})}
        started = time.monotonic()
        async with self._client.post(
            self.events_url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
        ) as response:
            text = await response.text()
        delivery = Delivery(kind, response.status, text, time.monotonic() - started, event_id, ts, headers)
        self.deliveries.append(delivery)
        return delivery
