"""One client cannot take the chat from others: big frames, odd JSON, too many sockets, hand-off floods."""

from __future__ import annotations

import asyncio
import base64
import json

import aiohttp
import pytest

from adapters.web import ClientLimits
from bot.messages import HUMAN_PAYLOAD

MIB = 1024 * 1024


async def test_big_text_frames_are_refused_while_another_shopper_is_answered(web_chat_server, chat_client) -> None:
    server = await web_chat_server(speech_enabled=True)
    flooder, shopper = await chat_client(server.url), await chat_client(server.url)
    clip = bytes(range(256)) * (12 * MIB // 256)
    for size in (2 * MIB, 10 * MIB, 30 * MIB):
        await flooder.ws.send_str(json.dumps({"type": "message", "text": "a" * size}))
    await flooder.send({"mime": "audio/ogg", "data": base64.b64encode(clip).decode(), "type": "voice"})
    await shopper.say("where is my parcel?")
    assert (await shopper.next_of("reply"))["text"] == "?lecrap ym si erehw"
    for _ in range(3):
        assert "too long to read" in (await flooder.next_of("error", timeout=30))["message"]
    assert (await flooder.next_of("reply", timeout=30))["text"] == f"got a voice of {len(clip)} bytes"
    assert sorted(m.text or m.attachments[0].kind for m in server.received) == ["voice", "where is my parcel?"]


async def test_text_frames_are_capped_near_the_text_limit(web_chat_server, chat_client) -> None:
    server = await web_chat_server(max_text_chars=100)
    client = await chat_client(server.url)
    await client.say("x" * 5_000)  # over 100 characters but a small frame: cut, as before
    assert "only the first 100" in (await client.next_of("notice"))["message"]
    await client.next_of("reply")
    await client.say("x" * 20_000)  # over the text frame size: refused unread
    assert "keep it under 100 characters" in (await client.next_of("error"))["message"]
    await client.say("x" * 100_000)  # past twice that size, with no uploads enabled: the socket closes
    with pytest.raises(ConnectionError, match="code=1009"):
        await client.next_frame()
    assert [len(m.text) for m in server.received] == [100]


async def test_a_number_too_long_to_read_gets_an_error_and_the_socket_stays_open(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.ws.send_str('{"type": "message", "text": "hi", "id": ' + "7" * 5000 + "}")
    await client.say("still there?")
    assert "number too long" in (await client.next_of("error"))["message"]
    assert (await client.next_of("reply"))["text"] == "?ereht llits"
    assert [m.text for m in server.received] == ["still there?"]


@pytest.mark.parametrize("text", ["\u200b\u200b", "\ufeff", "\u2060", "\u200d", " \u200b\ufeff \n"])
async def test_invisible_text_is_empty(web_chat_server, chat_client, text) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.say(text)
    assert "Your message is empty" in (await client.next_of("error"))["message"]
    assert server.received == []


async def refused(client) -> str:
    """The error text of a socket refused over a limit, after checking it closes with 1013 (try again later)."""
    message = (await client.next_of("error"))["message"]
    with pytest.raises(ConnectionError, match="code=1013"):
        await client.next_frame()
    return message


async def connect_raw(url: str, http: aiohttp.ClientSession, **params: str):
    from adapters.web.testing import ChatClient

    ws = await http.ws_connect(f"{url}/ws", params=params)
    return ChatClient(ws, {"session": params.get("session", "")})


async def test_sockets_are_capped_per_session_per_address_and_overall(web_chat_server, chat_client) -> None:
    limits = ClientLimits(max_sockets=5, max_sockets_per_address=4, max_sockets_per_session=2)
    server = await web_chat_server(client_limits=limits)
    tab = await chat_client(server.url)
    second_tab = await chat_client(server.url, session=tab.session)
    async with aiohttp.ClientSession() as http:
        assert "too many tabs" in await refused(await connect_raw(server.url, http, session=tab.session))
        others = [await chat_client(server.url) for _ in range(2)]
        assert "from your network" in await refused(await connect_raw(server.url, http))
    await second_tab.close()
    await asyncio.sleep(0.05)
    again = await chat_client(server.url, session=tab.session)  # a closed socket frees its place
    for client in (tab, again, *others):
        await client.say("ok?")
        assert (await client.next_of("reply"))["text"] == "?ko"


async def test_messages_carry_the_client_address_the_core_counts_requests_for_a_human_by(
    web_chat_server, chat_client
) -> None:
    server = await web_chat_server()
    tabs = [await chat_client(server.url) for _ in range(2)]
    await tabs[0].send({"type": "button", "payload": HUMAN_PAYLOAD})
    await tabs[1].say("I want a person")
    for tab in tabs:
        await tab.next_of("reply")
    assert [m.client for m in server.received] == ["127.0.0.1", "127.0.0.1"]
    assert {m.conversation.conversation_id for m in server.received} == {tab.session for tab in tabs}
