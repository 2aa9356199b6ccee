"""A Slack channel with its own knowledge base, on the real bot (`kefu run`'s app, the demo store as the default
knowledge base and a tiny staff one built here) against the fake Slack."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from adapters.testing.slack import FakeSlack
from bot.app import Components, Kefu
from bot.app.knowledge import locate_named_knowledge_bases
from bot.config import Settings, SlackChannelSettings, SlackSettings

pytestmark = pytest.mark.slow

STAFF_POLICIES = """# Staff policies

## Staff returns

Employees may return shoes within 90 days of purchase with their staff card, at any Lumen & Loom store.
"""


@pytest.fixture
async def running_bot(
    demo_settings: Settings, demo_components: Components, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[Kefu]:
    """`kefu run` with `[slack.channels.C0STAFF] knowledge_base = "<tmp>/staff"`."""
    staff = tmp_path / "staff"
    staff.mkdir()
    (staff / "policies.md").write_text(STAFF_POLICIES, encoding="utf-8")
    slack = SlackSettings(
        bot_token=SecretStr(fake_slack.bot_token),
        api_base=fake_slack.base_url,
        signing_secret=SecretStr(fake_slack.signing_secret),
        channels={"C0STAFF": SlackChannelSettings(knowledge_base=staff)},
    )
    settings = demo_settings.model_copy(
        update={
            "http": demo_settings.http.model_copy(update={"port": 0}),
            "slack": slack,
            "data_dir": tmp_path / "data",
        }
    )
    located = locate_named_knowledge_bases(settings)
    named = {name: where.open(encoder=demo_components.encoder, device="cpu") for name, where in located.items()}
    assert list(named) == [str(staff)]
    bot = Kefu(settings, dataclasses.replace(demo_components, knowledge_bases=named), channels=["slack"])
    await bot.start()
    assert bot.http is not None
    fake_slack.events_url = f"{bot.http.url}/slack/events"
    try:
        yield bot
    finally:
        await bot.stop()


async def test_the_staff_channel_answers_from_its_knowledge_base_and_a_dm_from_the_default(
    running_bot: Kefu, fake_slack: FakeSlack
) -> None:
    user = fake_slack.user("U5001")
    question = "how long do staff have to return shoes?"
    mention = await user.mentions("C0STAFF", question)
    [staff] = await fake_slack.wait_for_messages("C0STAFF", 1, thread_ts=mention.ts, timeout=60)
    assert "90 days" in staff.body and "30 days" not in staff.body
    assert "Staff returns" in staff.context[-1], "the staff knowledge base is the source"

    await user.says(question)
    [default] = await fake_slack.wait_for_messages(user.dm_channel, 1, timeout=60)
    assert "30 days" in default.body and "90 days" not in default.body
    assert "Staff" not in default.context[-1]
