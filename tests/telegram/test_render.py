"""Replies as Telegram messages: 4096-character chunks on sentence boundaries, escaping, quote, sources, buttons."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram.render import (
    FEEDBACK_NO,
    FEEDBACK_YES,
    MAX_MESSAGE_CHARS,
    CallbackCodec,
    render_reply,
    split_text,
    utf16_len,
)
from bot.messages import HUMAN_PAYLOAD, QuickReply, Reply, Source


def _words(value: str) -> str:
    return " ".join(value.split())


def test_split_cuts_at_sentence_ends() -> None:
    sentences = [f"Sentence number {i} is about returns & refunds." for i in range(400)]
    chunks = split_text(" ".join(sentences))
    assert len(chunks) > 1
    assert all(utf16_len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert all(c.endswith("refunds.") for c in chunks)
    assert _words(html.unescape(" ".join(chunks))) == _words(" ".join(sentences))


def test_split_chinese_without_spaces_and_a_word_longer_than_a_chunk() -> None:
    chinese = "这件衬衫可以退货吗？" * 30
    chunks = split_text(chinese, limit=50)
    assert all(c.endswith("？") and utf16_len(c) <= 50 for c in chunks)
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab <>&.!?。 \n😀中")), max_size=400), st.integers(8, 60))
def test_split_never_exceeds_the_limit_nor_loses_text(value: str, limit: int) -> None:
    chunks = split_text(value, limit=limit)
    assert all(utf16_len(c) <= limit for c in chunks)
    assert all(not re.search(r"&[a-z]*$", c) for c in chunks), "an entity was cut in half"
    assert re.sub(r"\s", "", html.unescape("".join(chunks))) == re.sub(r"\s", "", value)


def test_reply_shows_quote_above_and_sources_below_all_escaped() -> None:
    reply = Reply(
        text="Returns are free within 30 days.",
        quote="🎤 can I return <this>?",
        sources=(
            Source("p1", "Returns & refunds", 0.9, url="https://shop.example/returns?a=1&b=2"),
            Source("p2", "Shipping", 0.5, url="javascript:alert(1)"),
        ),
    )
    [chunk] = render_reply(reply, callbacks=CallbackCodec()).chunks
    assert chunk == (
        "<i>🎤 can I return &lt;this&gt;?</i>\n\nReturns are free within 30 days.\n\n"
        'Sources: <a href="https://shop.example/returns?a=1&amp;b=2">Returns &amp; refunds</a> · Shipping'
    )


def test_long_reply_keeps_quote_on_the_first_chunk_and_sources_on_the_last() -> None:
    reply = Reply(text="Fine print. " * 1000, quote="q" * 2000, sources=(Source("p", "T", 1.0),), language="zh")
    chunks = render_reply(reply, callbacks=CallbackCodec()).chunks
    assert len(chunks) >= 4 and all(utf16_len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert chunks[0].startswith("<i>q") and chunks[-1].endswith("来源: T")
    assert sum(c.count("Fine print.") for c in chunks) == 1000


def test_buttons_quick_replies_human_and_feedback() -> None:
    codec = CallbackCodec()
    reply = Reply(
        text="Which size?",
        language="zh",
        quick_replies=(QuickReply("S", "size:s"), QuickReply("M", "size:m"), QuickReply("L", "size:l")),
    )
    rows = render_reply(reply, callbacks=codec).buttons
    assert rows == [
        [("S", "q:size:s"), ("M", "q:size:m")],
        [("L", "q:size:l")],
        [("🙋 转人工客服", f"q:{HUMAN_PAYLOAD}")],
        [("👍 有帮助", FEEDBACK_YES), ("👎 没帮助", FEEDBACK_NO)],
    ]
    assert render_reply(Reply(text="A colleague will answer.", escalated=True), callbacks=codec).buttons == []
    offers = Reply(text="?", quick_replies=(QuickReply("Agent", HUMAN_PAYLOAD),))
    assert sum(d == f"q:{HUMAN_PAYLOAD}" for row in render_reply(offers, callbacks=codec).buttons for _, d in row) == 1


def test_long_payloads_go_through_a_bounded_table() -> None:
    codec = CallbackCodec(capacity=2)
    long_payloads = ["order:" + "9" * 80 + str(i) for i in range(3)]
    keys = [codec.encode(p) for p in long_payloads]
    assert all(len(k.encode()) <= 64 for k in keys)
    assert codec.decode(keys[2]) == long_payloads[2] and codec.decode(keys[0]) is None
    assert codec.decode(codec.encode("short")) == "short"
    assert codec.decode(FEEDBACK_YES) is None


def test_tiny_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_text("abc", limit=3)
