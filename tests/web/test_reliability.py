"""One client cannot take the chat from others: big frames, odd JSON, too many sockets, hand-off floods."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("text", ["\u200b\u200b", "\ufeff", "\u2060", "\u200d", " \u200b\ufeff \n"])
async def test_invisible_text_is_empty(web_chat_server, chat_client, text) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.say(text)
    assert "Your message is empty" in (await client.next_of("error"))["message"]
    assert server.received == []
