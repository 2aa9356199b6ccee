"""Replies as Block Kit messages, conversation ids, and what people typed in Slack's message markup."""

from __future__ import annotations

import pytest

from adapters.slack.conversations import Place
from adapters.slack.inbound import plain_text
from adapters.slack.render import MAX_MESSAGE_CHARS, MAX_SECTION_CHARS, render_reply
from adapters.slack.texts import text
from adapters.testing.slack.blocks import check_blocks
from bot.messages import HUMAN_PAYLOAD, ConversationRef, QuickReply, Reply, Source


def test_a_long_answer_is_split_on_sentences_within_slacks_limits() -> None:
    body = " ".join(f"Sentence number {n} & <more>." for n in range(2000))
    messages = render_reply(Reply(text=body, sources=(Source("a", "A", 1.0),)))
    assert len(messages) > 1
    for message in messages:
        check_blocks(message.blocks)
        sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
        assert all(len(s) <= MAX_SECTION_CHARS and s.endswith(".") for s in sections)
        assert sum(map(len, sections)) <= MAX_MESSAGE_CHARS
    joined = " ".join(m.text for m in messages).replace("\n", " ")
    assert joined.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").split() == body.split()
    assert all(b["type"] == "section" for b in messages[0].blocks), "sources and buttons only under the last"


def test_quote_sources_and_buttons() -> None:
    reply = Reply(
        text="Returns take 30 days.",
        quote="🎤 how long do returns take?",
        quick_replies=(QuickReply("Start a return", "return"),),
        sources=(
            Source("r", "Returns | refunds", 0.9, "https://shop.example/returns"),
            Source("s", "Shipping", 0.5, "javascript:alert(1)"),
        ),
    )
    [message] = render_reply(reply)
    check_blocks(message.blocks)
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["context", "section", "context", "actions", "actions"]
    assert message.blocks[0]["elements"][0]["text"] == "_🎤 how long do returns take?_"
    assert message.blocks[2]["elements"][0]["text"] == (
        "Sources: <https://shop.example/returns|Returns ¦ refunds> · Shipping"
    )
    labels = [e["text"]["text"] for b in message.blocks[3:] for e in b["elements"]]
    assert labels == ["Start a return", text("human", "en"), text("helpful", "en"), text("not_helpful", "en")]


def test_chinese_notices_and_escalations_carry_fewer_buttons() -> None:
    [escalated] = render_reply(Reply(text="正在为您转接人工客服。", language="zh", escalated=True))
    assert [b["type"] for b in escalated.blocks] == ["section"]
    [notice] = render_reply(
        Reply(text="抱歉", language="zh", notice=True, quick_replies=(QuickReply("转人工", HUMAN_PAYLOAD),))
    )
    assert [e["text"]["text"] for b in notice.blocks if b["type"] == "actions" for e in b["elements"]] == ["转人工"]
    [answer] = render_reply(Reply(text="好的", language="zh"))
    assert text("helpful", "zh") in str(answer.blocks) and text("human", "zh") in str(answer.blocks)


def test_an_oversized_payload_leaves_its_button_out_and_an_empty_reply_is_refused() -> None:
    [message] = render_reply(Reply(text="x", quick_replies=(QuickReply("big", "p" * 2001), QuickReply("ok", "o"))))
    check_blocks(message.blocks)
    assert "big" not in str(message.blocks) and "'ok'" in str(message.blocks)
    with pytest.raises(ValueError, match="empty"):
        render_reply(Reply(text="  "))


@pytest.mark.parametrize(
    ("conversation_id", "place"),
    [
        ("D0123", Place("D0123")),
        ("C0123:1700000000.000100", Place("C0123", thread_ts="1700000000.000100")),
        ("C0123:@U0456", Place("C0123", user="U0456")),
    ],
)
def test_conversation_ids_round_trip(conversation_id: str, place: Place) -> None:
    assert Place.parse(ConversationRef("slack", conversation_id)) == place
    assert place.ref() == ConversationRef("slack", conversation_id)


@pytest.mark.parametrize(
    "bad", [ConversationRef("telegram", "C1"), ConversationRef("slack", ""), ConversationRef("slack", "C1:@")]
)
def test_malformed_conversations_are_refused(bad: ConversationRef) -> None:
    with pytest.raises(ValueError):
        Place.parse(bad)


def test_where_a_message_is_answered() -> None:
    assert Place.of_message("D1", ts="5.0", thread_ts=None) == Place("D1")
    assert Place.of_message("D1", ts="6.0", thread_ts="5.0") == Place("D1", thread_ts="5.0")
    assert Place.of_message("C1", ts="5.0", thread_ts=None) == Place("C1", thread_ts="5.0")


def test_plain_text_of_slack_markup() -> None:
    said = "ask <@U1|anna> in <#C1|support>: is 3 &lt; 5 &amp; <https://x.example/a|this> ok? <https://y.example>"
    assert plain_text(said) == "ask @anna in #support: is 3 < 5 & this ok? https://y.example"
    assert plain_text("<@U2> <!here>") == "@U2 !here"
