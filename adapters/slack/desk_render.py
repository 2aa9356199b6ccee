"""The hand-off desk in Block Kit: the ticket message (updated in place as its state changes), the shopper's
messages in its thread, an agent-assist suggestion and its "Edit" modal. Pure functions, no slack_sdk.

The desk's own words are English (operators' workspace); a suggestion is in the shopper's language.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapters.slack.render import MAX_SECTION_CHARS, SlackMessage, _shorten, _source, escape
from bot.handoff.base import Ticket, TicketMessage, TicketState
from bot.messages import Reply

DESK = "kefu_desk"
"""``action_id`` prefix of every desk button (routed with ``SlackAdapter.on_action``)."""
TAKE, RESOLVE, SEND, EDIT = f"{DESK}_take", f"{DESK}_resolve", f"{DESK}_send", f"{DESK}_edit"
EDIT_VIEW = f"{DESK}_edit"
"""``callback_id`` of the "Edit" modal."""
EDIT_INPUT = "reply"
LAST_TURNS = 6
MAX_TURN_CHARS = 300
MAX_SUMMARY_CHARS = 200
MAX_SUGGESTION_CHARS = 1800
"""A suggestion travels in its buttons' values (Slack's limit: 2000 characters each)."""

_AUTHORS = {"shopper": "🛍️ Shopper", "bot": "🤖 kefu", "operator": "🧑‍💼 Operator", "system": "⚙️ System"}


def ticket_message(ticket: Ticket, *, transcript: Sequence[TicketMessage], intent: str | None) -> SlackMessage:
    """The ticket as posted in the hand-off channel: who, where, why, a summary, the last turns, its state and
    the buttons the state allows."""
    where = ticket.conversation
    facts = "\n".join(
        [
            f"*Shopper:* `{escape(ticket.user_id)}`  "
            f"*Channel:* {escape(where.channel)} (`{escape(where.conversation_id)}`)",
            f"*Language:* {escape(ticket.language)}  *Intent:* {escape(intent or 'unknown')}",
            f"*Reason:* {escape(_shorten(ticket.reason, 300))}",
            f"*Summary:* {escape(summary(transcript))}",
        ]
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"🎫 Ticket #{ticket.id}"}},
        _section(facts),
    ]
    turns = [m for m in transcript if m.text.strip()][-LAST_TURNS:]
    if turns:
        lines = "\n".join(
            f"{_AUTHORS.get(m.author, m.author)}: {escape(_shorten(m.text, MAX_TURN_CHARS))}" for m in turns
        )
        blocks.append(_section(f"*Last turns*\n{lines}"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": state_line(ticket)}]})
    buttons = []
    if ticket.state is TicketState.OPEN:
        buttons.append(_button("🙋 Take over", TAKE, str(ticket.id), style="primary"))
    if ticket.state is not TicketState.RESOLVED:
        buttons.append(_button("✅ Resolve", RESOLVE, str(ticket.id)))
    if buttons:
        blocks.append({"type": "actions", "block_id": f"{DESK}_ticket", "elements": buttons})
    text = f"Ticket #{ticket.id} from {where.channel}: {_shorten(ticket.reason, 200)} ({state_word(ticket)})"
    return SlackMessage(text=text, blocks=blocks)


def state_word(ticket: Ticket) -> str:
    return {TicketState.OPEN: "waiting", TicketState.TAKEN: "taken", TicketState.RESOLVED: "resolved"}[ticket.state]


def state_line(ticket: Ticket) -> str:
    """The ticket's state as its message shows it."""
    who = f"<@{ticket.operator}>" if ticket.operator else "someone"
    if ticket.state is TicketState.OPEN:
        return "🟡 *Waiting* for an operator; kefu keeps answering meanwhile"
    if ticket.state is TicketState.TAKEN:
        return f"🟢 *Taken* by {who}; kefu is silent, reply in the thread to answer the shopper"
    return f"✅ *Resolved* by {who}; kefu answers the shopper again"


def summary(transcript: Sequence[TicketMessage]) -> str:
    """A short summary of a transcript: what the shopper first asked and what they said last."""
    said = [m.text for m in transcript if m.author == "shopper" and m.text.strip()]
    if not said:
        return "no message from the shopper yet"
    first = _shorten(said[0], MAX_SUMMARY_CHARS // 2)
    if len(said) == 1:
        return f"asked “{first}”"
    return f"asked “{first}”, last said “{_shorten(said[-1], MAX_SUMMARY_CHARS // 2)}” ({len(said)} messages)"


def thread_line(message: TicketMessage) -> SlackMessage:
    """A message of the ticket as posted in its thread."""
    label = _AUTHORS.get(message.author, message.author)
    body = _shorten_keeping_lines(message.text, MAX_SECTION_CHARS - 40)
    return SlackMessage(text=f"{label}: {message.text[:200]}", blocks=[_section(f"*{label}:* {escape(body)}")])


def sent_line(operator: str, text: str, *, suggested: bool) -> SlackMessage:
    """The record, in the thread, of a reply an operator sent from a button or a modal."""
    how = "sent kefu's suggestion" if suggested else "replied"
    body = _shorten_keeping_lines(text, MAX_SECTION_CHARS - 80)
    return SlackMessage(
        text=f"{operator} {how}: {text[:200]}", blocks=[_section(f"<@{operator}> {how}:\n>{escape(body)}")]
    )


def suggestion_message(ticket_id: int, suggestion: Reply) -> SlackMessage:
    """The ephemeral agent-assist message: the suggested reply, its sources, "Send" and "Edit"."""
    text = _shorten_keeping_lines(suggestion.text, MAX_SUGGESTION_CHARS)
    value = json.dumps({"ticket": ticket_id, "text": text}, ensure_ascii=False)
    blocks: list[dict[str, Any]] = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"💡 Suggested reply for ticket #{ticket_id} (only you see this)"}],
        },
        _section(escape(text)),
    ]
    if suggestion.sources:
        links = " · ".join(_source(s) for s in suggestion.sources[:5])
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Sources: {links}"}]})
    if len(value) <= 2000:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{DESK}_assist",
                "elements": [_button("📤 Send", SEND, value, style="primary"), _button("✏️ Edit", EDIT, value)],
            }
        )
    return SlackMessage(text=f"Suggested reply for ticket #{ticket_id}: {text[:200]}", blocks=blocks)


def edit_view(ticket_id: int, text: str) -> dict[str, Any]:
    """The modal in which an operator changes a suggestion before sending it."""
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": str(ticket_id),
        "title": {"type": "plain_text", "text": f"Reply to ticket #{ticket_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": EDIT_INPUT,
                "label": {"type": "plain_text", "text": "Reply"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": EDIT_INPUT,
                    "multiline": True,
                    "initial_value": text[:3000],
                    "max_length": 3000,
                },
            }
        ],
    }


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn[:MAX_SECTION_CHARS]}}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": label, "emoji": True},
    }
    return button | ({"style": style} if style else {})


def _shorten_keeping_lines(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"
