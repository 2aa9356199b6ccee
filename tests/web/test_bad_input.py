"""Bad input over the WebSocket gets a clear error frame (or a clean close), never a crash or a hung socket."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
from aiohttp import WSMsgType

from adapters.web import FloodLimit
from bot.errors import BadInput, Overloaded
from bot.messages import Message


async def assert_still_usable(client) -> None:
    """The connection still answers a normal question after the bad frame."""
    await client.say("ok?")
    assert (await client.next_of("reply"))["text"] == "?ko"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "message", "text": ""}, "empty"),
        ({"type": "message", "text": "   \n\t "}, "empty"),
        ({"type": "message", "text": "\x00\x01\x1b\x7f\x85"}, "empty"),
        ({"type": "message"}, '"text" string'),
        ({"type": "message", "text": 42}, '"text" string'),
        ({"type": "message", "text": "hi", "id": ["x"]}, "'id' must be a string"),
        ({"type": "teleport", "text": "hi"}, "Unknown frame type 'teleport'"),
        ({"text": "no type"}, "Unknown frame type '(missing)'"),
        ({"type": "button", "payload": ""}, "no payload"),
        ({"type": "voice", "data": "AAAA", "mime": "audio/webm"}, "Voice notes are not enabled"),
        ({"type": "photo", "data": "AAAA", "mime": "image/jpeg"}, "Photos are not enabled"),
    ],
)
async def test_bad_frames_get_a_clear_error(web_chat_server, chat_client, frame, expected) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.send(frame)
    error = await client.next_frame()
    assert error["type"] == "error" and expected in error["message"]
    await assert_still_usable(client)
    assert [m.text for m in server.received] == ["ok?"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json at all", "must be JSON objects"),
        ('["type", "message"]', "must be JSON objects"),
        ("[" * 60_000, "must be JSON objects"),
        ("[" * 100_000, "too long to read"),
        ('{"type": "message", "text": "unterminated', "must be JSON objects"),
    ],
)
async def test_text_frames_that_are_not_json_objects(web_chat_server, chat_client, raw, expected) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.ws.send_str(raw)
    assert expected in (await client.next_of("error"))["message"]
    await assert_still_usable(client)


async def test_invalid_utf8_in_a_text_frame(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.ws.send_frame(b'{"type": "message", "text": "caf\xe9 \xff"}', WSMsgType.TEXT)
    assert "not valid UTF-8" in (await client.next_of("error"))["message"]
    await assert_still_usable(client)


@pytest.mark.parametrize("data", [b"\xff\xfe\x00binary", json.dumps({"type": "message", "text": "hi"}).encode()])
async def test_binary_frames_are_refused(web_chat_server, chat_client, data) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.ws.send_bytes(data)
    assert "Binary frames are not accepted" in (await client.next_of("error"))["message"]
    await assert_still_usable(client)
    assert len(server.received) == 1


async def test_control_characters_are_stripped_but_newlines_and_tabs_kept(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    raw = json.dumps({"type": "message", "text": "a\x00b\x07c\u0085d\te\r\nf\x1b[31mg\ud800h"})  # \ud800 escaped
    await client.ws.send_str(raw)
    await client.next_of("reply")
    assert server.received[0].text == "abcd\te\nf[31mgh"


async def test_ten_thousand_characters_are_cut_and_the_shopper_is_told(web_chat_server, chat_client) -> None:
    server = await web_chat_server()
    client = await chat_client(server.url)
    await client.say("退" * 10_000)
    notice = await client.next_frame()
    assert notice["type"] == "notice"
    assert "10000 characters" in notice["message"] and "first 4000" in notice["message"]
    await client.next_of("reply")
    [message] = server.received
    assert message.text == "退" * 4000 and message.metadata["truncated_from"] == 10_000


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"type": "voice", "data": "!!!not base64!!!", "mime": "audio/webm"}, "not valid base64"),
        ({"type": "voice", "data": "QUJD=", "mime": "audio/webm"}, "not valid base64"),
        ({"type": "voice", "data": "QUJD\nRA==", "mime": "audio/webm"}, "not valid base64"),
        ({"type": "voice", "data": "5Li\u4e00", "mime": "audio/ogg"}, "not valid base64"),
        ({"type": "voice", "data": "", "mime": "audio/webm"}, "carried no data"),
        ({"type": "voice", "data": 123, "mime": "audio/webm"}, "carried no data"),
        ({"type": "voice", "data": "QUJD", "mime": "image/png"}, "type must be audio/*"),
        ({"type": "voice", "data": "QUJD"}, "type must be audio/*; got 'none'"),
        ({"type": "photo", "data": "QUJD", "mime": "application/pdf"}, "type must be image/*"),
        ({"type": "photo", "data": "QUJD", "mime": "image/png", "name": 5}, "'name' must be a string"),
    ],
)
async def test_malformed_uploads(web_chat_server, chat_client, frame, expected) -> None:
    server = await web_chat_server(speech_enabled=True, vision_enabled=True)
    client = await chat_client(server.url)
    await client.send(frame)
    assert expected in (await client.next_of("error"))["message"]
    await assert_still_usable(client)


async def test_uploads_become_attachments(web_chat_server, chat_client) -> None:
    server = await web_chat_server(speech_enabled=True, vision_enabled=True, max_upload_bytes=1000)
    client = await chat_client(server.url)
    clip, image = bytes(range(256)) * 3, b"\x89PNG\r\n\x1a\n" + b"\x00" * 992
    await client.send({"type": "voice", "data": base64.b64encode(clip).decode(), "mime": "audio/webm;codecs=opus"})
    assert (await client.next_of("reply"))["text"] == "got a voice of 768 bytes"
    await client.send(
        {
            "type": "photo",
            "data": base64.b64encode(image).decode(),
            "mime": "image/png",
            "name": "shoe\x00.png",
            "text": "in stock?",
        }
    )
    reply = await client.next_of("reply")
    assert reply["text"] == "got a photo of 1000 bytes" and reply["quote"] == "what you said"
    voice, photo = (message.attachments[0] for message in server.received)
    assert (voice.kind, voice.mime_type, await voice.read(max_bytes=1000)) == ("voice", "audio/webm;codecs=opus", clip)
    assert (photo.kind, photo.mime_type, photo.filename) == ("photo", "image/png", "shoe.png")
    assert server.received[1].text == "in stock?"


async def test_an_upload_over_the_limit_gets_a_clear_error(web_chat_server, chat_client) -> None:
    server = await web_chat_server(vision_enabled=True, max_upload_bytes=1000)
    client = await chat_client(server.url)
    for size in (1001, 1500):
        await client.send({"type": "photo", "data": base64.b64encode(b"x" * size).decode(), "mime": "image/jpeg"})
        assert "too large: the limit is 1000 bytes" in (await client.next_of("error"))["message"]
    await assert_still_usable(client)
    assert len(server.received) == 1


async def test_a_grossly_oversized_frame_closes_that_socket_only(web_chat_server, chat_client) -> None:
    server = await web_chat_server(vision_enabled=True, max_upload_bytes=1000)
    client = await chat_client(server.url)
    await client.send({"type": "photo", "data": "A" * 200_000, "mime": "image/jpeg"})
    with pytest.raises(ConnectionError, match="code=1009"):
        await client.next_frame()
    await assert_still_usable(await chat_client(server.url, session=client.session))


async def test_a_flood_is_told_to_slow_down_and_not_dispatched(web_chat_server, chat_client) -> None:
    server = await web_chat_server(flood_limit=FloodLimit(rate_per_s=2.0, burst=3, hard_cap=20))
    client = await chat_client(server.url)
    for number in range(6):
        await client.say(f"q{number}")
    frames = [await client.next_frame() for _ in range(3 + 3 + 3 + 3)]  # 3 accepted, 3 typing, 3 replies, 3 errors
    errors = [frame for frame in frames if frame["type"] == "error"]
    assert len(errors) == 3 and all("slow down" in frame["message"] for frame in errors)
    assert all(0 < frame["retry_after_s"] <= 0.5 for frame in errors), "the page is told when to send it again"
    assert sorted(frame["text"] for frame in frames if frame["type"] == "reply") == ["0q", "1q", "2q"]
    assert [message.text for message in server.received] == ["q0", "q1", "q2"]
    await asyncio.sleep(0.6)
    await assert_still_usable(client)


async def test_gross_abuse_closes_the_connection(web_chat_server, chat_client, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.web.adapter")
    server = await web_chat_server(flood_limit=FloodLimit(rate_per_s=0.5, burst=2, hard_cap=5))
    client = await chat_client(server.url)
    for _ in range(50):
        await client.ws.send_str("garbage")
    frames = []
    with pytest.raises(ConnectionError, match="code=1008"):
        while True:
            frames.append(await client.next_frame())
    assert frames[-1]["message"] == "Too many messages: this connection is closed. Reload to continue."
    assert sum("slow down" in frame["message"] for frame in frames) == 5
    assert "flooding past the hard cap" in caplog.text
    await assert_still_usable(await chat_client(server.url))


@pytest.mark.parametrize(
    ("error", "expected", "again"),
    [
        (BadInput("That order number does not look right."), "That order number does not look right.", False),
        (Overloaded("queue full"), "We are very busy right now", True),
        (RuntimeError("internal detail"), "could not be taken just now", True),
    ],
)
async def test_dispatch_failures_become_clear_errors(web_chat_server, chat_client, error, expected, again) -> None:
    """A refusal for now says when to send the message again (before any later one); a refusal for good does not."""
    calls: list[Message] = []

    def make_dispatch(adapter):
        async def dispatch(message: Message) -> bool:
            calls.append(message)
            if len(calls) == 1:
                raise error
            return True

        return dispatch

    server = await web_chat_server(make_dispatch)
    client = await chat_client(server.url)
    await client.say("first")
    frame = await client.next_of("error")
    assert expected in frame["message"] and "internal detail" not in frame["message"]
    assert ("retry_after_s" in frame) is again
    await client.say("second")
    await asyncio.sleep(0.05)
    assert [m.text for m in calls] == ["first", "second"]
