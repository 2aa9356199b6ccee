"""What a member sees on the team app's Home tab, in its request form and in their DMs."""

from __future__ import annotations

import pytest

from adapters.testing.slack import FakeSlack
from tests.slack.thirdparty.running import serving
from tests.slack.thirdparty.team_home import Store, build_app

ANA = "U1001"


async def test_home_tab_form_and_dm(fake_slack: FakeSlack) -> None:
    store = Store()
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret, store=store)
    ana = fake_slack.user(ANA, real_name="Ana Lima")
    async with serving(fake_slack, app):
        await ana.opens_home()
        await fake_slack.wait_until(lambda: ANA in fake_slack.home_tabs)
        home = fake_slack.home_tabs[ANA]
        assert [b["text"]["text"] for b in home["blocks"][:2]] == ["*Welcome, Ana!*", "No open requests."]

        await ana.presses(home, "New request")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
        form = fake_slack.modal(ANA)
        short = await ana.submits(form, {"what_input": "pen"})
        assert short.json() == {
            "response_action": "errors",
            "errors": {"what": "Tell us a little more (5 characters at least)."},
        }
        await ana.submits(form, {"what_input": "A second monitor"})
        [done] = fake_slack.modals(ANA)
        assert done["id"] == form["id"] and done["title"]["text"] == "Filed"
        assert done["blocks"][0]["text"]["text"] == "Filed: A second monitor"
        [dm] = await fake_slack.wait_for_messages(ana.dm_channel, 1)
        assert dm.body == "Your request is filed: A second monitor"

        old_hash = home["hash"]
        await ana.presses(home, "Refresh")
        await fake_slack.wait_until(lambda: fake_slack.home_tabs[ANA]["hash"] != old_hash)
        assert fake_slack.home_tabs[ANA]["blocks"][1]["text"]["text"] == "• A second monitor"
        assert fake_slack.home_tabs[ANA]["id"] == home["id"], "Home keeps its view id"


async def test_the_shortcut_opens_the_form_and_closing_it_is_heard(fake_slack: FakeSlack) -> None:
    store = Store()
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret, store=store)
    ana = fake_slack.user(ANA)
    async with serving(fake_slack, app):
        await ana.uses_shortcut("new_request")
        await fake_slack.wait_until(lambda: bool(fake_slack.modals(ANA)))
        closed = await ana.closes(fake_slack.modal(ANA))
        assert closed is not None and closed.status == 200
    assert fake_slack.modals(ANA) == [] and store.cancelled == [ANA]


async def test_a_stale_hash_is_refused(fake_slack: FakeSlack) -> None:
    web = fake_slack.web_client()
    fake_slack.user(ANA)
    first = await web.views_publish(user_id=ANA, view={"type": "home", "blocks": []})
    await web.views_publish(user_id=ANA, view={"type": "home", "blocks": []}, hash=first["view"]["hash"])
    with pytest.raises(Exception, match="hash_conflict"):
        await web.views_publish(user_id=ANA, view={"type": "home", "blocks": []}, hash=first["view"]["hash"])
    with pytest.raises(Exception, match="user_not_found"):
        await web.users_info(user="U9999")
