"""The hand-off desk in Slack, with the real adapter against the fake Slack and the real desk on SQLite and on
Redis: the ticket message and its updates, the state machine, who may act, thread relays, agent assist,
and bad input."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.testing.slack import FakeSlack
from bot.handoff.base import HandoffError, TicketState
from bot.sessions.base import HandoffState
from tests.slack.desk_harness import HANDOFF, SHOPPER, Desk, open_desk

ANA, BEN, EVE = "U0ANA", "U0BEN", "U0EVE"
"""An operator, a member of the operators' user group, and a colleague who is neither."""


def plain(shown: str | list[str]) -> Any:
    """Slack's text without mrkdwn's bold and code marks, as a reader takes it in."""
    if isinstance(shown, list):
        return [plain(s) for s in shown]
    return shown.replace("`", "").replace("*", "")


@pytest.fixture(params=["sqlite", "redis"])
async def desk(request: pytest.FixtureRequest, fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[Desk]:
    """The desk on either store (its tickets and their Slack links beside them)."""
    fake_slack.usergroups["S0SUPPORT"] = [BEN]
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    async for opened in open_desk(fake_slack, tmp_path, operators=[ANA, "S0SUPPORT"], redis_url=redis_url):
        yield opened


async def test_a_ticket_is_posted_with_what_the_operator_needs(desk: Desk) -> None:
    await desk.open_ticket()
    card = desk.card()
    assert card.channel == HANDOFF and card.edits == 0
    assert "🎫 Ticket #1" in json.dumps(card.blocks, ensure_ascii=False)
    for fact in (
        "Shopper: 4242",
        "Channel: telegram (4242)",
        "Language: en",
        "Intent: human",
        "Reason: escalate: the shopper asked for a person",
        "Summary: asked “where is my parcel 100258?”",
        "kefu: Your order 100258 is on its way.",
        "Shopper: I want to talk to a person",
    ):
        assert fact in plain(card.body), fact
    assert plain(card.context) == ["🟡 Waiting for an operator; kefu keeps answering meanwhile"]
    assert [b[0] for b in card.buttons] == ["🙋 Take over", "✅ Resolve"]


async def test_take_over_reply_and_resolve_follow_the_state_machine(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    await desk.desk.post(ticket_id, "hello? anyone?")
    await desk.desk.post(ticket_id, "Someone will be with you shortly.", author="bot")
    assert plain(desk.thread(card)) == ["🛍️ Shopper: hello? anyone?", "🤖 kefu: Someone will be with you shortly."]
    assert not [m for m in desk.fake.messages if m.ephemeral_to], "no suggestion while nobody owns the ticket"

    assert (await desk.fake.user(ANA).presses(card, "🙋 Take over")).status == 200
    assert (await desk.record.get(ticket_id)).state is TicketState.TAKEN
    session = await desk.record.sessions.load(str(SHOPPER))
    assert session.handoff is HandoffState.HUMAN and session.ticket_id == ticket_id
    assert card.edits == 1 and plain(card.context) == [
        f"🟢 Taken by @{ANA}; kefu is silent, reply in the thread to answer the shopper"
    ]
    assert [b[0] for b in card.buttons] == ["✅ Resolve"]
    assert desk.delivered.texts() == ["A colleague has joined the conversation."]

    reply = await desk.fake.user(ANA).says_in_channel(HANDOFF, "Hi, Ana here. Let me check.", thread_ts=card.ts)
    assert reply.status == 200
    conversation, relayed, key = desk.delivered.replies[-1]
    assert (conversation, relayed.text, relayed.author) == (SHOPPER, "Hi, Ana here. Let me check.", ANA)
    assert key == f"ticket-reply:slack:{HANDOFF}:{reply.ts}", "a redelivery after a restart is sent once"

    await desk.fake.user(ANA).presses(card, "✅ Resolve")
    assert (await desk.record.get(ticket_id)).state is TicketState.RESOLVED
    assert card.edits == 2 and card.buttons == []
    assert plain(card.context) == [f"✅ Resolved by @{ANA}; kefu answers the shopper again"]
    assert desk.delivered.texts()[-1].startswith("Your colleague has closed this conversation.")


async def test_only_operators_may_take_over_resolve_or_reply(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    await desk.fake.user(EVE).presses(card, "🙋 Take over")
    await desk.fake.user(EVE).presses(card, "✅ Resolve")
    assert (await desk.record.get(ticket_id)).state is TicketState.OPEN and card.edits == 0
    refusals = desk.ephemeral(EVE)
    assert len(refusals) == 2 and all("Only kefu's operators" in m.text for m in refusals)

    await desk.fake.user(EVE).says_in_channel(HANDOFF, "I can help!", thread_ts=card.ts)
    assert desk.delivered.replies == [], "a non-operator's thread reply does not reach the shopper"
    assert "did not reach the shopper" in desk.ephemeral(EVE)[-1].text

    stale = copy.deepcopy(card)  # as another operator's client still shows it
    await desk.fake.user(BEN).presses(card, "🙋 Take over")  # an operator through the user group
    assert (await desk.record.get(ticket_id)).operator == BEN
    await desk.fake.user(ANA).presses(stale, "🙋 Take over")
    assert (await desk.record.get(ticket_id)).operator == BEN, "a taken ticket is not taken from its owner"
    assert f"already taken by <@{BEN}>" in desk.ephemeral(ANA)[-1].text
    assert [c.params["usergroup"] for c in desk.fake.calls_to("usergroups.users.list")] == ["S0SUPPORT"], (
        "the group's members are read once and kept"
    )


async def test_agent_assist_suggests_and_sends_with_one_click_or_after_an_edit(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    await desk.fake.user(ANA).presses(card, "🙋 Take over")
    await desk.desk.post(ticket_id, "can I return shoes I wore once?")
    await desk.fake.wait_until(lambda: len(desk.ephemeral(ANA)) == 1)
    [suggestion] = desk.ephemeral(ANA)
    assert suggestion.thread_ts == card.ts and suggestion.via == "chat.postEphemeral"
    assert suggestion.body == "Our returns window is 30 days (can I return shoes I wore once?)"
    assert suggestion.context[-1] == "Sources: Returns & refunds"
    assert [b[0] for b in suggestion.buttons] == ["📤 Send", "✏️ Edit"]

    await desk.fake.user(EVE).presses(suggestion, "📤 Send")
    assert len(desk.delivered.replies) == 1, "only the joined notice: a non-operator cannot send it"

    await desk.fake.user(ANA).presses(suggestion, "📤 Send")
    assert desk.delivered.texts()[-1] == suggestion.body and desk.delivered.replies[-1][1].author == ANA
    assert plain(desk.thread(card)[-1]) == f"@{ANA} sent kefu's suggestion:\n>{suggestion.body}"

    await desk.fake.user(ANA).presses(suggestion, "✏️ Edit")
    [view] = desk.fake.views
    assert view["callback_id"] == "kefu_desk_edit" and view["private_metadata"] == str(ticket_id)
    assert view["blocks"][0]["element"]["initial_value"] == suggestion.body
    empty = await desk.fake.user(ANA).submits(view, {"reply": "  "})
    assert empty.json()["response_action"] == "errors", "an empty reply keeps the modal open"
    done = await desk.fake.user(ANA).submits(view, {"reply": "Yes, within 30 days, if they are clean."})
    assert done.status == 200 and done.body in ("", "null")
    assert desk.delivered.texts()[-1] == "Yes, within 30 days, if they are clean."
    assert len(desk.delivered.replies) == 3


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    ana = desk.fake.user(ANA)
    forged = card.__class__(
        card.channel,
        card.ts,
        card.text,
        [
            {
                "type": "actions",
                "block_id": "x",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "kefu_desk_take",
                        "value": "not-a-ticket",
                        "text": {"type": "plain_text", "text": "Take"},
                    },
                    {
                        "type": "button",
                        "action_id": "kefu_desk_resolve",
                        "value": "999",
                        "text": {"type": "plain_text", "text": "Resolve 999"},
                    },
                    {
                        "type": "button",
                        "action_id": "kefu_desk_send",
                        "value": '{"ticket": true, "text": 5}',
                        "text": {"type": "plain_text", "text": "Send"},
                    },
                    {
                        "type": "button",
                        "action_id": "kefu_desk_bogus",
                        "value": "1",
                        "text": {"type": "plain_text", "text": "Bogus"},
                    },
                ],
            }
        ],
    )
    for label in ("Take", "Resolve 999", "Send", "Bogus"):
        assert (await ana.presses(forged, label)).status == 200
    notes = [m.text for m in desk.ephemeral(ANA)]
    assert notes == [
        "⚠️ 'not-a-ticket' is not a ticket",
        "⚠️ ticket 999 not found",
        "⚠️ that button carries no suggestion",
        "⚠️ unknown desk button 'kefu_desk_bogus'",
    ]
    assert (await desk.record.get(ticket_id)).state is TicketState.OPEN and desk.delivered.replies == []

    await ana.says_in_channel(HANDOFF, "a reply in a thread that is no ticket", thread_ts="1.000001")
    await ana.says_in_channel(HANDOFF, "a message outside any thread")
    assert desk.delivered.replies == []

    await ana.presses(card, "✅ Resolve")
    await ana.says_in_channel(HANDOFF, "one more thing", thread_ts=card.ts)
    assert desk.delivered.texts()[-1].startswith("Your colleague has closed"), "nothing after resolving"
    assert "is resolved; the shopper is talking to the bot again" in desk.ephemeral(ANA)[-1].text
    with pytest.raises(HandoffError):
        await desk.desk.take(ticket_id, operator=ANA)


async def test_a_redelivered_thread_reply_reaches_the_shopper_once(desk: Desk) -> None:
    await desk.open_ticket()
    card = desk.card()
    ana = desk.fake.user(ANA)
    event = ana.message("On its way!", channel=HANDOFF, channel_type="channel", thread_ts=card.ts)
    first = await desk.fake.post_event(event)
    await desk.fake.post_event(event, event_id=first.event_id, retry_num=1)
    assert desk.delivered.texts().count("On its way!") == 1
    await desk.fake.post_event(event)  # the same message under a new event id, as after a restart
    keys = [key for _, reply, key in desk.delivered.replies if reply.text == "On its way!"]
    assert len(set(keys)) == 1, "the runtime's outbox queues one key once"


async def test_a_ticket_opened_while_slack_failed_is_posted_when_the_desk_catches_up(desk: Desk) -> None:
    desk.fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
    ticket_id = await desk.open_ticket()
    assert not [m for m in desk.fake.messages_in(HANDOFF)], "the ticket is kept; Slack did not take its message"
    await desk.front.resync(desk.record)
    assert desk.card(ticket_id).buttons[0][0] == "🙋 Take over"
    await desk.front.resync(desk.record)
    assert len(desk.fake.calls_to("chat.postMessage")) == 2 and desk.card(ticket_id).edits == 0, (
        "a ticket already shown is not posted again, nor updated while nothing changed"
    )


async def test_a_shopper_message_handled_again_after_a_crash_is_in_the_thread_once(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    await desk.desk.post(ticket_id, "first", key="m1")
    await desk.desk.post(ticket_id, "first", key="m1")  # handled again: posted and noted before the crash
    await desk.links.mark(ticket_id, "m1", "begun")  # the crash came after Slack took it, before kefu noted it
    await desk.desk.post(ticket_id, "first", key="m1")
    await desk.links.mark(ticket_id, "m2", "begun")  # the crash came before Slack took it
    await desk.desk.post(ticket_id, "second", key="m2")
    assert plain(desk.thread(card)) == ["🛍️ Shopper: first", "🛍️ Shopper: second"]
    assert [m.text for m in await desk.record.messages(ticket_id)][-2:] == ["first", "second"], (
        "the ticket keeps each keyed message once"
    )
    assert len(desk.fake.calls_to("conversations.replies")) == 2, "the thread is read only when in doubt"


async def test_a_move_stands_when_slack_refuses_to_show_it(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    desk.fake.fail_next("chat.update", status=500, times=5)
    assert (await desk.fake.user(ANA).presses(card, "🙋 Take over")).status == 200
    assert (await desk.record.get(ticket_id)).state is TicketState.TAKEN and card.edits == 0
    assert desk.delivered.texts() == ["A colleague has joined the conversation."]
    await desk.front.resync(desk.record)
    assert card.edits == 1 and "Taken" in card.context[-1], "the message catches up"

    await desk.desk.post(ticket_id, "can I return shoes?")
    await desk.fake.wait_until(lambda: len(desk.ephemeral(ANA)) == 1)
    desk.fake.fail_next("views.open", status=200, error="expired_trigger_id")
    assert (await desk.fake.user(ANA).presses(desk.ephemeral(ANA)[0], "✏️ Edit")).status == 200
    assert desk.ephemeral(ANA)[-1].text == "⚠️ Slack did not take that just now; please try again."


async def test_forgetting_a_shopper_deletes_their_tickets_links(desk: Desk) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    assert await desk.links.of_ticket(ticket_id) is not None
    assert await desk.desk.forget_user("4242") == 1
    assert await desk.links.of_ticket(ticket_id) is None and await desk.links.at(HANDOFF, card.ts) is None
    await desk.fake.user(ANA).says_in_channel(HANDOFF, "still there?", thread_ts=card.ts)
    assert desk.delivered.replies == [], "a thread of a forgotten ticket relays nothing"


async def test_moves_made_from_a_terminal_while_kefu_runs_show_in_slack(desk: Desk) -> None:
    """`kefu handoff take/resolve` works on the desk of record from another process; the running desk notices."""
    ticket_id = await desk.open_ticket()
    card = desk.card()
    following = asyncio.create_task(desk.desk.run_outbox())
    try:
        await desk.record.take(ticket_id, operator="ana@terminal")
        await desk.fake.wait_until(lambda: card.edits == 1)
        assert "Taken" in card.context[-1] and "ana@terminal" in card.context[-1]
        assert [b[0] for b in card.buttons] == ["✅ Resolve"]
        await asyncio.sleep(0.3)  # several rounds of looking: nothing changed, nothing updated
        assert card.edits == 1 and len(desk.fake.calls_to("chat.update")) == 1

        await desk.record.resolve(ticket_id, operator="ana@terminal")
        await desk.fake.wait_until(lambda: card.edits == 2)
        assert "Resolved" in card.context[-1] and card.buttons == []
        await asyncio.sleep(0.3)
        assert card.edits == 2, "a resolved ticket is followed no further"
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert following.cancelled()


async def test_following_survives_a_store_or_slack_failure(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    ticket_id = await desk.open_ticket()
    card = desk.card()
    desk.fake.fail_next("chat.update", status=500, times=5)
    await desk.record.take(ticket_id, operator=ANA)
    following = asyncio.create_task(desk.desk.run_outbox())
    try:
        await desk.fake.wait_until(lambda: card.edits == 1, timeout=10)
        assert "Taken" in card.context[-1]
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
    assert "could not be brought up to date" in caplog.text
