"""Hostile webhook bodies: deeply nested JSON and malformed updates are 400s with one warning line."""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiohttp
import pytest

from tests.telegram.conftest import WEBHOOK_SECRET, Harness

pytestmark = pytest.mark.parametrize("mode", ["webhook"])


async def _post(url: str, body: str) -> tuple[int, dict[str, object]]:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


def _no_traceback(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The warnings logged; fails on any error record, traceback or multi-line message."""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info], "a traceback was logged"
    assert all("\n" not in r.getMessage() for r in caplog.records)
    return [r for r in caplog.records if r.levelno == logging.WARNING]


async def test_a_body_nested_100_000_deep_is_a_400_with_one_warning(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert tg.webhook_url is not None
    caplog.set_level(logging.INFO)
    depth = 100_000
    status, body = await _post(tg.webhook_url, '{"update_id": 5, "message": ' + "[" * depth + "]" * depth + "}")
    assert (status, body) == (400, {"ok": False, "error": "JSON nested too deeply"})
    [warning] = _no_traceback(caplog)
    assert "nested too deeply" in warning.getMessage()
    tg.fake.user(601).says("still here?")
    [answer] = await tg.fake.wait_for_messages(601, 1)
    assert answer.text == "echo: still here?"


async def test_a_malformed_update_is_one_warning_line_without_its_values(
    tg: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    assert tg.webhook_url is not None
    caplog.set_level(logging.INFO)
    status, _ = await _post(
        tg.webhook_url,
        '{"update_id": 7, "message": {"message_id": "x", "text": "138.0013.8000",'
        ' "chat": {"id": 1, "type": "private"}}}',
    )
    assert status == 400
    [warning] = _no_traceback(caplog)
    assert "malformed update 7" in warning.getMessage() and "message.date" in warning.getMessage()
    assert "138.0013.8000" not in caplog.text


FORGED = "cb1\nCRITICAL bot.security: FORGED admin login ok\r\x1b[2K"


async def test_a_forged_callback_id_cannot_write_a_log_line(
    tg: Harness, kefu_logging: Callable[[str], object], capsys: pytest.CaptureFixture[str]
) -> None:
    kefu_logging("INFO")
    user = tg.fake.user(602)
    user.says("hi")
    [answer] = await tg.fake.wait_for_messages(602, 1)
    tg.fake.fail_next("answerCallbackQuery", status=500)
    update = tg.fake.inject_update(
        "callback_query",
        {"id": FORGED, "from": user.user, "chat_instance": "602", "message": answer.obj, "data": "yes"},
    )
    await tg.fake.wait_until(lambda: any(d.update_id == update["update_id"] for d in tg.fake.webhook_deliveries))
    logged = capsys.readouterr().err
    assert "answerCallbackQuery failed for cb1\\nCRITICAL bot.security: FORGED admin login ok\\r\\x1b[2K" in logged
    assert not [line for line in logged.splitlines() if "FORGED" in line and not line[:4].isdigit()], logged
    assert "\x1b" not in logged and "\r" not in logged
