"""Socket Mode: with an app-level token the adapter opens a WebSocket (apps.connections.open) and serves no route."""

from __future__ import annotations

from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.outbound import Channels
from bot.runtime import Runtime
from tests.slack.conftest import EchoBot


async def test_socket_mode_event_is_acked_and_answered(fake_slack: FakeSlack) -> None:
    adapter = SlackAdapter(bot_token=fake_slack.bot_token, app_token=fake_slack.app_token, api_base=fake_slack.base_url)
    assert list(adapter.routes()) == []
    bot, channels = EchoBot(), Channels()
    runtime = Runtime(bot.handle, outbound=channels)
    channels.add(adapter)
    await adapter.start(runtime.dispatch)
    try:
        assert len(fake_slack.calls_to("apps.connections.open")) == 1, "connected with the app-level token"
        user = fake_slack.user("U3001")
        envelope = await fake_slack.socket_event(
            user.message("over the socket", channel=user.dm_channel, channel_type="im")
        )
        await fake_slack.wait_until(lambda: envelope in fake_slack.socket_acks)
        [answer] = await fake_slack.wait_for_messages(user.dm_channel, 1)
        assert answer.body == "echo: over the socket"
    finally:
        await runtime.stop(drain_timeout_s=2.0)
        await adapter.stop()
