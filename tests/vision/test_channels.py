"""Photos through the channels on the real bot (`kefu run`'s app, demo store, real describer): the web chat's photo
button in headless chromium, and Telegram photos and image documents through the fake Bot API."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from importlib.resources import files
from typing import Any

import pytest
from playwright.async_api import expect
from pydantic import SecretStr

from adapters.testing.telegram import FakeTelegram
from bot.app import Components, Kefu
from bot.config import Settings
from tests.vision.conftest import render_label
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from vision import PhotoDescriber

pytestmark = pytest.mark.slow


def product(sku: str) -> dict[str, Any]:
    """A demo product, its stock as the total (the catalogue may give it per size)."""
    products = json.loads(files("bot.demo.store").joinpath("products.json").read_text(encoding="utf-8"))
    item = next(item for item in products if item["sku"] == sku)
    stock = item["stock"]
    return item | {"stock": sum(stock.values()) if isinstance(stock, dict) else stock}


def on_free_port(settings: Settings, **sections: Any) -> Settings:
    return settings.model_copy(update={"http": settings.http.model_copy(update={"port": 0}), **sections})


@pytest.fixture
async def web_bot(
    demo_settings: Settings, demo_components: Components, describer: PhotoDescriber
) -> AsyncIterator[Kefu]:
    bot = Kefu(on_free_port(demo_settings), dataclasses.replace(demo_components, describer=describer), channels=["web"])
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
async def telegram_bot(
    demo_settings: Settings, demo_components: Components, describer: PhotoDescriber, fake_telegram: FakeTelegram
) -> AsyncIterator[Kefu]:
    telegram = demo_settings.telegram.model_copy(
        update={"token": SecretStr(fake_telegram.token), "api_base": fake_telegram.base_url, "mode": "polling"}
    )
    settings = on_free_port(demo_settings, telegram=telegram)
    bot = Kefu(settings, dataclasses.replace(demo_components, describer=describer), channels=["telegram"])
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


async def test_the_web_chat_photo_button_gets_the_product_on_the_label(web_bot: Kefu) -> None:
    from playwright.async_api import async_playwright

    shoe, boot = product("LL-SH-001"), product("LL-SH-003")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    assert web_bot.http is not None
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.goto(web_bot.http.url)
        await expect(page.locator("#status")).to_have_text(re.compile("Online"))
        await expect(page.locator("#photo-off")).to_have_count(0)
        await expect(page.locator("#photo")).to_be_enabled()
        label = render_label([shoe["en"]["name"], f"SKU {shoe['sku']}"], angle=4)
        await page.set_input_files("#photo", files=[{"name": "label.jpg", "mimeType": "image/jpeg", "buffer": label}])
        answer = page.locator(".msg.bot").last
        await expect(answer.locator(".answer")).to_contain_text(shoe["en"]["name"], timeout=60_000)
        await expect(answer.locator(".answer")).to_contain_text(f"{shoe['price']:g} CNY")
        await expect(answer.locator(".answer")).to_contain_text(f"In stock: {shoe['stock']}")
        await expect(answer.locator(".quote")).to_contain_text("📷 I can see:")
        await expect(answer.locator(".quote")).to_contain_text("LL-SH-001")

        before = await page.locator(".msg.bot").count()
        await page.fill("#input", "这双靴子多少钱？")
        label = render_label([boot["zh"]["name"], f"货号 {boot['sku']}"], seed=3)
        await page.set_input_files("#photo", files=[{"name": "靴子.jpg", "mimeType": "image/jpeg", "buffer": label}])
        await expect(page.locator(".msg.bot")).to_have_count(before + 1, timeout=60_000)
        chinese = page.locator(".msg.bot").nth(before)
        await expect(chinese.locator(".answer")).to_contain_text(f"「{boot['zh']['name']}」", timeout=60_000)
        await expect(chinese.locator(".answer")).to_contain_text(f"库存：{boot['stock']} 件")
        await expect(chinese.locator(".quote")).to_contain_text("📷 我看到：")
        await browser.close()


async def test_a_telegram_photo_and_an_image_document_reach_the_describer(
    telegram_bot: Kefu, fake_telegram: FakeTelegram
) -> None:
    shoe, runner = product("LL-SH-001"), product("LL-SH-004")
    user = fake_telegram.user(501)
    user.sends_photo(render_label([shoe["en"]["name"], f"SKU {shoe['sku']}"]), caption="does this come in red?")
    [answer] = await fake_telegram.wait_for_messages(501, 1, timeout=90)
    assert shoe["en"]["name"] in answer.text and f"{shoe['price']:g} CNY" in answer.text
    assert f"In stock: {shoe['stock']}" in answer.text and "doesn't come in red" in answer.text
    assert "I can see:" in answer.text

    user.sends_document(
        render_label([runner["zh"]["name"], runner["sku"]], seed=5),
        file_name="label.jpg",
        mime_type="image/jpeg",
        caption="这个有货吗",
    )
    answers = await fake_telegram.wait_for_messages(501, 2, timeout=90)
    assert f"「{runner['zh']['name']}」" in answers[1].text and f"库存：{runner['stock']} 件" in answers[1].text


async def test_a_telegram_photo_that_is_not_an_image_gets_a_clear_answer(
    telegram_bot: Kefu, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.user(502).sends_photo(b"this is a text file pretending to be a photo\n" * 20)
    [answer] = await fake_telegram.wait_for_messages(502, 1, timeout=90)
    assert "couldn't use your photo" in answer.text and "JPEG, PNG, WebP or GIF" in answer.text


async def test_a_telegram_album_is_one_turn_offering_each_product_shown(
    telegram_bot: Kefu, fake_telegram: FakeTelegram
) -> None:
    shoe, boot = product("LL-SH-001"), product("LL-SH-003")
    fake_telegram.user(503).sends_album(
        [render_label([shoe["sku"]], seed=1), render_label([boot["en"]["name"], boot["sku"]], seed=2)],
        caption="which of these do you have?",
    )
    [answer] = await fake_telegram.wait_for_messages(503, 1, timeout=90)
    assert shoe["en"]["name"] in answer.text and boot["en"]["name"] in answer.text
    assert answer.text.count("I can see:") == 2
    await fake_telegram.wait_quiet(0.5)
    assert len(fake_telegram.sent[503]) == 1
