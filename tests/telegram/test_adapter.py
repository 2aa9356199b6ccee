"""Adapter set-up: configuration errors, refused tokens, lazy aiogram import, download caps, lifecycle."""

from __future__ import annotations

import subprocess
import sys

import aiohttp
import pytest
from aiohttp import web

from adapters.telegram import TelegramAdapter
from adapters.telegram.files import DEFAULT_MAX_DOWNLOAD_BYTES
from adapters.testing.telegram import FakeTelegram
from bot.errors import ConfigError, InputTooLarge
from bot.messages import Message


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"token": "not-a-token"}, "<digits>:<text>"),
        ({"token": "1:a", "mode": "websocket"}, "'polling' or 'webhook'"),
        ({"token": "1:a", "mode": "webhook", "webhook_secret": "s"}, "WEBHOOK_URL"),
        ({"token": "1:a", "mode": "webhook", "webhook_url": "https://x/telegram/webhook"}, "WEBHOOK_SECRET"),
        (
            {"token": "1:a", "mode": "webhook", "webhook_url": "https://x", "webhook_secret": "bad secret!"},
            "WEBHOOK_SECRET",
        ),
        ({"token": "1:a", "api_base": "ftp://local"}, "API_BASE"),
    ],
)
def test_bad_configuration_is_a_clear_error(options: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint.replace("(", r"\(")):
        TelegramAdapter(**options)  # type: ignore[arg-type]


async def test_a_token_telegram_refuses_is_a_config_error(fake_telegram: FakeTelegram) -> None:
    adapter = TelegramAdapter(token="999:wrong", api_base=fake_telegram.base_url)

    async def dispatch(message: Message) -> None:
        raise AssertionError("nothing should arrive")

    with pytest.raises(ConfigError, match="401"):
        await adapter.start(dispatch)
    await adapter.stop()


def test_importing_the_adapter_and_the_fake_does_not_import_aiogram() -> None:
    code = (
        "import sys, adapters.telegram, adapters.testing.telegram, adapters.testing.plugin, bot.cli.telegram; "
        "assert 'aiogram' not in sys.modules, 'aiogram imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_download_cap_is_kefus_own_whatever_the_api_base() -> None:
    for base in ("https://api.telegram.org", "http://127.0.0.1:8081", "https://bot-api.example.com"):
        assert TelegramAdapter(token="1:a", api_base=base)._max_download_bytes == DEFAULT_MAX_DOWNLOAD_BYTES
    assert DEFAULT_MAX_DOWNLOAD_BYTES == 20 * 1024 * 1024
    assert TelegramAdapter(token="1:a", max_download_bytes=5000)._max_download_bytes == 5000


async def test_a_300_mb_voice_with_no_size_is_refused_after_reading_little_more_than_the_cap(
    fake_telegram: FakeTelegram,
) -> None:
    """A local Bot API server (here the fake) serves any size; kefu stops reading at its own 20 MB."""
    received: list[Message] = []

    async def dispatch(message: Message) -> None:
        received.append(message)

    adapter = TelegramAdapter(token=fake_telegram.token, api_base=fake_telegram.base_url, polling_timeout_s=1)
    await adapter.start(dispatch)
    try:
        fake_telegram.user(302).sends_large_voice(300 * 1024 * 1024)
        await fake_telegram.wait_until(lambda: bool(received))
        [voice] = received[0].attachments
        assert voice.size is None
        with pytest.raises(InputTooLarge, match=f"over the {DEFAULT_MAX_DOWNLOAD_BYTES}-byte download limit"):
            await voice.read(max_bytes=DEFAULT_MAX_DOWNLOAD_BYTES)
        [served] = fake_telegram.served.values()
        assert served < 2 * DEFAULT_MAX_DOWNLOAD_BYTES, f"{served} bytes were sent before the bot stopped reading"
    finally:
        await adapter.stop()


async def test_oversized_file_is_refused_before_downloading(fake_telegram: FakeTelegram) -> None:
    received: list[Message] = []

    async def dispatch(message: Message) -> None:
        received.append(message)

    adapter = TelegramAdapter(
        token=fake_telegram.token, api_base=fake_telegram.base_url, polling_timeout_s=1, max_download_bytes=1000
    )
    await adapter.start(dispatch)
    try:
        fake_telegram.user(301).sends_voice(b"v" * 5000)
        await fake_telegram.wait_until(lambda: bool(received))
        [message] = received
        with pytest.raises(InputTooLarge, match="5000 bytes"):
            await message.attachments[0].fetch()
        assert not any("/file/" in str(c.params) for c in fake_telegram.calls)
    finally:
        await adapter.stop()
        await adapter.stop()


async def test_download_stops_streaming_past_the_cap_when_no_size_was_announced(fake_telegram: FakeTelegram) -> None:
    from adapters.telegram.files import download

    small = fake_telegram.add_file(b"s" * 100, suffix="oga", announce_size=False)
    large = fake_telegram.add_file(b"L" * 300_000, suffix="oga", announce_size=False)
    bot = fake_telegram.aiogram_bot()
    try:
        assert await download(bot, small["file_id"], max_bytes=1000) == b"s" * 100
        with pytest.raises(InputTooLarge, match="over the 1000-byte download limit"):
            await download(bot, large["file_id"], max_bytes=1000)
    finally:
        await bot.session.close()


async def test_a_file_id_telegram_refuses_is_bad_input_for_the_sender(fake_telegram: FakeTelegram) -> None:
    """Found by the fuzz suite: a forged or expired file id was an internal error with a traceback."""
    from adapters.telegram.files import download
    from bot.errors import BadInput, user_message

    bot = fake_telegram.aiogram_bot()
    try:
        with pytest.raises(BadInput) as refused:
            await download(bot, "F-no-such-file", max_bytes=1000)
    finally:
        await bot.session.close()
    assert user_message(refused.value) == "Telegram could not give this file (Bad Request: invalid file_id)"


async def test_webhook_before_start_is_503_and_a_forged_secret_is_checked_first() -> None:
    adapter = TelegramAdapter(
        token="1:a", mode="webhook", webhook_url="https://x/telegram/webhook", webhook_secret="right"
    )
    app = web.Application()
    app.add_routes(adapter.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://{host}:{port}/telegram/webhook"
            async with http.post(url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "no"}) as r:
                assert r.status == 401
            async with http.post(url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": "right"}) as r:
                assert r.status == 503
    finally:
        await runner.cleanup()


def test_the_configured_send_limit_reaches_the_adapters_rate_limiter(tmp_path) -> None:
    from bot.app.channels import build_adapters
    from bot.config import load_settings

    token = "123456:" + "A" * 35
    for configured, expected in (({}, 30), ({"messages_per_second": 200}, 200)):
        settings = load_settings(data_dir=tmp_path, telegram={"token": token, **configured})
        [adapter] = build_adapters(settings, ["telegram"])
        assert adapter._limiter.global_per_second == expected  # type: ignore[attr-defined]
