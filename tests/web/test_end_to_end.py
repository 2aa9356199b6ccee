"""The web chat on the real bot: `kefu run`'s app on the demo store, driven in headless chromium."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, Playwright, expect

from bot.app import Components, Kefu, build_transcriber
from bot.config import Settings
from tests.conftest import spoken_wav
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow

SPOKEN_QUESTION = "How long do I have to return shoes?"


@pytest.fixture
async def running_bot(demo_settings: Settings, demo_components: Components) -> AsyncIterator[Kefu]:
    """The app `kefu run` starts (web chat, sessions, hand-off desk, speech), on a free port."""
    settings = demo_settings.model_copy(update={"http": demo_settings.http.model_copy(update={"port": 0})})
    components = dataclasses.replace(demo_components, transcriber=build_transcriber(settings))
    bot = Kefu(settings, components, channels=["web"])
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


@pytest.fixture
def spoken_question(tmp_path: Path) -> Path:
    """A WAV of a shopper asking about returns, for chromium's fake microphone."""
    return spoken_wav(SPOKEN_QUESTION, tmp_path / "question.wav")


async def launch_page(playwright: Playwright, *extra_args: str) -> Page:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + list(extra_args))
    context = await browser.new_context(permissions=["microphone"])
    return await context.new_page()


async def next_answer(page: Page, *actions: Callable[[], Awaitable[None]]) -> Locator:
    """Do ``actions``, then wait for one more bot message and return it."""
    before = await page.locator(".msg.bot").count()
    for action in actions:
        await action()
    await expect(page.locator(".msg.bot")).to_have_count(before + 1, timeout=30_000)
    return page.locator(".msg.bot").nth(before)


async def test_typed_question_gets_the_returns_policy_with_its_source(running_bot: Kefu) -> None:
    from playwright.async_api import async_playwright

    assert running_bot.http is not None
    async with async_playwright() as playwright:
        page = await launch_page(playwright)
        await page.goto(running_bot.http.url)
        await expect(page.locator("#status")).to_have_text(re.compile("Online"))
        await page.fill("#input", "how long do I have to return shoes?")
        await page.click("#send")
        answer = page.locator(".msg.bot").last
        await expect(answer.locator(".answer")).to_contain_text("30 days", timeout=30_000)
        await expect(answer.locator(".sources li").first).to_contain_text(re.compile("return", re.IGNORECASE))

        chinese = await next_answer(
            page, lambda: page.fill("#input", "我想退货"), lambda: page.press("#input", "Enter")
        )
        await expect(chinese.locator(".answer")).to_contain_text("退", timeout=30_000)
        await expect(chinese).to_have_attribute("lang", "zh-CN")

        escalated = await next_answer(page, lambda: page.click("#human"))
        await expect(escalated.locator(".escalated")).to_be_visible(timeout=30_000)
        await page.context.browser.close()


async def test_recorded_voice_note_is_transcribed_and_answered(running_bot: Kefu, spoken_question: Path) -> None:
    from playwright.async_api import async_playwright

    assert running_bot.http is not None
    async with async_playwright() as playwright:
        page = await launch_page(
            playwright,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={spoken_question}",
        )
        await page.goto(running_bot.http.url)
        await expect(page.locator("#voice-off")).to_have_count(0)
        await page.click("#record")
        await page.wait_for_timeout(3500)
        await page.click("#record")
        answer = page.locator(".msg.bot").last
        await expect(answer.locator(".quote")).to_contain_text(re.compile("return", re.IGNORECASE), timeout=60_000)
        await expect(answer.locator(".answer")).to_contain_text("30 days")
        await page.context.browser.close()
