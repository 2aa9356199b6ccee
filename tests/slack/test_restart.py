"""A Slack message kept in the durable inbox over a restart is answered after it, its file fetched again by id."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.inbox.sqlite import SqliteInbox
from bot.messages import Message, Reply
from bot.outbound import Channels
from bot.runtime import Runtime
from bot.sessions.sqlite import Database
from tests.slack.conftest import EchoBot, serve


async def _stuck(_: Message) -> Reply:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def test_an_audio_clip_accepted_before_a_restart_is_answered_after_it(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    clip = fake_slack.add_file(
        b"OggS" + bytes(range(256)) * 8, name="audio_message.ogg", mimetype="audio/ogg", subtype="slack_audio"
    )
    user = fake_slack.user("U6001")

    db = await Database.open(tmp_path / "store.sqlite3")
    inbox = SqliteInbox(db)
    await inbox.setup()
    adapter = SlackAdapter(
        bot_token=fake_slack.bot_token, signing_secret=fake_slack.signing_secret, api_base=fake_slack.base_url
    )
    channels = Channels()
    channels.add(adapter)
    runtime = Runtime(_stuck, outbound=channels, inbox=inbox)
    runner, fake_slack.events_url = await serve(adapter)
    await adapter.start(runtime.dispatch)
    assert (await user.says("", files=[clip])).status == 200
    await runtime.stop(drain_timeout_s=0.1)  # the process goes away mid-turn
    await adapter.stop()
    await runner.cleanup()
    await db.close()
    assert fake_slack.messages == [] and fake_slack.served[clip["id"]] == 0

    db = await Database.open(tmp_path / "store.sqlite3")
    inbox = SqliteInbox(db)
    await inbox.setup()
    adapter = SlackAdapter(
        bot_token=fake_slack.bot_token, signing_secret=fake_slack.signing_secret, api_base=fake_slack.base_url
    )
    bot, channels = EchoBot(), Channels()
    channels.add(adapter, live=False)
    runtime = Runtime(bot.handle, outbound=channels, inbox=inbox)
    try:
        assert await runtime.resume() == 1, "resumed before the channel starts, as kefu run does"
        runner, fake_slack.events_url = await serve(adapter)
        await adapter.start(runtime.dispatch)
        channels.go_live(adapter.name)
        [answer] = await fake_slack.wait_for_messages(user.dm_channel, 1)
        assert answer.body == "voice 2052 bytes audio/ogg"
        assert [c.params["file"] for c in fake_slack.calls_to("files.info")] == [clip["id"]]
    finally:
        await runtime.stop(drain_timeout_s=2.0)
        await adapter.stop()
        await runner.cleanup()
        await db.close()
