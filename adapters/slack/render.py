"""A ``Reply`` as Slack messages in Block Kit: mrkdwn sections, the quote and the sources as context blocks,
quick replies, "talk to a human" and 👍/👎 as buttons. Pure functions, no slack_sdk.

Slack's limits: 3000 characters per section, 50 blocks per message, 75 per button label, 2000 per button value.
A long answer is split on sentence boundaries into messages of at most ``MAX_MESSAGE_CHARS``.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from adapters.chunks import split_escaped, utf16_len
from adapters.slack.texts import text
from bot.messages import HUMAN_PAYLOAD, Reply, Source

log = logging.getLogger(__name__)

MAX_SECTION_CHARS = 3000
MAX_MESSAGE_CHARS = 4 * MAX_SECTION_CHARS
"""Answer text per message: four full sections (Slack's ``text`` limit, 40 000, is far above)."""
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_QUOTE_CHARS = 600
MAX_SOURCES = 5
MAX_TITLE_CHARS = 60

ACTION_PREFIX = "kefu"
"""Every button kefu renders has an ``action_id`` starting with this, so one listener routes them all."""
QUICK_REPLY = "kefu_quick"
FEEDBACK = "kefu_feedback"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message to post: the notification ``text`` (also what clients without blocks show) and its blocks."""

    text: str
    blocks: list[dict[str, Any]]


def escape(value: str) -> str:
    """``value`` safe inside mrkdwn: ``&``, ``<`` and ``>`` escaped (Slack's three)."""
    return html.escape(value, quote=False)


def render_reply(reply: Reply) -> list[SlackMessage]:
    """The messages for ``reply``, in order: the quote above the first, sources and buttons under the last."""
    if not reply.text.strip():
        raise ValueError("an empty reply cannot be sent to Slack")
    chunks = split_escaped(reply.text, limit=MAX_SECTION_CHARS)
    messages: list[list[str]] = [[]]
    for chunk in chunks:
        if sum(utf16_len(c) for c in messages[-1]) + utf16_len(chunk) > MAX_MESSAGE_CHARS:
            messages.append([])
        messages[-1].append(chunk)
    out = []
    for index, sections in enumerate(messages):
        blocks: list[dict[str, Any]] = []
        if index == 0 and reply.quote:
            blocks.append(_context(f"_{escape(_shorten(reply.quote, MAX_QUOTE_CHARS))}_"))
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": s}} for s in sections]
        if index == len(messages) - 1:
            blocks += _tail(reply)
        out.append(SlackMessage(text="\n".join(sections), blocks=blocks))
    return out


def _tail(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.sources:
        links = " · ".join(_source(s) for s in reply.sources[:MAX_SOURCES])
        blocks.append(_context(f"{text('sources', reply.language)}: {links}"))
    buttons = [
        _button(q.label, f"{QUICK_REPLY}_{i}", q.payload) for i, q in enumerate(reply.quick_replies) if _fits(q.payload)
    ]
    if not reply.notice:
        offers_human = any(q.payload == HUMAN_PAYLOAD for q in reply.quick_replies)
        if not reply.escalated and not offers_human:
            buttons.append(_button(text("human", reply.language), f"{QUICK_REPLY}_human", HUMAN_PAYLOAD))
    if buttons:
        blocks.append({"type": "actions", "block_id": "kefu_buttons", "elements": buttons[:25]})
    if not reply.notice and not reply.escalated:
        blocks.append(
            {
                "type": "actions",
                "block_id": "kefu_feedback",
                "elements": [
                    _button(text("helpful", reply.language), f"{FEEDBACK}_yes", "1"),
                    _button(text("not_helpful", reply.language), f"{FEEDBACK}_no", "0"),
                ],
            }
        )
    return blocks


def _fits(payload: str) -> bool:
    if len(payload) <= MAX_BUTTON_VALUE:
        return True
    log.warning(
        "slack: a quick reply's payload of %d characters is over Slack's %d; button left out",
        len(payload),
        MAX_BUTTON_VALUE,
    )
    return False


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": _shorten(label, MAX_BUTTON_LABEL), "emoji": True},
    }


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def _source(source: Source) -> str:
    title = escape(_shorten(source.title or source.id, MAX_TITLE_CHARS)).replace("|", "¦")
    if (
        source.url
        and source.url.startswith(("https://", "http://"))
        and len(source.url) <= 300
        and not any(c in source.url for c in "<>| ")
    ):
        return f"<{source.url}|{title}>"
    return title


def _shorten(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
