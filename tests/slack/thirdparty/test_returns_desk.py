"""What a shopper and the returns team see in the returns desk app, over the Events API and over Socket Mode."""

from __future__ import annotations

import pytest

from adapters.testing.slack import FakeSlack
from tests.slack.thirdparty.returns_desk import RETURNS_CHANNEL, build_app
from tests.slack.thirdparty.running import serving

ANA, TEAM = "U1001", "U2001"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_a_return_from_form_to_approval(fake_slack: FakeSlack, transport: str) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana = fake_slack.user(ANA, real_name="Ana Lima")
    async with serving(fake_slack, app, transport=transport):
        await ana.slash("", command="/return", channel="C0GENERAL")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
        [opening] = fake_slack.messages_in("C0GENERAL")
        assert (opening.body, opening.ephemeral_to, opening.via) == ("Opening the return form…", ANA, "ack")
        form = fake_slack.modal(ANA)
        assert form["title"]["text"] == "Return an item"

        refused = await ana.submits(form, {"order_input": "123"})
        assert refused.json()["response_action"] == "errors"
        assert fake_slack.view_errors[form["id"]] == {
            "order": "No order with that number; it has five digits.",
            "reason": "Please choose a reason.",
        }
        assert fake_slack.modal(ANA)["id"] == form["id"], "the form stays open with its errors"

        await ana.submits(form, {"order_input": "10002", "reason_select": "size"})
        [card] = await fake_slack.wait_for_messages(RETURNS_CHANNEL, 1)
        assert fake_slack.modals(ANA) == [] and form["id"] not in fake_slack.view_errors
        assert card.body == "@U1001 wants to return *Rain jacket* (10002): Wrong size"
        assert [label for label, _, _ in card.buttons] == ["Approve", "Reject"]
        [receipt] = await fake_slack.wait_for_messages(ANA, 1)
        assert receipt.body == "We got your return request for 10002."

        await fake_slack.user(TEAM).presses(card, "Approve")
        await fake_slack.wait_until(lambda: bool(fake_slack.reactions))
        assert card.body == "Return of 10002 approved by @U2001." and card.buttons == [] and card.edits == 1
        assert fake_slack.reactions == {(RETURNS_CHANNEL, card.ts): ["white_check_mark"]}
        assert len(fake_slack.messages_in(RETURNS_CHANNEL)) == 1, "the answer replaced the card"


async def test_checking_the_order_and_the_help_view(fake_slack: FakeSlack) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana = fake_slack.user(ANA)
    async with serving(fake_slack, app):
        await ana.slash("for order 10001 please", command="/return")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
        form = fake_slack.modal(ANA)
        assert form["blocks"][0]["element"]["initial_value"] == "10001"
        first_hash = form["hash"]

        await ana.presses(form, "Check order")
        await fake_slack.wait_until(lambda: fake_slack.modal(ANA)["hash"] != first_hash)
        checked = fake_slack.modal(ANA)
        assert (
            checked["id"] == form["id"] and checked["blocks"][-1]["elements"][0]["text"] == "Order 10001: *Linen shirt*"
        )

        await ana.presses(checked, "Help")
        await fake_slack.wait_until(lambda: len(fake_slack.modals(ANA)) == 2)
        help_view = fake_slack.modal(ANA)
        assert help_view["title"]["text"] == "Returns help" and help_view["previous_view_id"] == form["id"]
        assert await ana.closes(help_view) is None  # no notify_on_close: the app is not told
        assert fake_slack.modal(ANA)["id"] == form["id"], "Back shows the form again"
    assert [c.error for c in fake_slack.calls_to("views.update")] == [None]


async def test_rejecting_asks_why_and_edits_the_card(fake_slack: FakeSlack) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana, team = fake_slack.user(ANA), fake_slack.user(TEAM)
    async with serving(fake_slack, app):
        await ana.slash("10001", command="/return")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
        await ana.submits(fake_slack.modal(ANA), {"order_input": "10001", "reason_select": "damaged"})
        [card] = await fake_slack.wait_for_messages(RETURNS_CHANNEL, 1)
        await team.presses(card, "Reject")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(TEAM)))
        await team.submits(fake_slack.modal(TEAM), {"why_input": "Worn, with the tags cut off."})
        await fake_slack.wait_for_messages(ANA, 2)
    assert card.text == "Return of 10001 rejected: Worn, with the tags cut off." and card.blocks == []
    assert (
        fake_slack.messages_in(ANA)[-1].body == "Sorry, your return of 10001 was rejected: Worn, with the tags cut off."
    )


async def test_the_message_shortcut_fills_in_the_order(fake_slack: FakeSlack) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana = fake_slack.user(ANA)
    async with serving(fake_slack, app):
        await ana.says_in_channel("C0GENERAL", "my parcel 10002 came torn")
        [said] = [m for m in fake_slack.history if m["channel"] == "C0GENERAL"]
        await ana.uses_message_shortcut(said, "return_this")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
    assert fake_slack.modal(ANA)["blocks"][0]["element"]["initial_value"] == "10002"


async def test_an_old_trigger_cannot_open_a_view(fake_slack: FakeSlack) -> None:
    """Slack's trigger rules, as the app's views_open meets them."""
    web = fake_slack.web_client()
    fake_slack.user(ANA)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    trigger = fake_slack.new_trigger_id(ANA)
    assert (await web.views_open(trigger_id=trigger, view=view))["ok"]
    for bad, error in ((trigger, "exchanged_trigger_id"), ("12.34.nothing", "invalid_trigger_id")):
        with pytest.raises(Exception, match=error):
            await web.views_open(trigger_id=bad, view=view)
    fake_slack.trigger_ttl_s = 0.0
    with pytest.raises(Exception, match="expired_trigger_id"):
        await web.views_open(trigger_id=fake_slack.new_trigger_id(ANA), view=view)
