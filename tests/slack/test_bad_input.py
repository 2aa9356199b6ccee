"""Bad requests to /slack/events: a clear status, one warning line, nothing half-done; a failed dispatch is not
acknowledged, so Slack's retry is answered (once)."""

from __future__ import annotations

import json
import logging

import pytest

from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.messages import Message
from bot.outbound import Channels
from bot.runtime import Runtime
from tests.slack.conftest import EchoBot, Harness, serve

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _event(event: dict[str, object], event_id: str) -> bytes:
    return json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T0KEFU", "event": event}).encode()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json", JSON),
        (b"payload=%7Bnot-json", FORM),
        (b"[" * 5000 + b"]" * 5000, JSON),
    ],
)
async def test_signed_but_unreadable_bodies_get_400(
    slack: Harness, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.slack"):
        delivery = await slack.fake.post("bad", body, content_type)
    assert delivery.status == 400 and delivery.json() == {"ok": False, "error": "malformed request"}
    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("adapters.slack")]
    assert "was not readable" in line


@pytest.mark.parametrize("event", [["a", "list"], "a string", 7, {"type": 7, "user": "U1"}])
async def test_a_signed_event_that_is_not_an_object_gets_400_without_a_traceback(
    slack: Harness, event: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzz suite: bolt's own middleware read ``event`` as an object and logged a traceback."""
    body = json.dumps({"type": "event_callback", "event_id": "Ev0SHAPE", "team_id": "T0KEFU", "event": event})
    with caplog.at_level(logging.WARNING):
        delivery = await slack.fake.post("event_callback", body.encode(), JSON)
    assert delivery.status == 400 and delivery.json() == {"ok": False, "error": "malformed request"}
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert any("event that is not an object" in r.getMessage() for r in caplog.records)


async def test_an_event_id_that_is_not_a_string_is_acknowledged_and_dropped(
    slack: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzz suite: a list as ``event_id`` reached the retry filter's set and raised there."""
    event = {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "text": "hi", "ts": "1.000009"}
    body = json.dumps({"type": "event_callback", "event_id": ["Ev0"], "team_id": "T0KEFU", "event": event})
    with caplog.at_level(logging.WARNING):
        delivery = await slack.fake.post("event_callback", body.encode(), JSON)
    assert delivery.status == 200
    assert not [r for r in caplog.records if r.exc_info], "no traceback"
    assert any("malformed message event" in r.getMessage() and "event_id" in r.getMessage() for r in caplog.records)


async def test_unsigned_garbage_is_401_before_it_is_parsed(slack: Harness) -> None:
    assert (await slack.fake.post("bad", b"[" * 5000, JSON, secret=None)).status == 401


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "channel_type": "im", "user": "U1", "ts": "1.000001"},
        {"type": "app_mention", "user": "U1", "text": "<@UKEFUBOT> hi", "ts": "1.000002"},
        {"type": "message", "channel_type": "im", "user": "U1", "channel": "D1", "ts": "not-a-ts"},
    ],
)
async def test_malformed_events_are_acknowledged_and_dropped(
    slack: Harness, event: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapters.slack"):
        delivery = await slack.fake.post("event_callback", _event(event, "Ev0BAD"), JSON)
    assert delivery.status == 200, "a retry would fail the same way"
    assert any("malformed" in r.getMessage() for r in caplog.records)
    assert slack.bot.received == []


async def test_a_command_or_press_without_channel_or_user(slack: Harness) -> None:
    command = await slack.fake.post("slash_command", b"command=/kefu&text=hi", FORM)
    assert command.status == 200 and "/kefu" in command.body
    press = {"type": "block_actions", "actions": [{"action_id": "kefu_quick_0", "value": "x"}]}
    assert (await slack.fake.block_action(press)).status == 200
    assert slack.bot.received == []


async def test_an_unannounced_size_of_the_wrong_type_is_ignored(slack: Harness) -> None:
    info = slack.fake.add_file(b"OggS" + b"o" * 99, name="clip.ogg", mimetype="audio/ogg") | {"size": "big"}
    user = slack.fake.user("U5001")
    await user.says("", files=[info])
    [answer] = await slack.fake.wait_for_messages(user.dm_channel, 1)
    assert answer.body == "audio 103 bytes audio/ogg"


async def test_a_failed_dispatch_is_not_acked_and_the_retry_is_answered_once(fake_slack: FakeSlack) -> None:
    bot, channels = EchoBot(), Channels()
    runtime = Runtime(bot.handle, outbound=channels)
    failures = [RuntimeError("the inbox is unavailable")]

    async def flaky(message: Message) -> bool:
        if failures:
            raise failures.pop()
        return await runtime.dispatch(message)

    adapter = SlackAdapter(
        bot_token=fake_slack.bot_token, signing_secret=fake_slack.signing_secret, api_base=fake_slack.base_url
    )
    channels.add(adapter)
    runner, fake_slack.events_url = await serve(adapter)
    await adapter.start(flaky)
    try:
        user = fake_slack.user("U5002")
        event = user.message("keep me", channel=user.dm_channel, channel_type="im")
        assert (await fake_slack.post_event(event, event_id="Ev0FLAKY")).status == 500
        assert (await fake_slack.post_event(event, event_id="Ev0FLAKY", retry_num=1)).status == 200
        assert (await fake_slack.post_event(event, event_id="Ev0FLAKY", retry_num=2)).status == 200
        [answer] = await fake_slack.wait_for_messages(user.dm_channel, 1)
        await fake_slack.wait_quiet(0.2)
        assert answer.body == "echo: keep me" and len(fake_slack.messages_in(user.dm_channel)) == 1
    finally:
        await runtime.stop(drain_timeout_s=2.0)
        await adapter.stop()
        await runner.cleanup()
