"""The fake Slack's workspace methods and modal rules refuse what Slack refuses, with Slack's error codes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError

from adapters.testing.slack import FakeSlack, SentMessage

MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Step"}, "blocks": []}


async def _error(call: Awaitable[Any]) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


async def test_reactions_deletes_and_members(fake_slack: FakeSlack) -> None:
    web = fake_slack.web_client()
    ana = fake_slack.user("U1001", real_name="Ana Lima")
    said = ana.message("hi", channel="C0OPS", channel_type="channel")["ts"]  # stored as Slack stores it
    posted = await web.chat_postMessage(channel="C0OPS", text="note")
    assert (await web.reactions_add(channel="C0OPS", timestamp=said, name="eyes"))["ok"]
    assert await _error(web.reactions_add(channel="C0OPS", timestamp=said, name="eyes")) == "already_reacted"
    assert await _error(web.reactions_add(channel="C0OPS", timestamp=said, name=":eyes:")) == "invalid_name"
    assert await _error(web.reactions_add(channel="C0OPS", timestamp="1.2", name="eyes")) == "message_not_found"
    assert await _error(web.reactions_remove(channel="C0OPS", timestamp=said, name="tada")) == "no_reaction"
    assert await _error(web.chat_delete(channel="C0OPS", ts=said)) == "cant_delete_message"
    assert (await web.chat_delete(channel="C0OPS", ts=posted["ts"]))["ok"]
    assert [m.text for m in fake_slack.deleted] == ["note"] and fake_slack.messages_in("C0OPS") == []
    assert await _error(web.chat_delete(channel="C0OPS", ts=posted["ts"])) == "message_not_found"
    info = (await web.users_info(user="U1001"))["user"]
    assert info["real_name"] == "Ana Lima" and info["profile"]["first_name"] == "Ana"
    assert (await web.conversations_open(users="U1001"))["channel"]["id"] == ana.dm_channel
    assert await _error(web.conversations_open(users="U404")) == "user_not_found"
    assert await _error(web.conversations_info(channel="not-a-channel")) == "channel_not_found"


async def test_the_modal_stack_and_its_limits(fake_slack: FakeSlack) -> None:
    web = fake_slack.web_client()
    fake_slack.user("U1001")
    first = (await web.views_open(trigger_id=fake_slack.new_trigger_id("U1001"), view=MODAL))["view"]
    for _ in range(2):
        await web.views_push(trigger_id=fake_slack.new_trigger_id("U1001"), view=MODAL)
    refused = web.views_push(trigger_id=fake_slack.new_trigger_id("U1001"), view=MODAL)
    assert await _error(refused) == "push_limit_reached" and len(fake_slack.modals("U1001")) == 3
    assert await _error(web.views_update(view_id="V99999999", view=MODAL)) == "not_found"
    assert await _error(web.views_update(view_id=first["id"], view=MODAL, hash="stale")) == "hash_conflict"
    assert await _error(web.views_open(trigger_id=fake_slack.new_trigger_id("U1001"), view={"type": "modal"})) == (
        "invalid_arguments"
    )
    fake_slack.apply_view_answer("U1001", first["id"], '{"response_action": "clear"}')
    assert fake_slack.modals("U1001") == []


async def test_a_response_url_can_replace_or_delete_the_message_it_came_from(fake_slack: FakeSlack) -> None:
    web = fake_slack.web_client()
    await web.chat_postMessage(
        channel="C1", text="card", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "card"}}]
    )
    [card] = fake_slack.messages
    async with aiohttp.ClientSession() as http:
        replace = fake_slack.new_response_url("C1", "U1", message_ts=card.ts)
        assert (await http.post(replace, json={"replace_original": True, "text": "done"})).status == 200
        assert card.text == "done" and card.blocks == [] and card.edits == 1 and fake_slack.messages == [card]
        delete = fake_slack.new_response_url("C1", "U1", message_ts=card.ts)
        assert (await http.post(delete, json={"delete_original": True})).status == 200
    assert fake_slack.messages == [] and fake_slack.deleted == [card]
    with pytest.raises(LookupError, match="deleted"):
        await fake_slack.user("U1").presses(SentMessage("C1", card.ts, "x", []), "Anything")


async def test_an_unimplemented_method_fails_the_test_at_teardown() -> None:
    async with FakeSlack() as fake:
        with pytest.raises(SlackApiError, match="unknown_method"):
            await fake.web_client().api_call("chat.scheduleMessage", json={"channel": "C1", "text": "x"})
        with pytest.raises(AssertionError, match=r"chat.scheduleMessage not implemented"):
            fake.check()
