"""Button presses (Block Kit ``block_actions``) as one small type, routed by ``action_id`` prefix in one place;
modal submissions and thread replies in a watched channel as small types too.

kefu's own buttons are quick replies (``kefu_quick_*``) and feedback (``kefu_feedback_*``); another part (the
hand-off desk's "Take over") registers its prefix with ``SlackAdapter.on_action`` and gets its presses, its modals
with ``on_view`` and the thread replies of its channel with ``on_thread_message``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.conversations import Place

log = logging.getLogger(__name__)

RESPONSE_URL_TTL_S = 30 * 60
RESPONSE_URL_USES = 5


@dataclass(frozen=True, slots=True)
class Press:
    """One press of a button: who, where (the conversation the button's message belongs to), which button."""

    user_id: str
    place: Place
    action_id: str
    value: str
    label: str
    message_ts: str
    message_text: str
    """The pressed message's text as sent (empty for an ephemeral message, whose text Slack does not send back)."""
    response_url: str | None
    trigger_id: str | None
    body: Mapping[str, Any]
    """The whole payload, for handlers that need more (a view to open, the team)."""


ActionHandler = Callable[[Press], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A person's reply in a thread of a channel someone watches (``on_thread_message``)."""

    channel: str
    thread_ts: str
    ts: str
    user_id: str
    text: str
    """What the person typed, links as their labels, entities unescaped."""
    event_id: str | None


ThreadHandler = Callable[[ThreadMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ViewSubmission:
    """A modal submitted (``view_submission``): who, which modal, its private metadata and its inputs."""

    user_id: str
    view_id: str
    callback_id: str
    private_metadata: str
    values: Mapping[str, str]
    """Each input's value by ``action_id`` (plain text inputs)."""


ViewHandler = Callable[[ViewSubmission], Awaitable[Mapping[str, str] | None]]
"""Returns errors to show by ``block_id`` (the modal stays open), or None to close it."""


def parse_view(body: Mapping[str, Any]) -> ViewSubmission:
    """The ``ViewSubmission`` of a ``view_submission`` payload; ``KeyError``/``TypeError`` when it is malformed."""
    view = body["view"]
    values: dict[str, str] = {}
    for block in ((view.get("state") or {}).get("values") or {}).values():
        for action_id, element in block.items():
            value = element.get("value")
            if isinstance(value, str):
                values[str(action_id)] = value
    return ViewSubmission(
        user_id=str(body["user"]["id"]),
        view_id=str(view.get("id") or ""),
        callback_id=str(view.get("callback_id") or ""),
        private_metadata=str(view.get("private_metadata") or ""),
        values=values,
    )


def parse_press(body: Mapping[str, Any], action: Mapping[str, Any]) -> Press:
    """The ``Press`` of a ``block_actions`` payload; ``KeyError``/``ValueError`` when it lacks a channel or user."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {})["id"]
    user_id = (body.get("user") or {})["id"]
    message = body.get("message") or {}
    message_ts = str(container.get("message_ts") or message.get("ts") or "")
    if container.get("is_ephemeral"):
        place = Place(str(channel), user=str(user_id))
    else:
        thread = container.get("thread_ts") or message.get("thread_ts")
        place = Place.of_message(str(channel), ts=message_ts, thread_ts=str(thread) if thread else None)
    label = (action.get("text") or {}).get("text", "")
    return Press(
        user_id=user_id,
        place=place,
        action_id=str(action.get("action_id", "")),
        value=str(action.get("value", "")),
        label=label,
        message_ts=message_ts,
        message_text=str(message.get("text", "")),
        response_url=body.get("response_url"),
        trigger_id=body.get("trigger_id"),
        body=body,
    )


class ActionRouter:
    """Handlers by ``action_id`` prefix; the longest registered prefix that matches wins."""

    def __init__(self) -> None:
        self._handlers: dict[str, ActionHandler] = {}

    def add(self, prefix: str, handler: ActionHandler) -> None:
        if not prefix:
            raise ValueError("an action prefix cannot be empty")
        self._handlers[prefix] = handler

    def handler_for(self, action_id: str) -> ActionHandler | None:
        matches = [p for p in self._handlers if action_id == p or action_id.startswith(p + "_")]
        return self._handlers[max(matches, key=len)] if matches else None


class ResponseUrls:
    """The latest ``response_url`` of each private (slash command) conversation, while Slack still honours it
    (30 minutes, 5 uses); kept in memory, so after a restart answers go by ``chat.postEphemeral`` instead."""

    def __init__(self, *, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = capacity
        self._clock = clock
        self._urls: OrderedDict[str, tuple[str, float, int]] = OrderedDict()

    def remember(self, conversation_id: str, url: str | None) -> None:
        if not url:
            return
        self._urls[conversation_id] = (url, self._clock(), 0)
        self._urls.move_to_end(conversation_id)
        while len(self._urls) > self._capacity:
            self._urls.popitem(last=False)

    def take(self, conversation_id: str) -> str | None:
        """The URL to answer ``conversation_id`` with (counting this use), or None when there is none left."""
        entry = self._urls.get(conversation_id)
        if entry is None:
            return None
        url, since, uses = entry
        if uses >= RESPONSE_URL_USES or self._clock() - since > RESPONSE_URL_TTL_S:
            del self._urls[conversation_id]
            return None
        self._urls[conversation_id] = (url, since, uses + 1)
        return url
