"""The composition root: a third-party channel found by entry point, served by the whole bot, with metrics."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import aiohttp
import pytest

from adapters.base import load_adapter_factory
from bot.app import Kefu
from bot.config import Settings

PLUGIN = '''
import asyncio
from adapters.base import Adapter
from bot.messages import ConversationRef, Message

class LoopAdapter(Adapter):
    """A third-party channel kept in memory: tests say things into it and read what the bot sent."""

    name = "loop"

    def __init__(self, *, settings=None):
        self.outbox = asyncio.Queue()
        self.dispatch = None
        self.stopped = 0

    async def start(self, dispatch):
        self.dispatch = dispatch

    async def say(self, text, n):
        await self.dispatch(Message(ConversationRef("loop", "c1"), user_id="u1", text=text, message_id=str(n)))

    async def send(self, conversation, reply):
        await self.outbox.put(reply)

    async def stop(self):
        self.stopped += 1
'''


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution on sys.path that registers ``loop`` under the ``kefu.adapters`` entry-point group."""
    (tmp_path / "kefu_loop_channel.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "kefu_loop_channel-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kefu-loop-channel\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""
            [kefu.adapters]
            loop = kefu_loop_channel:LoopAdapter
        """),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_unknown_channel_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="no adapter named 'nope' is installed"):
        load_adapter_factory("nope")


@pytest.mark.slow
async def test_entry_point_channel_runs_through_the_whole_bot(
    installed_plugin: None, demo_settings: Settings, demo_components
) -> None:
    settings = demo_settings.model_copy(update={"http": demo_settings.http.model_copy(update={"port": 0})})
    bot = Kefu(settings, demo_components, channels=["loop"])
    [adapter] = bot.adapters
    assert type(adapter).__name__ == "LoopAdapter"
    await bot.start()
    try:
        await adapter.say("how long do I have to return shoes?", 1)
        await adapter.say("how long do I have to return shoes?", 1)  # a duplicate delivery: dropped
        await adapter.say("我要找人工", 2)
        answer = await asyncio.wait_for(adapter.outbox.get(), 30)
        escalated = await asyncio.wait_for(adapter.outbox.get(), 30)
        assert "30 days" in answer.text and answer.sources
        assert escalated.escalated and escalated.language == "zh"
        assert adapter.outbox.empty()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{bot.http.url}/healthz") as response:
                assert (await response.json())["channels"] == ["loop"]
            async with http.get(f"{bot.http.url}/metrics") as response:
                metrics = await response.text()
        assert 'kefu_messages_total{channel="loop"} 2.0' in metrics  # the duplicate is not a turn
        assert 'kefu_replies_total{action="answer",channel="loop"} 1.0' in metrics
        assert 'kefu_replies_total{action="escalate",channel="loop"} 1.0' in metrics
        assert 'kefu_stage_seconds_count{stage="retrieve"}' in metrics
        assert 'kefu_batch_items_total{engine="encode"}' in metrics
    finally:
        await bot.stop()
    assert adapter.stopped == 1
