"""Agent assist on the real demo knowledge base: ``Pipeline.suggest`` writes a grounded reply in the shopper's
language with its sources, or nothing when nothing relevant is found; ``Pipeline.hear`` reads without answering."""

from __future__ import annotations

import re

from bot.messages import ConversationRef, Message
from tests.dialogue.conftest import RealEngines, make_pipeline

_HAN = re.compile(r"[\u4e00-\u9fff]")


async def test_a_suggestion_is_grounded_and_in_the_shoppers_language(real_engines: RealEngines) -> None:
    pipeline = make_pipeline(real_engines)
    english = await pipeline.suggest("can I return shoes I wore once?", language_hint="zh")
    assert english is not None and english.language == "en" and not _HAN.search(english.text)
    assert english.sources and all(s.id for s in english.sources)
    chinese = await pipeline.suggest("我想退货，怎么操作？")
    assert chinese is not None and chinese.language == "zh" and _HAN.search(chinese.text)
    assert chinese.sources


async def test_no_suggestion_when_nothing_relevant_is_found(real_engines: RealEngines) -> None:
    pipeline = make_pipeline(real_engines)
    assert await pipeline.suggest("qzx vbnm plorf") is None


async def test_hear_reads_a_message_without_answering_it(real_engines: RealEngines) -> None:
    pipeline = make_pipeline(real_engines)
    seen = await pipeline.hear(Message(ConversationRef("web", "c1"), "u1", text="  where is my parcel  "))
    assert seen.text == "where is my parcel" and seen.language == "en" and seen.quote is None
