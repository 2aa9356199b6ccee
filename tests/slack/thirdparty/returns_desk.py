"""A returns desk, the way slack-bolt's modal examples are written: ``/return`` acks with a line and opens a form
(views.open), a button in the form checks the order (views.update with the view's hash) or pushes a help view
(views.push), submitting validates the inputs (``response_action: errors``), posts a card with Approve / Reject to
the returns channel and DMs the requester; Approve answers through ``respond(replace_original=True)`` and reacts,
Reject asks for a reason in a second modal and edits the card (chat.update); a message shortcut opens the form
with the order number taken from a message."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

RETURNS_CHANNEL = "C0RETURNS"
REASONS = {"damaged": "Arrived damaged", "size": "Wrong size", "mind": "Changed my mind"}
ORDERS = {"10001": "Linen shirt", "10002": "Rain jacket"}
_ORDER = re.compile(r"\b(\d{5})\b")


def return_form(order: str = "", *, checked: str | None = None) -> dict[str, Any]:
    """The return form; ``checked`` adds the result of the order check under the inputs."""
    order_element: dict[str, Any] = {"type": "plain_text_input", "action_id": "order_input"}
    if order:
        order_element["initial_value"] = order
    reasons = [{"text": {"type": "plain_text", "text": label}, "value": key} for key, label in REASONS.items()]
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": "order",
            "label": {"type": "plain_text", "text": "Order number"},
            "element": order_element,
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "static_select", "action_id": "reason_select", "options": reasons},
        },
        {
            "type": "actions",
            "block_id": "form_tools",
            "elements": [
                {"type": "button", "action_id": "check_order", "text": {"type": "plain_text", "text": "Check order"}},
                {"type": "button", "action_id": "return_help", "text": {"type": "plain_text", "text": "Help"}},
            ],
        },
    ]
    if checked:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": checked}]})
    return {
        "type": "modal",
        "callback_id": "return_form",
        "title": {"type": "plain_text", "text": "Return an item"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def build_app(*, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret)

    @app.command("/return")
    async def open_form(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack("Opening the return form…")
        order = _ORDER.search(body.get("text", ""))
        await client.views_open(trigger_id=body["trigger_id"], view=return_form(order.group(1) if order else ""))

    @app.shortcut("return_this")
    async def form_from_message(ack: Any, shortcut: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        order = _ORDER.search(shortcut["message"].get("text", ""))
        await client.views_open(trigger_id=shortcut["trigger_id"], view=return_form(order.group(1) if order else ""))

    @app.action("check_order")
    async def check_order(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        view = body["view"]
        typed = view["state"]["values"].get("order", {}).get("order_input", {}).get("value") or ""
        found = ORDERS.get(typed.strip())
        checked = f"Order {typed.strip()}: *{found}*" if found else "No order with that number."
        await client.views_update(
            view_id=view["id"], hash=view["hash"], view=return_form(typed.strip(), checked=checked)
        )

    @app.action("return_help")
    async def push_help(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        help_view = {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Returns help"},
            "close": {"type": "plain_text", "text": "Back"},
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "Your order number is in the confirmation e-mail."},
                }
            ],
        }
        await client.views_push(trigger_id=body["trigger_id"], view=help_view)

    @app.view("return_form")
    async def submitted(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        order = (values["order"]["order_input"]["value"] or "").strip()
        reason = values["reason"]["reason_select"]["selected_option"]
        errors = {}
        if order not in ORDERS:
            errors["order"] = "No order with that number; it has five digits."
        if reason is None:
            errors["reason"] = "Please choose a reason."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user = body["user"]["id"]
        meta = json.dumps({"order": order, "user": user})
        await client.chat_postMessage(
            channel=RETURNS_CHANNEL,
            text=f"Return request for {order}",
            blocks=[
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"<@{user}> wants to return *{ORDERS[order]}* ({order}): {REASONS[reason['value']]}",
                    },
                },
                {
                    "type": "actions",
                    "block_id": "decision",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "approve",
                            "style": "primary",
                            "value": meta,
                            "text": {"type": "plain_text", "text": "Approve"},
                        },
                        {
                            "type": "button",
                            "action_id": "reject",
                            "style": "danger",
                            "value": meta,
                            "text": {"type": "plain_text", "text": "Reject"},
                        },
                    ],
                },
            ],
        )
        await client.chat_postMessage(channel=user, text=f"We got your return request for {order}.")

    @app.action("approve")
    async def approve(
        ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, client: AsyncWebClient
    ) -> None:
        await ack()
        meta = json.loads(action["value"])
        await respond(replace_original=True, text=f"Return of {meta['order']} approved by <@{body['user']['id']}>.")
        await client.reactions_add(
            channel=body["channel"]["id"], timestamp=body["container"]["message_ts"], name="white_check_mark"
        )

    @app.action("reject")
    async def ask_why(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        card = {"channel": body["channel"]["id"], "ts": body["container"]["message_ts"], **json.loads(action["value"])}
        await client.views_open(
            trigger_id=body["trigger_id"],
            view={
                "type": "modal",
                "callback_id": "reject_reason",
                "private_metadata": json.dumps(card),
                "title": {"type": "plain_text", "text": "Reject return"},
                "submit": {"type": "plain_text", "text": "Reject"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "why",
                        "label": {"type": "plain_text", "text": "Why?"},
                        "element": {"type": "plain_text_input", "action_id": "why_input", "multiline": True},
                    }
                ],
            },
        )

    @app.view("reject_reason")
    async def rejected(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        card = json.loads(view["private_metadata"])
        why = view["state"]["values"]["why"]["why_input"]["value"]
        await client.chat_update(
            channel=card["channel"], ts=card["ts"], text=f"Return of {card['order']} rejected: {why}", blocks=[]
        )
        await client.chat_postMessage(
            channel=card["user"], text=f"Sorry, your return of {card['order']} was rejected: {why}"
        )

    return app
