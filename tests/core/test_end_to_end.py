"""The demo store end to end: real encoder, knowledge base and intent model; ``kefu ask`` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files

import pytest

from bot.app import Components, build_pipeline
from bot.config import Settings
from bot.messages import ConversationRef, Message, Reply

pytestmark = pytest.mark.slow


def faq_ids_tagged(language: str, tag: str) -> set[str]:
    entries = json.loads(files("bot.demo.store").joinpath(f"faq.{language}.json").read_text(encoding="utf-8"))
    return {entry["id"] for entry in entries if tag in entry["tags"]}


def returns_passages(language: str) -> set[str]:
    """Passages of the returns policy: FAQ entries tagged returns, and the policy page's returns section."""
    return faq_ids_tagged(language, "returns") | {"policies#returns-and-refunds", "policies#退换货与退款"}


def kefu(settings: Settings, *args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "KEFU_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-c", "from bot.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, env=env, timeout=300, check=False)


async def ask(settings: Settings, components: Components, text: str, **fields: object) -> Reply:
    pipeline = build_pipeline(settings, components)
    try:
        return await pipeline.handle(Message(ConversationRef("test", "e2e"), user_id="u", text=text, **fields))
    finally:
        await pipeline.engines.aclose()


async def test_english_return_question_is_answered_from_the_returns_policy(demo_settings, demo_components) -> None:
    reply = await ask(demo_settings, demo_components, "how long do I have to return shoes?")
    assert reply.language == "en"
    assert reply.intent == "return_refund"
    assert reply.sources and reply.sources[0].id in returns_passages("en")
    assert "30 days" in reply.text
    assert not reply.escalated
    assert {"understand", "embed", "intent", "retrieve", "decide", "generate"} <= set(reply.timings_ms)


async def test_chinese_return_request_is_answered_in_chinese(demo_settings, demo_components) -> None:
    reply = await ask(demo_settings, demo_components, "我想退货")
    assert reply.language == "zh"
    assert reply.intent == "return_refund"
    assert reply.sources and reply.sources[0].id in returns_passages("zh")
    assert "退" in reply.text


async def test_forced_language_overrides_detection(demo_settings, demo_components) -> None:
    reply = await ask(demo_settings, demo_components, "我想退货", language="en")
    assert reply.language == "en"
    assert reply.sources and reply.sources[0].id in returns_passages("en")


def test_kefu_ask_prints_the_design_json(demo_settings, demo_components) -> None:
    result = kefu(demo_settings, "ask", "how long do I have to return shoes?", "--json")
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert set(answer) == {"text", "intent", "confidence", "language", "sources", "escalated", "reason", "timings_ms"}
    assert answer["reason"].startswith("answer: ")
    assert answer["language"] == "en" and answer["intent"] == "return_refund"
    assert set(answer["sources"][0]) == {"id", "title", "score"}
    result = kefu(demo_settings, "ask", "我想退货", "--json")
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert answer["language"] == "zh" and answer["sources"][0]["id"] in returns_passages("zh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   \x07\x1b\x7f  ", "empty"),
        (b"\xff\xfe\xfa", "empty"),
        ("where is my parcel? " * 500, "first 4000 characters"),
        ("退货\x07\x1b[31m要多久", "退"),
    ],
    ids=["empty", "control-only", "invalid-utf8", "10000-chars", "control-inside"],
)
def test_kefu_ask_bad_input_gets_a_clear_answer(
    demo_settings, demo_components, text: str | bytes, expected: str
) -> None:
    result = kefu(demo_settings, "ask", text, "--json")
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert expected in answer["text"]


def test_kefu_ask_rejects_an_unknown_language(demo_settings) -> None:
    result = kefu(demo_settings, "ask", "hello", "--lang", "fr")
    assert result.returncode == 2
    assert b"--lang takes zh or en" in result.stderr
