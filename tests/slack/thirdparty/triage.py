"""An incident triage app, like slack-bolt's message and event examples: messages matching a pattern get a reply
in their thread and a reaction, shared files get :eyes:, a :white_check_mark: reaction on the bot's incident note
marks it resolved (chat.update), ``/digest`` answers privately with what the channel said lately
(conversations.history, conversations.info), and a Delete button removes the note (chat.delete)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

INCIDENT = re.compile(r"\b(outage|down|500s?)\b", re.IGNORECASE)


def build_app(*, client: AsyncWebClient, signing_secret: str) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret)
    notes: dict[str, str] = {}
    """Incident notes the bot posted: note ts → the reported text."""

    @app.message(INCIDENT)
    async def incident(message: dict[str, Any], say: AsyncSay, client: AsyncWebClient) -> None:
        await client.reactions_add(channel=message["channel"], timestamp=message["ts"], name="rotating_light")
        posted = await say(
            text="Incident noted",
            thread_ts=message.get("thread_ts") or message["ts"],
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Incident noted: _{message['text']}_"}},
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "delete_note", "text": {"type": "plain_text", "text": "Delete"}}
                    ],
                },
            ],
        )
        notes[posted["ts"]] = message["text"]

    @app.event({"type": "message", "subtype": "file_share"})
    async def file_shared(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="eyes")

    @app.event("message")
    async def other_messages() -> None:
        """Everything else is acknowledged and ignored."""

    @app.event("reaction_added")
    async def resolved(event: dict[str, Any], client: AsyncWebClient) -> None:
        item = event["item"]
        if event["reaction"] != "white_check_mark" or item["ts"] not in notes:
            return
        await client.chat_update(
            channel=item["channel"],
            ts=item["ts"],
            text=f"Resolved by <@{event['user']}>: {notes.pop(item['ts'])}",
            blocks=[],
        )

    @app.command("/digest")
    async def digest(ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        channel = (await client.conversations_info(channel=command["channel_id"]))["channel"]
        history = await client.conversations_history(channel=channel["id"], limit=20)
        said = [m for m in history["messages"] if "bot_id" not in m]
        lines = [f"#{channel['name']}: {len(said)} messages lately"] + [f"• {m['text']}" for m in reversed(said)]
        await respond("\n".join(lines))

    @app.action("delete_note")
    async def delete_note(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        ts = body["container"]["message_ts"]
        await client.chat_delete(channel=body["channel"]["id"], ts=ts)
        notes.pop(ts, None)

    return app
