"""The chat page in headless Debian chromium (Playwright): typing, answers with sources, buttons, notices."""

from __future__ import annotations

import io
import re

import pytest
from playwright.async_api import Page, expect

from adapters.web import FloodLimit
from bot.errors import DeliveryDeferred
from bot.messages import ConversationRef, Reply

pytestmark = pytest.mark.slow


async def open_chat(page: Page, url: str) -> None:
    await page.goto(url)
    await expect(page.locator("#status")).to_have_text(re.compile("Online"))


async def test_typed_questions_get_answers_with_sources(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server()
    page = browser_page
    await open_chat(page, server.url)
    await page.fill("#input", "how long do I have to return shoes?")
    await page.click("#send")
    await expect(page.locator(".msg.user").last).to_have_text("how long do I have to return shoes?")
    answer = page.locator(".msg.bot").last
    await expect(answer.locator(".answer")).to_have_text("?seohs nruter ot evah I od gnol woh")
    await expect(answer.locator(".sources li")).to_have_text(["Echo policy · 回声说明"])
    await expect(page.locator("#input")).to_have_value("")

    await page.fill("#input", "我想退货")
    await page.press("#input", "Enter")
    chinese = page.locator(".msg.bot").last
    await expect(chinese.locator(".answer")).to_have_text("货退想我")
    await expect(chinese).to_have_attribute("lang", "zh-CN")
    assert [m.text for m in server.received] == ["how long do I have to return shoes?", "我想退货"]


async def test_messages_typed_faster_than_the_flood_limit_arrive_all_and_in_order(
    web_chat_server, browser_page: Page
) -> None:
    """The page sends one message at a time and sends a refused one again when told, before any later one."""
    server = await web_chat_server(flood_limit=FloodLimit(rate_per_s=2.0, burst=1, hard_cap=50))
    page = browser_page
    await open_chat(page, server.url)
    typed = [f"question {n}" for n in range(5)]
    for text in typed:
        await page.fill("#input", text)
        await page.press("#input", "Enter")
    await expect(page.locator(".msg.bot .answer")).to_have_count(5, timeout=15000)
    assert [m.text for m in server.received] == typed


async def test_quick_replies_and_the_human_button(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server()
    page = browser_page
    await open_chat(page, server.url)
    await page.fill("#input", "hello")
    await page.press("#input", "Enter")
    await page.locator(".quick-reply", has_text="Track my order").last.click()
    await expect(page.locator(".msg.bot .answer").last).to_have_text("pressed order_status")
    await expect(page.locator(".msg.user").last).to_have_text("Track my order")
    await expect(page.locator("#human")).to_have_text("Talk to a human · 转人工")
    await page.click("#human")
    await expect(page.locator(".msg.bot .answer").last).to_have_text("pressed kefu:human")
    await expect(page.locator(".msg.bot").last.locator(".escalated")).to_be_visible()
    assert [m.payload for m in server.received] == [None, "order_status", "kefu:human"]


async def test_voice_and_photo_say_plainly_they_are_not_enabled(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server()
    page = browser_page
    await open_chat(page, server.url)
    await expect(page.locator("#voice-off")).to_contain_text("Voice notes are not enabled yet")
    await expect(page.locator("#photo-off")).to_contain_text("Photos are not enabled yet")
    await expect(page.locator("#record")).to_be_disabled()
    await expect(page.locator("#photo")).to_be_disabled()


async def test_voice_button_records_webm_and_sends_it(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server(speech_enabled=True)
    page = browser_page
    await open_chat(page, server.url)
    await expect(page.locator("#voice-off")).to_have_count(0)
    await page.click("#record")
    await expect(page.locator("#record")).to_have_class(re.compile("recording"))
    await page.wait_for_timeout(700)
    await page.click("#record")
    await expect(page.locator(".msg.user").last).to_have_text("🎤 Voice note · 语音")
    answer = page.locator(".msg.bot").last
    await expect(answer.locator(".answer")).to_have_text(re.compile(r"got a voice of \d+ bytes"))
    await expect(answer.locator(".quote")).to_have_text("🎤 what you said")
    [message] = server.received
    voice = message.attachments[0]
    data = await voice.read(max_bytes=voice.size or 0)
    assert voice.kind == "voice" and voice.mime_type == "audio/webm"
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # a WebM (EBML) file
    assert decoded_seconds(data) > 0.2


def decoded_seconds(webm: bytes) -> float:
    """Seconds of audio PyAV (the speech engine's decoder) reads from a recording."""
    av = pytest.importorskip("av", reason="PyAV comes with the speech extra")
    with av.open(io.BytesIO(webm)) as container:
        frames = list(container.decode(audio=0))
    return sum(frame.samples / frame.sample_rate for frame in frames)


async def test_enabled_photo_upload_is_size_checked_then_sent(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server(vision_enabled=True, speech_enabled=True, max_upload_bytes=2000)
    page = browser_page
    await open_chat(page, server.url)
    await expect(page.locator("#photo-off")).to_have_count(0)
    await expect(page.locator("#record")).to_be_enabled()
    await page.set_input_files("#photo", files=[{"name": "big.png", "mimeType": "image/png", "buffer": b"x" * 2001}])
    await expect(page.locator(".msg.error").last).to_contain_text("It was not sent")
    await page.fill("#input", "is this in stock?")
    shoe = {"name": "shoe.png", "mimeType": "image/png", "buffer": b"\x89PNG" * 100}
    await page.set_input_files("#photo", files=[shoe])
    answer = page.locator(".msg.bot").last
    await expect(answer.locator(".answer")).to_have_text("got a photo of 400 bytes")
    await expect(answer.locator(".quote")).to_have_text("📷 what you said")
    [message] = server.received
    assert message.text == "is this in stock?" and message.attachments[0].filename == "shoe.png"


async def test_typing_quotes_and_replies_across_a_reconnect_and_a_reload(web_chat_server, browser_page: Page) -> None:
    server = await web_chat_server()
    page = browser_page
    await open_chat(page, server.url)
    session = await page.evaluate("sessionStorage.getItem('kefu.session')")
    conversation = ConversationRef("web", session)
    await server.adapter.working(conversation)
    await expect(page.locator("#typing")).to_be_visible()
    await server.adapter.send(conversation, Reply(text="pushed by an operator", quote="🎤 where is my order"))
    await expect(page.locator("#typing")).to_be_hidden()
    await expect(page.locator(".msg.bot .quote").last).to_have_text("🎤 where is my order")
    await server.adapter.stop()  # the page's socket closes (1001) and the page keeps retrying
    with pytest.raises(DeliveryDeferred):  # kept for the reconnect; the runtime's outbox would offer it again
        await server.adapter.send(conversation, Reply(text="sent while you were away"))
    await expect(page.locator("#status")).to_have_text(re.compile("Reconnecting"))
    await server.adapter.start(server.dispatch)
    await expect(page.locator(".msg.bot .answer").last).to_have_text("sent while you were away", timeout=10_000)
    await page.reload()
    await open_chat(page, server.url)
    assert await page.evaluate("sessionStorage.getItem('kefu.session')") == session
    await page.fill("#input", " ")
    await page.press("#input", "Enter")
    await page.fill("#input", "still here?")
    await page.press("#input", "Enter")
    await expect(page.locator(".msg.bot .answer").last).to_have_text("?ereh llits")
    await expect(page.locator(".msg.user")).to_have_text(["still here?"])
