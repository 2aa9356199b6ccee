"""The durable inbox and outbox contract, for the SQLite store, the Redis store and the in-memory one alike."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from bot.errors import BadInput
from bot.inbox import Inbox, MemoryInbox
from bot.inbox.redis import RedisInbox
from bot.inbox.sqlite import SqliteInbox
from bot.messages import Attachment, ConversationRef, Message, QuickReply, Reply, Source
from bot.sessions.redis import RedisConnection
from bot.sessions.sqlite import Database
from tests.redis_server import RedisServer
from tests.reliability.conftest import OpenDurable

A = ConversationRef("telegram", "1")
B = ConversationRef("telegram", "2")


def message(conversation: ConversationRef, message_id: str, text: str = "hi", **fields: object) -> Message:
    return Message(conversation=conversation, user_id="u", text=text, message_id=message_id, **fields)  # type: ignore[arg-type]


async def no_refetch(channel: str, locator: str) -> bytes:
    raise AssertionError("nothing should be fetched again")


@pytest.fixture(params=["sqlite", "redis", "memory"])
async def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Inbox]:
    if request.param == "memory":
        yield MemoryInbox()
        return
    if request.param == "redis":
        durable: Inbox = RedisInbox(await RedisConnection.open(request.getfixturevalue("redis_url")))
    else:
        durable = SqliteInbox(await Database.open(tmp_path / "store.sqlite3"))
        await durable.setup()  # type: ignore[attr-defined]
    yield durable
    await durable.close()


async def test_the_same_message_id_in_two_conversations_is_two_messages(inbox: Inbox) -> None:
    assert await inbox.accept(message(A, "9001")) is not None
    assert await inbox.accept(message(B, "9001")) is not None
    assert await inbox.accept(message(A, "9001")) is None, "a redelivery in the same conversation is recognised"
    assert await inbox.accept(message(A, "")) is not None
    assert await inbox.accept(message(A, "")) is not None, "a message without an id is never taken for another"


async def test_answered_messages_leave_pending_and_their_replies_wait_in_order(inbox: Inbox) -> None:
    first = await inbox.accept(message(A, "1"))
    second = await inbox.accept(message(A, "2"))
    assert first is not None and second is not None
    assert [seq for seq, _ in await inbox.pending(refetch=no_refetch)] == [first, second]
    await inbox.complete(first, A, Reply(text="one"))
    await inbox.complete(second, A, None)
    assert await inbox.pending(refetch=no_refetch) == []
    assert await inbox.post(A, Reply(text="operator"), key="desk:7")
    assert not await inbox.post(A, Reply(text="operator"), key="desk:7"), "a keyed reply is queued once"
    head = await inbox.next_due(A, now=1e12)
    assert head is not None and head.reply.text == "one"
    await inbox.retry(head.id, at=1e12 + 10, failed=True)
    assert await inbox.next_due(A, now=1e12) is None, "the head waits for its retry; later replies wait behind it"
    assert await inbox.due_conversations(now=1e12) == []
    again = await inbox.next_due(A, now=1e12 + 10)
    assert again is not None and again.id == head.id and again.attempts == 1
    await inbox.delivered(head.id)
    following = await inbox.next_due(A, now=1e12)
    assert following is not None and following.reply.text == "operator"
    assert await inbox.due_conversations(now=1e12) == [A]
    await inbox.give_up(following.id)
    assert await inbox.next_due(A, now=1e12) is None


async def test_a_reply_keeps_every_field_through_the_outbox(inbox: Inbox) -> None:
    reply = Reply(
        text="见 [1]",
        language="zh",
        intent="returns",
        confidence=0.91,
        sources=(Source("faq-3", "退货", 0.7, "https://shop/returns"),),
        quick_replies=(QuickReply("人工", "kefu:human"),),
        escalated=True,
        quote="🎤 退货",
        timings_ms={"intent": 1.5},
        reason="answered",
        notice=False,
        author="alice",
    )
    seq = await inbox.accept(message(A, "1"))
    assert seq is not None
    await inbox.complete(seq, A, reply)
    queued = await inbox.next_due(A, now=1e12)
    assert queued is not None and queued.reply.id, "the outbox gives each reply an id that survives a restart"
    assert queued.reply == replace(reply, id=queued.reply.id)


async def test_pending_messages_and_their_attachments_survive_a_restart(open_durable: OpenDurable) -> None:
    first = await open_durable()
    photo = Attachment.from_bytes("photo", b"\xff\xd8jpeg-bytes", mime_type="image/jpeg", filename="a.jpg")
    voice = Attachment(
        kind="voice", fetch=no_refetch_fetch, mime_type="audio/ogg", size=5, duration_s=3.0, locator="file-42"
    )
    lost = Attachment(kind="audio", fetch=no_refetch_fetch, mime_type="audio/mpeg")
    sent = message(
        A,
        "7",
        "这个有红色吗",
        attachments=(photo, voice, lost),
        language_hint="zh-hans",
        payload="kefu:human",
        metadata={"chat_type": "private", "album_size": 2},
        client="203.0.113.9",
        answer=Reply(text="hello", notice=True),
    )
    assert await first.accept(sent) is not None
    await first.close()  # the process dies; a new one opens the same store

    second = await open_durable(restarted=True)
    fetched: list[tuple[str, str]] = []

    async def refetch(channel: str, locator: str) -> bytes:
        fetched.append((channel, locator))
        return b"OggS"

    [(_, restored)] = await second.pending(refetch=refetch)
    assert await second.accept(sent) is None, "the redelivered platform message is recognised after the restart"
    await second.close()
    assert (restored.conversation, restored.text, restored.message_id) == (A, "这个有红色吗", "7")
    assert restored.language_hint == "zh-hans" and restored.payload == "kefu:human" and restored.client == "203.0.113.9"
    assert restored.metadata == {"chat_type": "private", "album_size": 2} and restored.answer == sent.answer
    assert restored.timestamp == sent.timestamp
    kept_photo, kept_voice, kept_lost = restored.attachments
    assert await kept_photo.read(max_bytes=100) == b"\xff\xd8jpeg-bytes" and kept_photo.filename == "a.jpg"
    assert await kept_voice.read(max_bytes=100) == b"OggS" and kept_voice.duration_s == 3.0
    assert fetched == [("telegram", "file-42")]
    with pytest.raises(BadInput, match="send it once more"):
        await kept_lost.read(max_bytes=100)


async def no_refetch_fetch() -> bytes:
    raise AssertionError("the original fetch is not used after a restart")


async def test_answered_identities_are_forgotten_after_the_window(open_durable: OpenDurable) -> None:
    inbox = await open_durable(remember_s=60)
    seq = await inbox.accept(message(A, "1", "my secret text"))
    assert seq is not None
    await inbox.complete(seq, A, Reply(text="one"))
    assert await inbox.prune(now=time.time()) == 0
    assert "my secret text" not in await everything_kept(inbox), "an answered message's text is not kept"
    assert await inbox.accept(message(A, "1")) is None
    assert await inbox.prune(now=time.time() + 61) == 1
    assert await inbox.accept(message(A, "1")) is not None
    await inbox.close()


async def everything_kept(inbox: SqliteInbox | RedisInbox) -> str:
    """Every value the inbox's store holds, as text."""
    if isinstance(inbox, SqliteInbox):
        return str([tuple(row) for row in await inbox.db.fetch("SELECT * FROM inbox")])
    client = inbox.redis
    values = []
    async for key in client.scan_iter():
        kind = (await client.type(key)).decode()
        values.append(
            await {
                "hash": client.hgetall,
                "string": client.get,
                "zset": lambda k: client.zrange(k, 0, -1),
                "set": client.smembers,
                "list": lambda k: client.lrange(k, 0, -1),
            }[kind](key)
        )
    return repr(values)


async def test_a_restarted_redis_is_reconnected_and_keeps_what_was_acknowledged(
    redis_url: str, redis_server: RedisServer
) -> None:
    """Redis restarted under a running inbox (AOF on): the next call reconnects and reloads the scripts, and every
    accepted message and queued reply is still there."""
    inbox = RedisInbox(await RedisConnection.open(redis_url))
    try:
        first = await inbox.accept(message(A, "1", "before"))
        answered = await inbox.accept(message(B, "1", "answered"))
        assert first is not None and answered is not None
        await inbox.complete(answered, B, Reply(text="queued before"))
        redis_server.restart()
        assert await inbox.accept(message(A, "1", "before")) is None, "the identity survived the restart"
        second = await inbox.accept(message(A, "2", "after"))
        assert second is not None and second > answered
        assert [m.text for _, m in await inbox.pending(refetch=no_refetch)] == ["before", "after"]
        head = await inbox.next_due(B, now=1e12)
        assert head is not None and head.reply.text == "queued before"
        redis_server.stop()
        with pytest.raises(RedisError):
            await inbox.accept(message(A, "3", "while down"))  # the channel does not acknowledge: redelivered
        redis_server.start()
        assert await inbox.accept(message(A, "3", "while down")) is not None
    finally:
        await inbox.close()
