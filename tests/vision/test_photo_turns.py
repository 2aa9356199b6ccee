"""Photo turns through the real pipeline (demo store, real describer): a label naming a product gets that product
with price, colours and stock, in the shopper's language; a photo naming none gets a question, never a guess."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from bot.app import Components, build_pipeline, open_dialogue
from bot.config import Settings
from bot.messages import HUMAN_PAYLOAD, Attachment, ConversationRef, Message, Reply
from bot.pipeline import Pipeline
from tests.vision.conftest import render_label, sample_photo
from vision import PhotoDescriber

pytestmark = pytest.mark.slow


def product(sku: str) -> dict[str, Any]:
    """A demo product, its stock as the total (the catalogue may give it per size)."""
    products = json.loads(files("bot.demo.store").joinpath("products.json").read_text(encoding="utf-8"))
    item = next(item for item in products if item["sku"] == sku)
    stock = item["stock"]
    return item | {"stock": sum(stock.values()) if isinstance(stock, dict) else stock}


@pytest.fixture
async def pipeline(
    demo_settings: Settings, demo_components: Components, describer: PhotoDescriber
) -> AsyncIterator[Pipeline]:
    built = build_pipeline(demo_settings, dataclasses.replace(demo_components, describer=describer))
    yield built
    await built.engines.aclose()


async def send(pipeline: Pipeline, photo: bytes, text: str = "", **fields: Any) -> Reply:
    attachment = Attachment.from_bytes("photo", photo, mime_type="image/jpeg", filename="photo.jpg")
    message = Message(ConversationRef("test", "photo"), user_id="u", text=text, attachments=(attachment,), **fields)
    return await pipeline.handle(message)


async def test_a_label_naming_a_product_by_sku_gets_it_with_price_colours_and_stock(pipeline: Pipeline) -> None:
    shoe = product("LL-SH-001")
    reply = await send(pipeline, render_label([shoe["en"]["name"], f"SKU {shoe['sku']}"], angle=5))
    assert reply.quote is not None and reply.quote.startswith("📷 I can see:") and "LL-SH-001" in reply.quote
    assert shoe["en"]["name"] in reply.text and "LL-SH-001" in reply.text
    assert f"{shoe['price']:g} {shoe['currency']}" in reply.text
    assert f"In stock: {shoe['stock']}" in reply.text
    assert all(colour in reply.text for colour in shoe["colours"])
    assert [source.id for source in reply.sources] == ["LL-SH-001#en"]
    assert "match" in reply.timings_ms and "matched LL-SH-001 by sku" in (reply.reason or "")


async def test_a_chinese_shopper_gets_the_product_in_chinese(pipeline: Pipeline) -> None:
    boot = product("LL-SH-003")
    reply = await send(pipeline, render_label([boot["zh"]["name"], f"货号 {boot['sku']}"]), "这个还有货吗？")
    assert reply.language == "zh"
    assert reply.quote is not None and reply.quote.startswith("📷 我看到：")
    assert f"「{boot['zh']['name']}」" in reply.text and f"{boot['price']:g} CNY" in reply.text
    assert f"库存：{boot['stock']} 件" in reply.text


async def test_a_label_naming_a_product_by_name_only_gets_it(pipeline: Pipeline) -> None:
    runner = product("LL-SH-004")
    reply = await send(pipeline, render_label([runner["en"]["name"], "Lightweight knit"], angle=-6, seed=9))
    assert runner["en"]["name"] in reply.text and "LL-SH-004" in reply.text
    assert "by name" in (reply.reason or "")


async def test_a_colour_question_with_the_photo_is_answered_from_the_product(pipeline: Pipeline) -> None:
    shoe = product("LL-SH-001")
    reply = await send(pipeline, render_label([shoe["sku"]]), "does this come in red?")
    assert shoe["en"]["name"] in reply.text
    assert "doesn't come in red" in reply.text and "black" in reply.text
    white = await send(pipeline, render_label([shoe["sku"]]), "有白色吗", language="zh")
    assert "有的，这款有白色" in white.text


async def test_an_out_of_stock_product_says_so(pipeline: Pipeline) -> None:
    flat = product("LL-SH-002")
    assert flat["stock"] == 0
    reply = await send(pipeline, render_label([flat["en"]["name"], flat["sku"]]))
    assert flat["en"]["name"] in reply.text and "out of stock" in reply.text


async def test_a_photo_naming_no_product_says_what_was_seen_and_asks(pipeline: Pipeline) -> None:
    reply = await send(pipeline, sample_photo("coffee.png"))
    assert reply.quote is not None and "espresso" in reply.quote
    assert "couldn't match this photo" in reply.text
    assert not reply.sources and "LL-" not in reply.text


async def test_an_unknown_sku_is_never_claimed(pipeline: Pipeline) -> None:
    reply = await send(pipeline, render_label(["Trailblazer Hiking Sandal", "SKU ZZ-XX-999"]))
    assert reply.quote is not None and "ZZ-XX-999" in reply.quote
    assert "couldn't match this photo" in reply.text and not reply.sources


async def test_a_broken_photo_gets_a_clear_reason_and_the_words_are_still_answered(pipeline: Pipeline) -> None:
    reply = await send(pipeline, b"\xff\xd8\xff\xe0 not really a jpeg", "how long do I have to return shoes?")
    assert "couldn't use your photo" in reply.text
    assert "30 days" in reply.text


async def test_a_photo_alone_that_cannot_be_opened_says_why(pipeline: Pipeline) -> None:
    reply = await send(pipeline, b"hello, I am a text file\n" * 40)
    assert "couldn't use your photo" in reply.text and "JPEG, PNG, WebP or GIF" in reply.text


async def test_the_hand_off_desk_shows_what_was_seen_in_the_photo(
    demo_settings: Settings, demo_components: Components, describer: PhotoDescriber, tmp_path: Path
) -> None:
    settings = demo_settings.model_copy(update={"data_dir": tmp_path})
    components = dataclasses.replace(demo_components, describer=describer)
    dialogue = await open_dialogue(
        settings, pipeline=lambda orders: build_pipeline(settings, components, orders=orders)
    )
    try:
        where = ConversationRef("test", "desk")
        photo = Attachment.from_bytes("photo", sample_photo("coffee.png"), mime_type="image/png")
        await dialogue.conversations.handle(Message(where, user_id="u", attachments=(photo,)))
        await dialogue.conversations.handle(Message(where, user_id="u", text="", payload=HUMAN_PAYLOAD))
        [ticket] = await dialogue.desk.tickets()
        transcript = [message.text for message in await dialogue.desk.messages(ticket.id)]
        assert any("📷 I can see: espresso" in text for text in transcript), transcript
    finally:
        await dialogue.aclose()
        await dialogue.pipeline.engines.aclose()


async def test_a_chinese_screenshot_sent_without_words_is_answered_in_chinese(pipeline: Pipeline) -> None:
    reply = await send(pipeline, render_label(["订单号 100234", "已发货 顺丰速运"]))
    assert reply.language == "zh"
    assert reply.quote is not None and reply.quote.startswith("📷 我看到：") and "100234" in reply.quote
    settled = await send(pipeline, render_label(["订单号 100234"]), language_hint="en")
    assert settled.language == "en"  # a conversation (or client) already in English stays in English


async def test_a_screenshot_of_an_order_number_looks_the_order_up(
    demo_settings: Settings, demo_components: Components, describer: PhotoDescriber, tmp_path: Path
) -> None:
    settings = demo_settings.model_copy(update={"data_dir": tmp_path})
    components = dataclasses.replace(demo_components, describer=describer)
    dialogue = await open_dialogue(
        settings, pipeline=lambda orders: build_pipeline(settings, components, orders=orders)
    )
    try:
        screenshot = render_label(["订单号 100234", "已发货 顺丰速运", "¥499.00"])
        attachment = Attachment.from_bytes("photo", screenshot, mime_type="image/png")
        where = ConversationRef("test", "order-shot")
        reply = await dialogue.conversations.handle(Message(where, user_id="u", attachments=(attachment,)))
        assert reply.language == "zh" and "订单 #100234" in reply.text and "SF1234567890" in reply.text
        assert "order_status" in (reply.reason or "")
        english = Attachment.from_bytes("photo", render_label(["Order #100235", "Delivered"]), mime_type="image/png")
        elsewhere = ConversationRef("test", "order-shot-en")
        asked = Message(elsewhere, user_id="u", text="where is it?", attachments=(english,))
        answer = await dialogue.conversations.handle(asked)
        assert "Order #100235" in answer.text and "delivered" in answer.text.lower()
    finally:
        await dialogue.aclose()
        await dialogue.pipeline.engines.aclose()


async def test_a_chinese_shopper_hears_what_was_seen_in_chinese_and_no_product_is_claimed(pipeline: Pipeline) -> None:
    reply = await send(pipeline, sample_photo("coffee.png"), "这个有红色的吗")
    assert reply.language == "zh" and reply.quote is not None
    assert reply.quote.startswith("📷 我看到：") and "咖啡" in reply.quote and "espresso" not in reply.quote
    assert "没能在商品目录中找到" in reply.text and not reply.sources and "LL-" not in reply.text
