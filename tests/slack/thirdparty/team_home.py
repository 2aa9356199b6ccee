"""A Home tab app, like the App Home examples of slack-bolt: opening Home publishes a personal view (the member's
name from users.info, their open requests), Refresh re-publishes it with the view's hash, and a global shortcut or
the Home button opens a request form whose submission DMs the member (conversations.open, then chat.postMessage)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

REQUEST_FORM = {
    "type": "modal",
    "callback_id": "new_request",
    "title": {"type": "plain_text", "text": "New request"},
    "submit": {"type": "plain_text", "text": "File it"},
    "notify_on_close": True,
    "blocks": [
        {
            "type": "input",
            "block_id": "what",
            "label": {"type": "plain_text", "text": "What do you need?"},
            "element": {"type": "plain_text_input", "action_id": "what_input"},
        }
    ],
}


def home_view(name: str, requests: list[str]) -> dict[str, Any]:
    listed = "\n".join(f"• {r}" for r in requests) or "No open requests."
    return {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Welcome, {name}!*"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": listed}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "home_refresh", "text": {"type": "plain_text", "text": "Refresh"}},
                    {"type": "button", "action_id": "home_new", "text": {"type": "plain_text", "text": "New request"}},
                ],
            },
        ],
    }


@dataclass
class Store:
    """What a real app keeps in a database: open requests by member, and who cancelled the form."""

    requests: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cancelled: list[str] = field(default_factory=list)


def build_app(*, client: AsyncWebClient, signing_secret: str, store: Store) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret)
    requests = store.requests

    async def publish(client: AsyncWebClient, user: str, *, hash: str | None = None) -> None:
        member = (await client.users_info(user=user))["user"]
        view = home_view(member["profile"]["first_name"], requests[user])
        if hash is None:
            await client.views_publish(user_id=user, view=view)
        else:
            await client.views_publish(user_id=user, view=view, hash=hash)

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            await publish(client, event["user"])

    @app.action("home_refresh")
    async def refresh(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await publish(client, body["user"]["id"], hash=body["view"]["hash"])

    @app.action("home_new")
    @app.shortcut("new_request")
    async def open_form(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=REQUEST_FORM)

    @app.view("new_request")
    async def filed(ack: Any, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        what = view["state"]["values"]["what"]["what_input"]["value"].strip()
        if len(what) < 5:
            await ack(response_action="errors", errors={"what": "Tell us a little more (5 characters at least)."})
            return
        await ack(
            response_action="update",
            view={
                "type": "modal",
                "title": {"type": "plain_text", "text": "Filed"},
                "close": {"type": "plain_text", "text": "Done"},
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"Filed: {what}"}}],
            },
        )
        user = body["user"]["id"]
        requests[user].append(what)
        dm = (await client.conversations_open(users=user))["channel"]["id"]
        await client.chat_postMessage(channel=dm, text=f"Your request is filed: {what}")

    @app.view_closed("new_request")
    async def closed(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        store.cancelled.append(body["user"]["id"])

    return app
