"""One client cannot take the chat from others: big frames, odd JSON, too many sockets, hand-off floods."""

from __future__ import annotations

import pytest


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
