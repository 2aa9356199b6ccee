"""The OpenAI-compatible backend against a loopback fake server (JSON, SSE, faults), end to end too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.generation.base import GenerationRequest
from bot.generation.grounded import GroundedGenerator
from bot.generation.openai_compat import OpenAICompatibleGenerator
from bot.generation.prompting import build_messages, check_answer
from tests.dialogue.openai_fake import FakeOpenAI


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str
    score: float
    metadata: dict[str, Any] = field(default_factory=dict)


PASSAGES = (
    Passage(
        "faq-en-returns-window",
        "How long do I have to return an item?",
        "Most items can be returned within 30 days.",
        0.9,
    ),
    Passage("faq-en-returns-shoes", "Can I return shoes?", "Shoes can be returned within 30 days if unworn.", 0.8),
)
REQUEST = GenerationRequest(question="How long can I return things?", language="en", passages=PASSAGES)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.stop()


def generator(fake: FakeOpenAI, **options: Any) -> OpenAICompatibleGenerator:
    return OpenAICompatibleGenerator(
        base_url=fake.base_url, model="fake-model", fallback=GroundedGenerator(), **({"timeout_s": 2.0} | options)
    )


@pytest.mark.parametrize("stream", [False, True])
async def test_a_grounded_cited_answer_is_accepted(fake: FakeOpenAI, stream: bool) -> None:
    fake.then("You can return most items within 30 days [faq-en-returns-window].")
    llm = generator(fake, stream=stream)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert generation.backend == "openai"
    assert generation.text == "You can return most items within 30 days."
    assert generation.source_ids == ("faq-en-returns-window",)
    sent = fake.requests[0]
    assert sent["stream"] is stream and sent["model"] == "fake-model"
    assert "[faq-en-returns-shoes]" in sent["messages"][-1]["content"] and "ONLY" in sent["messages"][0]["content"]


async def test_an_answer_citing_a_non_existent_source_falls_back_to_the_grounded_answer(fake: FakeOpenAI) -> None:
    fake.then("Returns are accepted for 90 days [faq-en-made-up].")
    llm = generator(fake)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert generation.backend.startswith("grounded") and "faq-en-made-up" in generation.backend
    assert generation.text.startswith("Most items can be returned within 30 days.")
    assert generation.source_ids[0] == "faq-en-returns-window"


async def test_an_answer_without_citations_falls_back(fake: FakeOpenAI) -> None:
    fake.then("Sure, 90 days, no problem!")
    llm = generator(fake, stream=True)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert "cites no passage" in generation.backend and "90 days" not in generation.text


async def test_a_timeout_falls_back_and_the_shopper_still_gets_a_reply(fake: FakeOpenAI) -> None:
    fake.then("late [faq-en-returns-window]", delay_s=1.0)
    llm = generator(fake, timeout_s=0.2, retries=1)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert "no answer within 0.2 s after 2 tries" in generation.backend
    assert generation.text.startswith("Most items") and len(fake.requests) == 2


async def test_a_500_is_retried_then_falls_back(fake: FakeOpenAI) -> None:
    fake.then(status=500)
    llm = generator(fake, retries=2)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert "HTTP 500 after 3 tries" in generation.backend and generation.source_ids[0] == "faq-en-returns-window"
    assert len(fake.requests) == 3


async def test_a_500_then_a_good_answer_succeeds_on_retry(fake: FakeOpenAI) -> None:
    fake.then(status=503).then("Within 30 days [faq-en-returns-window].")
    llm = generator(fake, retries=1)
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert generation.backend == "openai" and generation.text == "Within 30 days."


async def test_an_unreachable_server_falls_back() -> None:
    llm = OpenAICompatibleGenerator(
        base_url="http://127.0.0.1:9/v1", model="m", fallback=GroundedGenerator(), timeout_s=1.0, retries=0
    )
    generation = await llm.generate(REQUEST)
    await llm.close()
    assert generation.backend.startswith("grounded (llm unavailable")


def test_an_answer_in_the_wrong_language_or_a_refusal_is_rejected() -> None:
    chinese = GenerationRequest(question="多久可以退货", language="zh", passages=PASSAGES)
    accepted, why = check_answer("Within 30 days [faq-en-returns-window].", chinese, backend="x")
    assert accepted is None and "not in zh" in why
    accepted, why = check_answer("NO_ANSWER", REQUEST, backend="x")
    assert accepted is None and "no answer" in why


def test_the_prompt_carries_history_and_the_shoppers_language() -> None:
    from bot.generation.base import HistoryTurn

    request = GenerationRequest(
        question="鞋子呢", language="zh", passages=PASSAGES, history=(HistoryTurn("退货政策", "30天"),)
    )
    messages = build_messages(request, shop="Lumen & Loom")
    assert "Simplified Chinese" in messages[0]["content"] and "Lumen & Loom" in messages[0]["content"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]


async def test_through_the_whole_pipeline_a_failing_llm_still_gives_the_shopper_a_grounded_reply(
    fake: FakeOpenAI,
    real_engines,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from bot.app import open_dialogue
    from tests.dialogue.conftest import Shopper, make_pipeline

    fake.then(status=500).then("Returns within 30 days [faq-en-returns-window].").then(
        "We accept returns for a whole year [faq-en-invented]."
    )
    llm = generator(fake, retries=0)
    dialogue = await open_dialogue(
        settings, pipeline=lambda orders: make_pipeline(real_engines, generator=llm, orders=orders)
    )
    try:
        shopper = Shopper(dialogue)
        failed = await shopper.say("How many days do I have to return an item I bought?")
        assert failed is not None and failed.sources and "grounded (llm unavailable: HTTP 500" in failed.reason
        passed = await shopper.say("How many days do I have to return an item I bought?")
        assert (
            passed is not None and passed.text == "Returns within 30 days." and "generated by openai" in passed.reason
        )
        assert [s.id for s in passed.sources] == ["faq-en-returns-window"]
        invented = await shopper.say("How many days do I have to return an item I bought?")
        assert invented is not None and "a whole year" not in invented.text and "unknown passages" in invented.reason
        history = [m["role"] for m in fake.requests[-1]["messages"]]
        assert history.count("assistant") >= 2, "earlier turns are given to the model"
        stateless = await dialogue.pipeline.handle(shopper_message("Can I pay with Alipay?"))
        assert stateless.sources
    finally:
        await dialogue.aclose()
        await llm.close()
        await dialogue.pipeline.engines.aclose()


def shopper_message(text: str):  # type: ignore[no-untyped-def]
    from bot.messages import ConversationRef, Message

    return Message(ConversationRef("cli", "ask"), "cli", text=text)
