"""`[slack.channels.C…] knowledge_base`: the setting, the name each channel's messages carry, the name kept over
a restart, and the engines picking that knowledge base (or the default for a name no longer configured)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.slack import SlackAdapter
from adapters.testing.slack import FakeSlack
from bot.app import build_adapters, check_channels
from bot.app.knowledge import channel_knowledge_bases, locate_named_knowledge_bases
from bot.config import load_settings
from bot.engines import Engines
from bot.errors import ConfigError
from bot.inbox.codec import dump_message, load_message
from bot.messages import ConversationRef, Message
from tests.slack.conftest import Harness, running


def test_channels_from_the_file_and_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kefu.toml").write_text('[slack.channels.C0STAFF]\nknowledge_base = "staff/"\n', encoding="utf-8")
    monkeypatch.setenv("KEFU_SLACK__CHANNELS__G0HR__KNOWLEDGE_BASE", "hr/")
    settings = load_settings()
    assert channel_knowledge_bases(settings) == {"C0STAFF": "staff", "G0HR": "hr"}, "ids upper-cased from the env"


@pytest.mark.parametrize("table", ["[slack.channels.staff]", '[slack.channels."#staff"]', "[slack.channels.U0ANA]"])
def test_a_key_that_is_not_a_channel_id_is_refused(table: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kefu.toml").write_text(f'{table}\nknowledge_base = "staff/"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not a Slack channel id"):
        load_settings()


def test_an_unknown_key_in_a_channel_table_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "kefu.toml").write_text('[slack.channels.C0STAFF]\nknowledgebase = "staff/"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="knowledgebase"):
        load_settings()


def test_a_knowledge_base_that_is_neither_index_nor_sources_names_the_channel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_SLACK__BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("KEFU_SLACK__SIGNING_SECRET", "shh")
    (tmp_path / "notes.exe").write_bytes(b"MZ")
    (tmp_path / "kefu.toml").write_text('[slack.channels.C0STAFF]\nknowledge_base = "notes.exe"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[slack.channels.C0STAFF\] knowledge_base: .*notes.exe"):
        locate_named_knowledge_bases(load_settings())
    with pytest.raises(ConfigError, match=r"\[slack.channels.C0STAFF\]"):
        check_channels(load_settings())  # what `kefu run` and `kefu doctor` check before any model loads


def test_channels_sharing_a_knowledge_base_open_it_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "policies.md").write_text("## Staff returns\n\n90 days.\n", encoding="utf-8")
    monkeypatch.setenv("KEFU_SLACK__CHANNELS__C0STAFF__KNOWLEDGE_BASE", "staff")
    monkeypatch.setenv("KEFU_SLACK__CHANNELS__C0MANAGERS__KNOWLEDGE_BASE", "staff")
    located = locate_named_knowledge_bases(load_settings())
    assert list(located) == ["staff"] and located["staff"].sources == (tmp_path / "staff" / "policies.md",)


def test_the_adapter_is_given_the_channels_knowledge_bases(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEFU_SLACK__BOT_TOKEN", "xoxb-1-abc")
    monkeypatch.setenv("KEFU_SLACK__SIGNING_SECRET", "shh")
    monkeypatch.setenv("KEFU_SLACK__CHANNELS__C0STAFF__KNOWLEDGE_BASE", "staff")
    [adapter] = build_adapters(load_settings(), ["slack"])
    assert isinstance(adapter, SlackAdapter) and adapter._knowledge_bases == {"C0STAFF": "staff"}


@pytest.fixture
async def staff_kb(fake_slack: FakeSlack) -> AsyncIterator[Harness]:
    async with running(fake_slack, knowledge_bases={"C0STAFF": "staff"}) as harness:
        yield harness


async def test_messages_from_the_staff_channel_carry_its_knowledge_base(staff_kb: Harness) -> None:
    user = staff_kb.fake.user("U6001")
    mention = await user.mentions("C0STAFF", "holiday policy?")
    await staff_kb.fake.wait_for_messages("C0STAFF", 1, thread_ts=mention.ts)
    await user.says_in_channel("C0STAFF", "and for part-timers?", thread_ts=mention.ts)
    await user.slash("sick leave?", channel="C0STAFF")
    await user.mentions("C0GENERAL", "opening hours?")
    await user.says("shipping?")
    await staff_kb.fake.wait_until(lambda: len(staff_kb.bot.received) == 5)
    by_text = {m.text: m.knowledge_base for m in staff_kb.bot.received}
    assert by_text == {
        "holiday policy?": "staff",
        "and for part-timers?": "staff",
        "sick leave?": "staff",
        "opening hours?": None,
        "shipping?": None,
    }


def test_the_knowledge_base_name_is_kept_over_a_restart() -> None:
    message = Message(ConversationRef("slack", "C0STAFF:1.2"), "U1", text="holidays?", knowledge_base="staff")
    text, blobs = dump_message(message)
    assert load_message(text, blobs, refetch=_no_refetch).knowledge_base == "staff"
    old_row = text.replace(', "knowledge_base": "staff"', "")
    assert "knowledge_base" not in old_row
    assert load_message(old_row, blobs, refetch=_no_refetch).knowledge_base is None, "rows written before it"


def _no_refetch(*_: Any) -> Any:
    raise AssertionError("nothing to fetch")


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)


class OnePassage:
    """A knowledge base holding one passage, recording the queries it was asked."""

    recommended_min_relevance = 0.3

    def __init__(self, name: str) -> None:
        self.name = name
        self.asked: list[str] = []

    def search(
        self, texts: Sequence[str], vectors: np.ndarray, *, k: int = 5, filters: Any = None
    ) -> list[list[Passage]]:
        self.asked.extend(texts)
        return [[Passage(self.name, self.name, f"from {self.name}", 0.9)] for _ in texts]


class Unused:
    name, dim = "unused", 2

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("not encoded here")

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> Any:
        raise AssertionError("not classified here")


async def test_engines_retrieve_from_the_named_knowledge_base(caplog: pytest.LogCaptureFixture) -> None:
    default, staff = OnePassage("default"), OnePassage("staff")
    engines = Engines(encoder=Unused(), retriever=default, intents=Unused(), retrievers={"staff": staff})
    vector = np.zeros(2, dtype=np.float32)
    try:
        [hit] = await engines.retrieve("holidays?", vector, None, knowledge_base="staff")
        assert hit.id == "staff" and staff.asked == ["holidays?"] and default.asked == []
        [hit] = await engines.retrieve("shipping?", vector, None)
        assert hit.id == "default"
        with caplog.at_level(logging.WARNING, logger="bot.engines"):
            [hit] = await engines.retrieve("old row", vector, None, knowledge_base="hr")
        assert hit.id == "default" and "no knowledge base is named 'hr'" in caplog.text
    finally:
        await engines.aclose()
