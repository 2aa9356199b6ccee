"""What a channel sees from the incident triage app: thread replies, reactions, edits, deletions, a private digest."""

from __future__ import annotations

import pytest

from adapters.testing.slack import FakeSlack
from tests.slack.thirdparty.running import serving
from tests.slack.thirdparty.triage import build_app

OPS, ANA, BEN = "C0OPS", "U1001", "U1002"


@pytest.mark.parametrize("transport", ["http", "socket"])
async def test_an_incident_is_noted_in_its_thread_and_resolved_by_a_reaction(
    fake_slack: FakeSlack, transport: str
) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana, ben = fake_slack.user(ANA), fake_slack.user(BEN)
    async with serving(fake_slack, app, transport=transport):
        await ana.says_in_channel(OPS, "checkout is down again")
        report = fake_slack.history[-1]
        [note] = await fake_slack.wait_for_messages(OPS, 1, thread_ts=report["ts"])
        assert note.body == "Incident noted: _checkout is down again_"
        await fake_slack.wait_until(lambda: bool(fake_slack.reactions))
        assert fake_slack.reactions == {(OPS, report["ts"]): ["rotating_light"]}

        await ben.reacts(OPS, note.ts, "thumbsup")
        await ben.reacts(OPS, note.ts, "white_check_mark")
        await fake_slack.wait_until(lambda: note.edits == 1)
    assert note.text == "Resolved by <@U1002>: checkout is down again" and note.blocks == []


async def test_files_get_eyes_and_the_delete_button_removes_the_note(fake_slack: FakeSlack) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana = fake_slack.user(ANA)
    async with serving(fake_slack, app):
        shot = fake_slack.add_file(b"\x89PNG fake", name="graph.png", mimetype="image/png")
        await fake_slack.post_event(ana.message("graph", channel=OPS, channel_type="channel", files=[shot]))
        await fake_slack.wait_until(lambda: bool(fake_slack.reactions))
        assert list(fake_slack.reactions.values()) == [["eyes"]]

        await ana.says_in_channel(OPS, "we get 500s on login")
        [note] = await fake_slack.wait_for_messages(OPS, 1)
        await ana.presses(note, "Delete")
        await fake_slack.wait_until(lambda: fake_slack.deleted == [note])
    assert fake_slack.messages_in(OPS) == [] and all(m["ts"] != note.ts for m in fake_slack.history)
    with pytest.raises(LookupError, match="deleted"):
        await ana.presses(note, "Delete")


async def test_digest_answers_privately_with_the_channel_history(fake_slack: FakeSlack) -> None:
    app = build_app(client=fake_slack.web_client(), signing_secret=fake_slack.signing_secret)
    ana, ben = fake_slack.user(ANA), fake_slack.user(BEN)
    fake_slack.channel_names[OPS] = "ops"
    async with serving(fake_slack, app):
        await ana.says_in_channel(OPS, "deploy at 3")
        await ben.says_in_channel(OPS, "ok")
        await ben.slash("", command="/digest", channel=OPS)
        [digest] = await fake_slack.wait_for_messages(OPS, 1)
    assert digest.ephemeral_to == BEN and digest.via == "response_url"
    assert digest.body == "#ops: 2 messages lately\n• deploy at 3\n• ok"
