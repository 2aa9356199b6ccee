"""The hand-off state machine bot → waiting → human → resolved → bot, and operator replies reaching the shopper."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.app import Dialogue, open_dialogue, open_store
from bot.config import Settings, load_settings
from bot.handoff.base import HandoffError, TicketState
from bot.messages import HUMAN_PAYLOAD, ConversationRef, Message, Reply
from bot.sessions.base import HandoffState
from tests.dialogue.conftest import STORES, Delivered, RealEngines, Shopper, make_pipeline


async def state(shopper: Shopper) -> HandoffState:
    return (await shopper.dialogue.store.load(str(shopper.ref))).handoff


@STORES
async def test_the_full_handoff_cycle(dialogue: Dialogue, shopper: Shopper, delivered: Delivered) -> None:
    outbound = delivered
    escalated = await shopper.say(payload=HUMAN_PAYLOAD)
    assert escalated is not None and escalated.escalated and "button" in escalated.reason
    assert await state(shopper) is HandoffState.WAITING
    ticket_id = (await dialogue.store.load(str(shopper.ref))).ticket_id
    assert ticket_id is not None

    waiting = await shopper.say("Can I pay with Alipay?")
    assert waiting is not None and waiting.reason.startswith("answer:"), "the bot keeps answering while waiting"
    again = await shopper.say("我要找人工")
    assert again is not None and "already open" in again.reason and len(await dialogue.desk.tickets()) == 1

    await dialogue.desk.take(ticket_id, operator="alice")
    assert await state(shopper) is HandoffState.HUMAN
    assert await shopper.say("are you there?") is None, "no bot reply while a human owns the conversation"
    texts = [m.text for m in await dialogue.desk.messages(ticket_id)]
    assert texts[-1] == "are you there?" and "Can I pay with Alipay?" in texts

    await dialogue.desk.reply(ticket_id, "Hi, Alice here. Let me check.", operator="alice")
    delivered = [reply for ref, reply in outbound.sent if ref == shopper.ref]
    assert delivered[-1].text == "Hi, Alice here. Let me check." and delivered[-1].author == "alice"
    assert delivered[-2].author is None, "the desk's own notice (a colleague joined) is not the operator's words"

    await dialogue.desk.resolve(ticket_id, operator="alice")
    assert await state(shopper) is HandoffState.RESOLVED
    assert (await dialogue.desk.get(ticket_id)).state is TicketState.RESOLVED
    back = await shopper.say("How long does shipping take?")
    assert back is not None and back.reason.startswith("answer:")
    assert await state(shopper) is HandoffState.BOT
    with pytest.raises(HandoffError, match="already resolved"):
        await dialogue.desk.take(ticket_id, operator="bob")


@STORES
async def test_a_reply_from_another_process_is_queued_and_delivered_by_the_running_bot(
    dialogue: Dialogue, shopper: Shopper, settings: Settings, delivered: Delivered
) -> None:
    await shopper.say("我要找人工")
    ticket_id = (await dialogue.store.load(str(shopper.ref))).ticket_id
    assert ticket_id is not None
    db, _, cli_desk = await open_store(settings)  # what `kefu handoff reply` opens: no deliver
    try:
        await cli_desk.reply(ticket_id, "您好，我是客服小王。", operator="wang")
    finally:
        await db.close()
    assert await state(shopper) is HandoffState.HUMAN
    outbound = delivered
    assert outbound.sent == [], "nothing was delivered in the other process"
    dialogue.desk.poll_s = 0.05  # type: ignore[attr-defined]
    dialogue.start()
    for _ in range(100):
        if len(outbound.sent) >= 2:
            break
        await asyncio.sleep(0.05)
    texts = [reply.text for _, reply in outbound.sent]
    assert texts == ["人工客服已接入，正在为您服务。", "您好，我是客服小王。"]
    assert [reply.author for _, reply in outbound.sent] == [None, "wang"]
    assert all(ref == shopper.ref for ref, _ in outbound.sent)
    assert await dialogue.desk.deliver_pending() == 0, "each queued reply is delivered once"


@STORES
async def test_operator_errors_are_clear(dialogue: Dialogue) -> None:
    with pytest.raises(HandoffError, match="ticket 99 not found"):
        await dialogue.desk.reply(99, "hello", operator="alice")
    with pytest.raises(HandoffError, match="empty"):
        await dialogue.desk.reply(1, "  ", operator="alice")


@STORES
async def test_a_channels_own_answer_is_sent_by_the_bot_and_relayed_while_an_operator_owns_the_chat(
    dialogue: Dialogue, shopper: Shopper
) -> None:
    from bot.messages import Message

    notice = Reply(text="Sorry, I can't read stickers.", notice=True)
    sticker = Message(shopper.ref, shopper.user, text="[sticker]", message_id="s1", answer=notice)
    sent = await dialogue.conversations.handle(sticker)
    assert sent is not None and (sent.text, sent.notice, sent.intent) == (notice.text, True, None)
    assert set(sent.timings_ms) == {"session"}, "sent as is, without understanding it"
    history = (await dialogue.store.load(str(shopper.ref))).history
    assert [(t.role, t.text) for t in history[-2:]] == [("user", "[sticker]"), ("bot", notice.text)]

    await shopper.say("我要找人工")
    ticket_id = (await dialogue.store.load(str(shopper.ref))).ticket_id
    assert ticket_id is not None
    await dialogue.desk.take(ticket_id, operator="alice")
    again = Message(shopper.ref, shopper.user, text="[sticker]", message_id="s2", answer=notice)
    assert await dialogue.conversations.handle(again) is None, "the operator answers, not the channel"
    assert [m.text for m in await dialogue.desk.messages(ticket_id)][-1] == "[sticker]"


async def test_a_store_from_before_reply_authors_gets_the_column_and_keeps_its_queued_replies(tmp_path: Path) -> None:
    from bot.handoff.sqlite import SqliteDesk
    from bot.sessions.sqlite import Database, SqliteSessionStore

    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        await db.script(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, ticket_id INTEGER NOT NULL,"
            " channel TEXT NOT NULL, conversation_id TEXT NOT NULL, text TEXT NOT NULL, language TEXT NOT NULL,"
            " created_at REAL NOT NULL,"
            " claimed_at REAL);"
            "INSERT INTO outbox (ticket_id, channel, conversation_id, text, language, created_at)"
            " VALUES (1, 'web', 'w1', 'queued before the upgrade', 'en', 0);"
        )
        store = SqliteSessionStore(db)
        await store.setup()
        outbound = Delivered()
        desk = SqliteDesk(db, store, deliver=outbound)
        await desk.setup()
        assert await desk.deliver_pending() == 1
        [(ref, reply)] = outbound.sent
        assert ref == ConversationRef("web", "w1") and reply.text == "queued before the upgrade"
        assert reply.author is None
    finally:
        await db.close()


@STORES
async def test_a_turn_run_again_after_a_crash_never_opens_a_second_ticket(dialogue: Dialogue, shopper: Shopper) -> None:
    """A crash after the ticket opened but before the session was saved runs the escalating turn again."""
    from bot.messages import Message

    asked = Message(shopper.ref, shopper.user, text="我要找人工", message_id="m1")
    first = await dialogue.conversations.handle(asked)
    session = await dialogue.store.load(str(shopper.ref))
    session.ticket_id, session.last_message_id = None, None  # the save that the crash lost
    session.handoff = HandoffState.BOT
    await dialogue.store.save(session)
    again = await dialogue.conversations.handle(asked)
    assert first is not None and again is not None and again.escalated
    assert len(await dialogue.desk.tickets()) == 1
    assert (await dialogue.store.load(str(shopper.ref))).ticket_id == (await dialogue.desk.tickets())[0].id


@STORES
async def test_two_bots_never_hand_over_the_same_operator_reply_and_a_dead_ones_claim_is_taken_again(
    dialogue: Dialogue, shopper: Shopper, settings: Settings, delivered: Delivered
) -> None:
    await shopper.say("我要找人工")
    ticket_id = (await dialogue.store.load(str(shopper.ref))).ticket_id
    assert ticket_id is not None
    other = Delivered()
    cli, _, cli_desk = await open_store(settings)
    second, _, second_desk = await open_store(settings, deliver=other)
    try:
        await cli_desk.reply(ticket_id, "您好，我是客服小王。", operator="wang")  # queued: the notice and the words
        counts = await asyncio.gather(dialogue.desk.deliver_pending(), second_desk.deliver_pending())  # type: ignore[attr-defined]
        assert sum(counts) == 2 and len(delivered.sent) + len(other.sent) == 2, "each reply handed over once"

        async def dies(conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None:
            raise ConnectionError("the process died while handing it over")

        dying, _, dying_desk = await open_store(settings, deliver=dies)
        await cli_desk.reply(ticket_id, "还在吗？", operator="wang")
        assert await dying_desk.deliver_pending() == 1  # type: ignore[attr-defined]
        await dying.close()
        assert await second_desk.deliver_pending() == 0, "a fresh claim is not taken"  # type: ignore[attr-defined]
        second_desk.stale_claim_s = 0  # type: ignore[attr-defined]
        assert await second_desk.deliver_pending() == 1  # type: ignore[attr-defined]
        assert other.sent[-1][1].text == "还在吗？" and await second_desk.deliver_pending() == 0  # type: ignore[attr-defined]
    finally:
        await cli.close()
        await second.close()


async def test_tickets_are_counted_per_web_client_whether_the_shopper_pressed_or_typed(
    real_engines: RealEngines, tmp_path: Path, delivered: Delivered, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path, shop={"tickets_per_client": 3, "ticket_window_s": 600})
    opened = await open_dialogue(
        settings, pipeline=lambda orders: make_pipeline(real_engines, orders=orders), deliver=delivered
    )
    try:

        async def ask(
            conversation: str, *, client: str | None, typed: bool, channel: str = "web", text: str = ""
        ) -> Reply:
            message = Message(
                ConversationRef(channel, conversation),
                conversation,
                text=(text or "I want to talk to a real person") if typed else "",
                payload=None if typed else HUMAN_PAYLOAD,
                message_id=f"{conversation}-{time.monotonic_ns()}",
                client=client,
            )
            reply = await opened.conversations.handle(message)
            assert reply is not None
            return reply

        first = [await ask(f"s{n}", client="203.0.113.9", typed=n % 2 == 0) for n in range(3)]
        assert all(reply.escalated and "opened" in (reply.reason or "") for reply in first)
        refused = [await ask(f"s{n}", client="203.0.113.9", typed=n % 2 == 0) for n in range(3, 5)]
        for reply in refused:
            assert not reply.escalated and "ask for a person again a little later" in reply.text
            assert "over its budget" in (reply.reason or "")
        assert len(await opened.desk.tickets()) == 3
        again = await ask("s0", client="203.0.113.9", typed=True)  # a counted conversation may ask again
        assert "already open" in (again.reason or "")
        assert (await ask("other", client="198.51.100.4", typed=True)).escalated  # another client has its own count
        assert (await ask("42", client=None, typed=True, channel="telegram")).escalated  # a vouched-for user
        assert len(await opened.desk.tickets()) == 5
        assert "no ticket opened: too many conversations from 203.0.113.9" in caplog.text
        zh = await ask("s5", client="203.0.113.9", typed=True, text="我要找人工客服")
        assert not zh.escalated and "稍后再申请人工客服" in zh.text
    finally:
        await opened.aclose()


async def test_workers_on_one_redis_share_each_web_clients_ticket_budget(
    real_engines: RealEngines, tmp_path: Path, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        data_dir=tmp_path, store={"url": redis_url}, shop={"tickets_per_client": 2, "ticket_window_s": 600}
    )
    workers = [
        await open_dialogue(settings, pipeline=lambda orders: make_pipeline(real_engines, orders=orders))
        for _ in range(2)
    ]
    try:

        async def ask(worker: Dialogue, conversation: str) -> Reply:
            message = Message(
                ConversationRef("web", conversation),
                conversation,
                payload=HUMAN_PAYLOAD,
                message_id=f"{conversation}-{time.monotonic_ns()}",
                client="203.0.113.9",
            )
            reply = await worker.conversations.handle(message)
            assert reply is not None
            return reply

        first, second = workers
        assert (await ask(first, "s1")).escalated and (await ask(second, "s2")).escalated
        refused = [await ask(worker, "s3") for worker in workers]
        assert all(not reply.escalated and "over its budget" in (reply.reason or "") for reply in refused)
        assert "already open" in ((await ask(first, "s2")).reason or ""), "a counted conversation may ask again"
        assert len(await first.desk.tickets()) == 2
    finally:
        for worker in workers:
            await worker.aclose()
