"""What the contract suite cannot know about this platform: signatures, its event shapes, its limits, settings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from kefu_line import LineAdapter, factory
from kefu_line.testing import FakeLine

from adapters.testing.routes import serve_routes
from bot.errors import ConfigError
from bot.messages import ConversationRef, Message, QuickReply, Reply, Source

CHAT = ConversationRef("line", "U9")


class Line:
    """The adapter served on a loopback port, wired to the fake, recording what it dispatched."""

    def __init__(self, fake: FakeLine, adapter: LineAdapter) -> None:
        self.fake, self.adapter = fake, adapter
        self.received: list[Message] = []

    async def dispatch(self, message: Message) -> bool:
        self.received.append(message)
        return True


@pytest_asyncio.fixture
async def line(fake_line: FakeLine) -> AsyncIterator[Line]:
    adapter = LineAdapter(
        channel_secret=fake_line.channel_secret, channel_token=fake_line.channel_token, api_base=fake_line.base_url
    )
    served = Line(fake_line, adapter)
    async with serve_routes(adapter) as url:
        fake_line.webhook_url = url + adapter.webhook_path
        await adapter.start(served.dispatch)
        yield served
        await adapter.stop()


def event(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "message",
        "webhookEventId": "E1",
        "source": {"type": "user", "userId": "U1"},
        "message": {"type": "text", "id": "1", "text": "hello"},
    }
    return {**base, **fields}


@pytest.mark.asyncio
async def test_an_unsigned_or_forged_request_is_refused(line: Line) -> None:
    body = json.dumps({"events": [event()]}).encode()
    assert await line.fake.post(body, sign=False) == 401
    line.fake.channel_secret = "not-the-secret"
    assert await line.fake.post(body) == 401
    assert line.received == []


@pytest.mark.asyncio
async def test_odd_events_are_skipped_and_the_rest_of_the_body_is_read(line: Line) -> None:
    odd = [
        7,
        "event",
        {"type": "follow", "webhookEventId": "E2", "source": {"type": "user", "userId": "U1"}},
        event(source=None),
        event(source={"type": "user", "userId": 12}),
        event(webhookEventId=["E"]),
        event(message={"type": "text", "text": "no id"}),
        event(message="hello"),
        event(type="postback", postback={"data": {"nested": True}}),
        event(type="postback"),
        event(source={"type": "group", "userId": "U1"}),
    ]
    status = await line.fake.deliver(*odd, event(message={"type": "text", "id": "9", "text": "still read"}))
    assert status == 200
    assert [m.text for m in line.received] == ["still read"]


@pytest.mark.asyncio
async def test_what_the_bot_cannot_read_gets_a_clear_answer(line: Line) -> None:
    await line.fake.deliver(
        event(message={"type": "sticker", "id": "1", "packageId": "446"}),
        event(message={"type": "text", "id": "2", "text": "x" * 6000}),
        event(message={"type": "text", "id": "3", "text": 42}),
    )
    answers = [m.answer.text if m.answer else None for m in line.received]
    assert answers == [
        "Sorry, I can read only text messages here.",
        "That message is too long; please send at most 5000 characters.",
        "Sorry, I can read only text messages here.",
    ]
    assert [m.message_id for m in line.received] == ["1", "2", "3"]


@pytest.mark.asyncio
async def test_a_group_is_one_conversation_and_a_press_carries_the_event_id(line: Line) -> None:
    group = {"type": "group", "groupId": "G7", "userId": "U1"}
    await line.fake.deliver(
        event(source=group), event(type="postback", webhookEventId="E5", source=group, postback={"data": "order:track"})
    )
    said, pressed = line.received
    assert said.conversation.conversation_id == pressed.conversation.conversation_id == "G7"
    assert (said.user_id, said.message_id) == ("U1", "1")
    assert (pressed.payload, pressed.message_id) == ("order:track", "E5")


@pytest.mark.asyncio
async def test_replies_keep_the_platform_limits(line: Line) -> None:
    long = " ".join(["word"] * 7000)  # 7 messages: two pushes, as one takes at most 5 (the fake refuses more)
    buttons = tuple(QuickReply(f"Choice number {n} with a long label", f"choice:{n}") for n in range(20))
    await line.adapter.send(CHAT, Reply(text=long, quick_replies=buttons, id="r1"))
    shown = line.fake.shown["U9"]
    assert len(shown) == 7 and all(len(m["text"]) <= 5000 for m in shown)
    assert " ".join(m["text"] for m in shown).split() == long.split()
    items = shown[-1]["quickReply"]["items"]
    assert len(items) == 13 and all(len(i["action"]["label"]) <= 20 for i in items)
    assert [i["action"]["data"] for i in items] == [f"choice:{n}" for n in range(13)]


@pytest.mark.asyncio
async def test_a_reply_sent_again_is_shown_once_and_an_operator_is_named(line: Line) -> None:
    reply = Reply(
        text="30 days.",
        author="alice",
        id="r2",
        sources=(Source("returns", "Returns & refunds", 0.9, "https://shop.example/returns"),),
    )
    await line.adapter.send(CHAT, reply)
    await line.adapter.send(CHAT, reply)  # the courier's retry after a lost acknowledgement
    [shown] = line.fake.shown["U9"]
    assert shown["sender"] == {"name": "alice"}
    assert shown["text"] == "30 days.\n\n[1] Returns & refunds https://shop.example/returns"


def test_the_factory_names_what_is_missing_or_misspelt() -> None:
    with pytest.raises(
        ConfigError,
        match=r"set KEFU_ADAPTERS__LINE__CHANNEL_SECRET and set KEFU_ADAPTERS__LINE__"
        r"CHANNEL_TOKEN",
    ):
        factory(settings={})
    with pytest.raises(ConfigError, match=r"unknown setting api_bsae"):
        factory(settings={"channel_secret": "s", "channel_token": "t", "api_bsae": "http://x"})
    adapter = factory(settings={"channel_secret": "s", "channel_token": "t", "webhook_path": "/hooks/line"})
    assert [route.path for route in adapter.routes()] == ["/hooks/line"]  # type: ignore[attr-defined]
