"""Whole conversations through Conversations → Pipeline → real encoder, kb index and intents, with SQLite state."""

from __future__ import annotations

from bot.app import Dialogue
from bot.generation.templates import say
from bot.handoff.base import TicketState
from bot.messages import ConversationRef, Message
from bot.sessions.base import HandoffState
from tests.dialogue.conftest import Shopper


def tags_of(real_engines, source_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    chunk = next(c for c in real_engines.knowledge_base.chunks if c.id == source_id)
    return set(chunk.tags)


async def test_return_policy_question_is_answered_with_its_source(shopper: Shopper, real_engines) -> None:  # type: ignore[no-untyped-def]
    reply = await shopper.say("How many days do I have to return an item I bought?")
    assert reply is not None and not reply.escalated
    assert reply.reason.startswith("answer:")
    assert reply.sources, reply.reason
    assert "returns" in tags_of(real_engines, reply.sources[0].id)
    passage = next(c for c in real_engines.knowledge_base.chunks if c.id == reply.sources[0].id)
    assert passage.text.strip()[:40] in reply.text
    assert reply.language == "en"


async def test_chinese_return_question_is_answered_in_chinese_with_a_chinese_source(
    shopper: Shopper, real_engines
) -> None:  # type: ignore[no-untyped-def]
    reply = await shopper.say("买的衣服不合适，多少天内可以退货？")
    assert reply is not None and reply.reason.startswith("answer:"), reply.reason
    assert reply.language == "zh"
    chunk = next(c for c in real_engines.knowledge_base.chunks if c.id == reply.sources[0].id)
    assert chunk.language == "zh" and "returns" in chunk.tags


async def test_order_status_in_two_turns_without_revealing_contact_details(shopper: Shopper) -> None:
    first = await shopper.say("where is my order?")
    assert first is not None and "order number" in first.text.lower()
    assert "asks for order_id" in first.reason
    second = await shopper.say("100234")
    assert second is not None and "act:" in second.reason and "done" in second.reason
    assert "SF1234567890" in second.text and "shipped" in second.text
    for secret in ("liwei@example.com", "Li Wei", "138 0013 8000", "8000"):
        assert secret not in second.text
    assert "l***@example.com" in second.text


async def test_chinese_order_status_in_two_turns(shopper: Shopper) -> None:
    first = await shopper.say("我的快递到哪了")
    assert first is not None and "订单号" in first.text and first.language == "zh"
    second = await shopper.say("订单号100241")
    assert second is not None and "已付款" in second.text and second.language == "zh"


async def test_order_replies_name_products_and_money_disputes_go_to_a_person(shopper: Shopper) -> None:
    status = await shopper.say("订单100234到哪了")
    assert status is not None and "云步真皮休闲鞋" in status.text and "LL-SH-001" not in status.text
    dispute = await shopper.say("I was charged twice for order 100344!! fix this")
    assert dispute is not None and dispute.escalated and "100344" in dispute.text
    assert dispute.reason.startswith("escalate: money dispute") and "order 100344" in dispute.reason


async def test_a_return_the_policy_rules_out_is_not_offered(shopper: Shopper) -> None:
    reply = await shopper.say("I want to return the earrings I bought")
    assert reply is not None and "cannot be returned" in reply.text
    assert "order number" not in reply.text.lower() and "not offered" in reply.reason
    allowed = await shopper.say("I want to return my shoes")
    assert allowed is not None and "order number" in allowed.text.lower()


async def test_after_an_unknown_order_number_the_next_number_is_taken_bare_or_in_a_sentence(shopper: Shopper) -> None:
    """The reported conversation: an unknown number, then "sorry, 100258" was answered with a goodbye."""
    await shopper.say("where is my order?")
    unknown = await shopper.say("100257")
    assert unknown is not None and "couldn't find order #100257" in unknown.text
    assert "asks for order_id" in unknown.reason
    session = await shopper.dialogue.store.load(str(shopper.ref))
    assert session.slots == {"pending": "order_status"}, "the unknown number was kept"
    corrected = await shopper.say("sorry, 100258")
    assert corrected is not None and "#100258" in corrected.text and "waiting for payment" in corrected.text
    assert corrected.reason.startswith("act:") and "done" in corrected.reason
    await shopper.say("where is my order?")
    await shopper.say("#100257")
    bare = await shopper.say("100258")
    assert bare is not None and "#100258" in bare.text and "waiting for payment" in bare.text


async def test_a_different_question_drops_the_pending_order_question(shopper: Shopper) -> None:
    await shopper.say("where is my order?")
    reply = await shopper.say("Can I pay with Alipay?")
    assert reply is not None and reply.reason.startswith("answer:")
    session = await shopper.dialogue.store.load(str(shopper.ref))
    assert "pending" not in session.slots


async def test_starting_a_return_records_it_and_gives_the_steps(shopper: Shopper) -> None:
    first = await shopper.say("I want to return my order")
    assert first is not None and "order number" in first.text.lower()
    second = await shopper.say("it is #100235")
    assert second is not None and "R000001" in second.text and "1." in second.text
    status = await shopper.say("what's the status of order #100235?")
    assert status is not None and "return requested" in status.text


async def test_asking_for_a_human_in_chinese_escalates_and_opens_a_ticket(shopper: Shopper) -> None:
    reply = await shopper.say("我要找人工")
    assert reply is not None and reply.escalated and reply.language == "zh"
    assert "周一至周五 9:00-18:00" in reply.text  # the hours as Chinese replies tell them (shop.hours_zh)
    session = await shopper.dialogue.store.load(str(shopper.ref))
    assert session.handoff is HandoffState.WAITING and session.ticket_id is not None
    ticket = await shopper.dialogue.desk.get(session.ticket_id)
    assert ticket.state is TicketState.OPEN and "human_agent" in ticket.reason
    assert [m.text for m in await shopper.dialogue.desk.messages(ticket.id)] == ["我要找人工"]


async def test_an_unanswerable_question_gets_no_invented_answer(shopper: Shopper) -> None:
    reply = await shopper.say("what's the weather in Paris?")
    assert reply is not None and reply.sources == ()
    assert not reply.reason.startswith("answer")
    assert reply.text in {
        say("out_of_scope", "en", shop="Lumen & Loom"),
        say("escalated", "en", hours="Mon-Fri 9:00-18:00 (UTC+8)"),
        say("clarify", "en"),
    }


async def test_a_follow_up_uses_the_previous_turn(shopper: Shopper, real_engines) -> None:  # type: ignore[no-untyped-def]
    first = await shopper.say("Can I return clothes I bought?")
    assert first is not None and first.reason.startswith("answer:")
    reply = await shopper.say("and for shoes?")
    assert reply is not None and "follow-up" in reply.reason and reply.reason.startswith("answer:")
    assert {"returns", "shoes"} <= tags_of(real_engines, reply.sources[0].id)


async def test_a_chinese_follow_up_uses_the_previous_turn(shopper: Shopper, real_engines) -> None:  # type: ignore[no-untyped-def]
    await shopper.say("衣服可以退货吗？")
    reply = await shopper.say("那鞋子呢？")
    assert reply is not None and "follow-up" in reply.reason
    assert {"returns", "shoes"} <= tags_of(real_engines, reply.sources[0].id)


async def test_an_angry_complaint_escalates(shopper: Shopper) -> None:
    reply = await shopper.say("This is the worst service ever, you are scammers!!!")
    assert reply is not None and reply.escalated and "strong negative" in reply.reason


async def test_the_history_keeps_the_last_turns_only(dialogue, shopper: Shopper) -> None:  # type: ignore[no-untyped-def]
    for n in range(12):
        await shopper.say(f"hello number {n}")
    session = await dialogue.store.load(str(shopper.ref))
    assert len(session.history) == 20
    assert session.history[-2].text == "hello number 11" and session.history[-1].role == "bot"


async def test_an_unanswerable_chinese_question_gets_no_invented_answer(shopper: Shopper) -> None:
    reply = await shopper.say("巴黎今天天气怎么样？")
    assert reply is not None and reply.sources == () and reply.language == "zh"
    assert not reply.reason.startswith("answer")


async def test_a_mixed_language_message_is_answered_in_chinese(shopper: Shopper) -> None:
    reply = await shopper.say("我的order #100234 到哪了")
    assert reply is not None and reply.language == "zh"
    assert "已发货" in reply.text and "SF1234567890" in reply.text


async def test_a_bare_number_keeps_the_conversation_language(shopper: Shopper) -> None:
    await shopper.say("我想查一下我的订单")
    reply = await shopper.say("100235")
    assert reply is not None and reply.language == "zh" and "已签收" in reply.text


async def test_a_message_handled_again_after_a_crash_gets_the_same_answer_and_no_second_turn(
    dialogue: Dialogue,
) -> None:
    """A crash after the session was saved but before the inbox recorded the answer replays the message."""
    ref = ConversationRef("telegram", "5150")
    asked = Message(conversation=ref, user_id="u1", text="How long does shipping take?", message_id="77")
    first = await dialogue.conversations.handle(asked)
    history = (await dialogue.store.load(str(ref))).history
    again = await dialogue.conversations.handle(asked)
    assert first is not None and again is not None and again.text == first.text
    assert (await dialogue.store.load(str(ref))).history == history
    later = await dialogue.conversations.handle(
        Message(conversation=ref, user_id="u1", text="How long does shipping take?", message_id="78")
    )
    assert later is not None and len((await dialogue.store.load(str(ref))).history) == len(history) + 2
