"""Personal data: masked in logs, traces and everything the store writes (SQLite and Redis); deletable on request."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot.app import Dialogue
from bot.config import Settings
from bot.handoff.base import TicketState
from bot.pii import PiiFilter, install_log_filter, mask_pii
from bot.sessions.sqlite import Database
from tests.dialogue.conftest import STORES, Shopper

PHONE = "+86 139 1122 3344"
CARD = "4111 1111 1111 1111"
RAW = ("1122 3344", "11223344", "4111 1111 1111 1111", "4111111111111111", "13912345678", "wangfang@example.com")


async def everything_stored(settings: Settings, dialogue: Dialogue) -> str:
    """Every byte the store holds: the SQLite files and cells, or every Redis value and the server's append-only
    files (what a backup or a disk image would show)."""
    if isinstance(dialogue.db, Database):
        return every_byte_of(settings.data_dir)
    client = dialogue.db.client
    values = []
    async for key in client.scan_iter():
        kind = (await client.type(key)).decode()
        read = {
            "hash": client.hgetall,
            "string": client.get,
            "set": client.smembers,
            "zset": lambda k: client.zrange(k, 0, -1),
            "list": lambda k: client.lrange(k, 0, -1),
        }[kind]
        values.extend(flat(await read(key)))
    folder = Path((await client.config_get("dir"))["dir"])
    files = [path.read_bytes().decode("utf-8", "replace") for path in folder.rglob("*.aof*") if path.is_file()]
    return "\n".join([*values, *files])


def flat(value: object) -> list[str]:
    """The texts inside a Redis answer (bytes, or containers of bytes)."""
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [text for pair in value.items() for item in pair for text in flat(item)]
    if isinstance(value, list | set | tuple):
        return [text for item in value for text in flat(item)]
    return [str(value)]


def every_byte_of(folder: Path) -> str:
    """The data dir's SQLite files (database, WAL, shared memory) as text, plus every cell of every table."""
    blobs = [path.read_bytes().decode("utf-8", "replace") for path in folder.glob("kefu.sqlite3*")]
    with sqlite3.connect(folder / "kefu.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        cells = [str(cell) for table in tables for row in db.execute(f"SELECT * FROM {table}") for cell in row]
    return "\n".join([*blobs, *cells])


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call +86 138 0013 8000 now", "call [phone …8000] now"),
        ("我的电话是13912345678谢谢", "我的电话是[phone …5678]谢谢"),
        ("(415) 555-0134", "[phone …0134]"),
        ("card 4111-1111-1111-1111 ok", "card [card …1111] ok"),
        ("卡号6222020200112233446", "卡号[card …3446]"),
        ("mail liwei@example.com.", "mail l***@example.com."),
        ("order #100234, 订单号100241, ¥499.0 on 2026-11-24", "order #100234, 订单号100241, ¥499.0 on 2026-11-24"),
        ("tracking SF1234567890", "tracking SF1234567890"),
    ],
)
def test_mask_pii(text: str, masked: str) -> None:
    assert mask_pii(text) == masked


@STORES
async def test_no_unmasked_phone_or_card_in_logs_or_the_store_after_a_conversation(
    dialogue: Dialogue,
    shopper: Shopper,
    settings,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    pii = install_log_filter()
    try:
        first = await shopper.say(f"my phone is {PHONE}, where is my order?")
        assert first is not None and "order number" in first.text.lower()
        second = await shopper.say(f"it's #100241, I paid with card {CARD}, email wangfang@example.com")
        assert second is not None and "100241" in second.text
        third = await shopper.say("我要找人工，我的手机13912345678")
        assert third is not None and third.escalated
        logging.getLogger("kefu.test").warning("shopper wrote %s", f"call me on {PHONE}")
    finally:
        logging.getLogger().removeFilter(pii)
        for handler in logging.getLogger().handlers:
            handler.removeFilter(pii)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "[phone …3344]" in logged and "[card …1111]" in logged, "the raw messages were logged, masked"
    stored = await everything_stored(settings, dialogue)
    assert "[phone …3344]" in stored and "[phone …5678]" in stored and "w***@example.com" in stored
    for secret in RAW:
        assert secret not in logged
        assert secret not in stored
    assert "#100241" in stored, "order numbers are kept"


def test_the_log_filter_masks_arguments_and_keeps_malformed_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "card %s", (CARD,), None)
    assert PiiFilter().filter(record) and record.getMessage() == "card [card …1111]"
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("not a number",), None)
    assert PiiFilter().filter(broken)


@STORES
async def test_a_shopper_is_forgotten_on_request_and_old_sessions_are_purged(dialogue: Dialogue) -> None:
    alice, bob = Shopper(dialogue, user="alice", conversation="a"), Shopper(dialogue, user="bob", conversation="b")
    await alice.say("我要找人工")
    await bob.say("hello")
    assert await dialogue.store.forget_user("alice") == 1
    assert await dialogue.desk.forget_user("alice") == 1
    assert (await dialogue.store.load(str(alice.ref))).history == []
    assert await dialogue.desk.tickets() == []
    assert len((await dialogue.store.load(str(bob.ref))).history) == 2
    assert await dialogue.store.purge(older_than_days=1) == 0
    await age_every_session(dialogue, days=3)
    assert await dialogue.store.purge(older_than_days=2) == 1
    assert (await dialogue.store.load(str(bob.ref))).history == []


async def age_every_session(dialogue: Dialogue, *, days: float) -> None:
    """Make every session look idle for ``days`` (written straight into the store, as time passing would)."""
    then = time.time() - days * 86400
    if isinstance(dialogue.db, Database):
        async with dialogue.db.transaction() as c:
            await c.execute("UPDATE sessions SET updated_at = ?", (then,))
        return
    client, key = dialogue.db.client, dialogue.db.key("sessions")
    for conversation in await client.zrange(key, 0, -1):
        await client.zadd(key, {conversation: then})
        await client.hset(dialogue.db.key("session", conversation.decode()), "updated_at", repr(then))


@STORES
async def test_purge_deletes_resolved_tickets_only_with_their_messages(dialogue: Dialogue) -> None:
    alice, bob = Shopper(dialogue, user="alice", conversation="a"), Shopper(dialogue, user="bob", conversation="b")
    await alice.say("我要找人工")
    await bob.say("I want a human")
    resolved, kept = [t.id for t in await dialogue.desk.tickets()]
    await dialogue.desk.resolve(resolved, operator="ana")
    assert await dialogue.desk.purge(older_than_days=1) == 0, "resolved just now: kept"
    assert await dialogue.desk.purge(older_than_days=-1) == 1, "only the resolved ticket goes"
    assert [t.id for t in await dialogue.desk.tickets(states=tuple(TicketState))] == [kept]
    assert await dialogue.desk.messages(resolved) == []
    assert await dialogue.desk.forget_user("alice") == 0 and await dialogue.desk.forget_user("bob") == 1
