"""The Slack channel on the real bot (`kefu run`'s app on the demo store, Whisper on CPU) against the fake Slack."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.testing.slack import FakeSlack
from bot.app import Components, Kefu, build_transcriber
from bot.config import Settings, SlackSettings
from tests.conftest import spoken_wav

pytestmark = pytest.mark.slow


@pytest.fixture
async def running_bot(
    demo_settings: Settings, demo_components: Components, fake_slack: FakeSlack
) -> AsyncIterator[Kefu]:
    """The app `kefu run` starts with KEFU_SLACK__* pointing at the fake, on a free port."""
    slack = SlackSettings(
        bot_token=SecretStr(fake_slack.bot_token),
        api_base=fake_slack.base_url,
        signing_secret=SecretStr(fake_slack.signing_secret),
    )
    settings = demo_settings.model_copy(
        update={"http": demo_settings.http.model_copy(update={"port": 0}), "slack": slack}
    )
    components = dataclasses.replace(demo_components, transcriber=build_transcriber(settings))
    bot = Kefu(settings, components, channels=["slack"])
    await bot.start()
    assert bot.http is not None
    fake_slack.events_url = f"{bot.http.url}/slack/events"
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def spoken_question(tmp_path: Path) -> bytes:
    """A WAV of a colleague asking about returns, as a Slack audio clip would carry it."""
    return spoken_wav("How long do I have to return shoes?", tmp_path / "question.wav").read_bytes()


async def test_mention_and_audio_clip_get_the_returns_policy(
    running_bot: Kefu, fake_slack: FakeSlack, spoken_question: bytes
) -> None:
    user = fake_slack.user("U4001")
    mention = await user.mentions("C0SUPPORT", "how long do I have to return shoes?")
    [answer] = await fake_slack.wait_for_messages("C0SUPPORT", 1, thread_ts=mention.ts, timeout=60)
    assert "30 days" in answer.body
    assert answer.context and answer.context[-1].startswith("Sources:")

    clip = fake_slack.add_file(spoken_question, name="audio_message.wav", mimetype="audio/wav", subtype="slack_audio")
    assert (await user.says("", files=[clip])).status == 200
    [spoken] = await fake_slack.wait_for_messages(user.dm_channel, 1, timeout=120)
    assert "return" in spoken.context[0].lower(), "the transcript is quoted above the answer"
    assert "30 days" in spoken.body
    assert fake_slack.served[clip["id"]] == len(spoken_question), "downloaded with the bot token"
