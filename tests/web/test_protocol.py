"""The web chat over a real socket: page and assets, hello, replies, sessions, reconnect delivery, shutdown."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.errors import DeliveryDeferred
from bot.messages import ConversationRef, QuickReply, Reply, Source

REPLY_KEYS = {
    "type",
    "id",
    "text",
    "language",
    "sources",
    "quick_replies",
    "escalated",
    "quote",
    "intent",
    "confidence",
    "seq",
}


async def test_page_and_assets_are_served(web_chat_server) -> None:
    server = await web_chat_server(title="Lumen & Loom <客服>")
    async with aiohttp.ClientSession() as http:
        page = await http.get(f"{server.url}/")
        body = await page.text()
        assert page.status == 200 and page.content_type == "text/html"
        assert "default-src 'self'" in page.headers["Content-Security-Policy"]
        assert "<title>Lumen &amp; Loom &lt;客服&gt;</title>" in body
        for element_id in ("input", "send", "messages", "record", "photo", "human"):
            assert f'id="{element_id}"' in body
        script = await http.get(f"{server.url}/web/chat.js")
        style = await http.get(f"{server.url}/web/chat.css")
        assert script.content_type == "application/javascript" and "new WebSocket" in await script.text()
        assert style.content_type == "text/css" and ".msg.bot" in await style.text()


async def test_hello_announces_session_features_and_limits(web_chat_server, chat_client) -> None:
    server = await web_chat_server(max_text_chars=500, max_upload_bytes=1234, speech_enabled=True)
    client = await chat_client(server.url)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", client.session)
    assert client.hello["features"] == {"voice": True, "photo": False}
    assert client.hello["limits"] == {"text_chars": 500, "upload_bytes": 1234}
    assert client.hello["human_payload"] == "kefu:human"


async def test_text_becomes_a_message_and_the_reply_comes_back(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.send({"type": "message", "text": "  where is my parcel?  ", "id": "c-1"})
    frames = [await client.next_frame() for _ in range(2)]  # the answer may begin before the acceptance is sent
    assert sorted(frames, key=lambda frame: frame["type"]) == [
        {"type": "accepted", "id": "c-1", "duplicate": False},
        {"type": "typing"},
    ]
    reply = await client.next_frame()
    assert set(reply) == REPLY_KEYS
    assert reply["text"] == "?lecrap ym si erehw"
    assert reply["sources"] == [{"id": "echo-policy", "title": "Echo policy · 回声说明", "score": 0.87}]
    assert reply["quick_replies"][1] == {"label": "转人工", "payload": "kefu:human"}
    assert (reply["intent"], reply["confidence"], reply["escalated"], reply["seq"]) == ("echo", 1.0, False, 1)
    [message] = server.received
    assert message.conversation == ConversationRef("web", client.session)
    assert (message.user_id, message.message_id, message.text) == (client.session, "c-1", "where is my parcel?")


async def test_chinese_round_trip(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.say("我想退货")
    reply = await client.next_of("reply")
    assert (reply["text"], reply["language"]) == ("货退想我", "zh")


async def test_button_press_carries_the_payload(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.send({"type": "button", "payload": "kefu:human"})
    reply = await client.next_of("reply")
    assert reply["text"] == "pressed kefu:human" and reply["escalated"] is True
    assert server.received[0].payload == "kefu:human" and server.received[0].text == ""


async def test_reply_for_a_gone_socket_waits_for_the_session_to_return(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    first = await chat_client(server.url)
    conversation = ConversationRef("web", first.session)
    await first.close()
    for reply in (
        Reply(text="one", sources=(Source("s", "S", 0.5),), id="r1"),
        Reply(text="two", quick_replies=(QuickReply("ok", "ok"),), id="r2"),
    ):
        with pytest.raises(DeliveryDeferred):  # the runtime's outbox offers it again later
            await server.adapter.send(conversation, reply)
    with pytest.raises(DeliveryDeferred):
        await server.adapter.send(conversation, Reply(text="one", id="r1"))  # offered again: kept once
    assert server.adapter.undelivered(conversation) == 2
    again = await chat_client(server.url, session=first.session)
    assert again.session == first.session
    assert [(await again.next_frame())["text"] for _ in range(2)] == ["one", "two"]
    assert server.adapter.undelivered(conversation) == 0
    await server.adapter.send(conversation, Reply(text="two", id="r2"))  # the outbox's retry: already taken
    await server.adapter.send(conversation, Reply(text="three", id="r3"))
    assert (await again.next_frame())["text"] == "three"


async def test_a_page_that_says_what_it_saw_gets_later_replies_again(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    conversation = ConversationRef("web", client.session)
    for text in ("a", "b", "c"):
        await server.adapter.send(conversation, Reply(text=text))
    assert [(await client.next_frame())["seq"] for _ in range(3)] == [1, 2, 3]
    epoch = client.hello["epoch"]
    resumed = await chat_client(server.url, session=client.session, after=f"{epoch}.1")
    assert [(await resumed.next_frame())["text"] for _ in range(2)] == ["b", "c"]
    stranger = await chat_client(server.url, session=client.session, after="0badc0de.1")
    await server.adapter.send(conversation, Reply(text="d"))
    assert (await stranger.next_frame())["text"] == "d"


async def test_undelivered_replies_are_bounded_keeping_the_newest(web_chat_server, chat_client) -> None:
    server = await web_chat_server(max_pending=3)
    conversation = ConversationRef("web", "never-connected-session-0001")
    for number in range(5):
        with pytest.raises(DeliveryDeferred):
            await server.adapter.send(conversation, Reply(text=str(number)))
    client = await chat_client(server.url, session=conversation.conversation_id)
    assert [(await client.next_frame())["text"] for _ in range(3)] == ["2", "3", "4"]


async def test_every_socket_of_a_session_gets_the_reply(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    tab_one = await chat_client(server.url)
    tab_two = await chat_client(server.url, session=tab_one.session)
    await server.adapter.working(ConversationRef("web", tab_one.session))
    await server.adapter.send(ConversationRef("web", tab_one.session), Reply(text="both"))
    for tab in (tab_one, tab_two):
        assert await tab.next_frame() == {"type": "typing"}
        assert (await tab.next_frame())["text"] == "both"


@pytest.mark.parametrize("asked", ["short", "../../etc/passwd-and-more-chars", "x" * 65, ""])
async def test_a_malformed_session_id_gets_a_fresh_session(web_chat_server, chat_client, asked) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url, session=asked)
    assert client.session != asked and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", client.session)


async def test_stop_closes_sockets_and_refuses_new_ones(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await server.adapter.stop()
    with pytest.raises(ConnectionError, match="code=1001"):
        await client.next_frame()
    await server.adapter.stop()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{server.url}/ws")
    assert refused.value.status == 503


async def test_typing_for_an_absent_session_is_not_kept(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    conversation = ConversationRef("web", "absent-session-00000001")
    await server.adapter.working(conversation)
    with pytest.raises(DeliveryDeferred):
        await server.adapter.send(conversation, Reply(text="after typing"))
    client = await chat_client(server.url, session=conversation.conversation_id)
    assert (await client.next_frame())["text"] == "after typing"
