"""Requests Telegram refuses get its 400 description from the fake too, and change nothing."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from adapters.testing.telegram import FakeTelegram


async def _post(fake: FakeTelegram, method: str, body: dict[str, Any]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/{method}", json=body) as response,
    ):
        answer = await response.json()
        return response.status, str(answer.get("description", ""))


@pytest.mark.parametrize(
    ("method", "body", "description"),
    [
        ("sendMessage", {"chat_id": "abc", "text": "x"}, "chat_id must be an integer"),
        ("sendMessage", {"chat_id": 1, "text": "   "}, "message text is empty"),
        ("sendMessage", {"chat_id": 1, "text": "x", "parse_mode": "BBCode"}, "unsupported parse_mode"),
        (
            "sendMessage",
            {"chat_id": 1, "text": "abc", "entities": [{"type": "bold", "offset": 2, "length": 5}]},
            "entity is out of the text",
        ),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "no action"}]]}},
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": "nope"}},
            'field "inline_keyboard" must be of type Array',
        ),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": ["row"]}},
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
        ),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"keyboard": [[{"request_contact": True}]]}},
            "can't parse keyboard button: Can't find field \"text\"",
        ),
        ("sendMessage", {"chat_id": 1}, "message text is empty"),
        ("sendMessage", {"text": "hi"}, "chat_id is empty"),
        ("sendMessage", {"chat_id": -5, "text": "x", "message_thread_id": 7}, "message thread not found"),
        ("createForumTopic", {"chat_id": -5, "name": "Ana"}, "the chat is not a forum"),
        (
            "restrictChatMember",
            {"chat_id": 1, "user_id": 2, "permissions": {}},
            "method is available only for supergroups",
        ),
        ("forwardMessage", {"chat_id": 1, "from_chat_id": 2}, 'parameter "message_id" is required'),
        ("sendPhoto", {"chat_id": 1}, "there is no photo in the request"),
        ("sendPhoto", {"chat_id": 1, "photo": "attach://missing"}, "file attach://missing not found in the request"),
        (
            "sendDocument",
            {"chat_id": 1, "document": "https://x.example/a.pdf", "caption": "c" * 1025},
            "message caption is too long",
        ),
        ("sendMediaGroup", {"chat_id": 1, "media": "not json"}, "can't parse media JSON object"),
        (
            "sendMediaGroup",
            {"chat_id": 1, "media": [{"type": "poll", "media": "x"}, {"type": "poll", "media": "y"}]},
            "can't parse InputMedia: type \"poll\" can't be used in sendMediaGroup",
        ),
        ("sendMediaGroup", {"chat_id": 1, "media": []}, "there are no messages to send"),
        (
            "sendMediaGroup",
            {"chat_id": 1, "media": [{"type": "photo", "media": "https://x.example/p.jpg"}] * 11},
            "too many messages to send as an album",
        ),
        ("setMyCommands", {"commands": {"start": "Start"}}, "can't parse commands JSON object"),
        ("sendLocation", {"chat_id": 1, "latitude": "north"}, "wrong latitude or longitude"),
        ("sendChatAction", {"chat_id": 1, "action": "dancing"}, "wrong parameter action in request"),
        ("editMessageText", {"inline_message_id": "abc", "text": "x"}, "MESSAGE_ID_INVALID"),
        ("setMyCommands", {"commands": [{"command": "ok", "description": ""}]}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            "setMyCommands",
            {"commands": [{"command": "ok", "description": "d"}], "scope": 5},
            "can't parse BotCommandScope JSON object",
        ),
        ("setChatMenuButton", {"menu_button": {"type": "app"}}, "can't parse menu button JSON object"),
        ("setChatMenuButton", {"menu_button": {"type": "web_app"}}, "web app menu button needs text and web_app"),
        (
            "sendInvoice",
            {"chat_id": 1, "title": "T", "description": "D", "payload": "p", "currency": "XTR", "prices": []},
            "there must be at least one price",
        ),
        (
            "sendInvoice",
            {"chat_id": 1, "title": "T", "description": "D", "payload": "p"},
            'parameter "currency" is required',
        ),
        (
            "sendInvoice",
            {
                "chat_id": 1,
                "title": "T",
                "description": "D",
                "payload": "p",
                "currency": "XTR",
                "provider_token": "284685063:TEST:abc",
                "prices": [{"label": "x", "amount": 1}],
            },
            "STARS_INVOICE_INVALID",
        ),
        (
            "sendInvoice",
            {
                "chat_id": 1,
                "title": "T",
                "description": "D",
                "payload": "p",
                "currency": "TXR",
                "prices": [{"label": "x", "amount": 1}],
            },
            "PAYMENT_PROVIDER_INVALID",
        ),
        (
            "sendInvoice",
            {
                "chat_id": 1,
                "title": "T" * 33,
                "description": "D",
                "payload": "p",
                "currency": "XTR",
                "prices": [{"label": "x", "amount": 1}],
            },
            "INVOICE_TITLE_INVALID",
        ),
        (
            "sendInvoice",
            {
                "chat_id": 1,
                "title": "T",
                "description": "D",
                "payload": "p",
                "currency": "EUR",
                "provider_token": "284685063:TEST:abc",
                "prices": [{"label": "x", "amount": 0}],
            },
            "CURRENCY_TOTAL_AMOUNT_INVALID",
        ),
        ("answerPreCheckoutQuery", {"pre_checkout_query_id": "never", "ok": True}, "query is too old"),
        ("answerCallbackQuery", {"callback_query_id": "never"}, "query is too old"),
        ("refundStarPayment", {"user_id": 1, "telegram_payment_charge_id": "x"}, "CHARGE_NOT_FOUND"),
        ("getFile", {"file_id": "nope"}, "invalid file_id"),
    ],
)
async def test_bad_requests_are_refused_with_telegrams_words(
    fake_telegram: FakeTelegram, method: str, body: dict[str, Any], description: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters.testing.telegram")
    status, said = await _post(fake_telegram, method, body)
    assert status == 400 and said.startswith("Bad Request: ") and description in said
    assert fake_telegram.sent == {}
    assert any(method in r.getMessage() and description in r.getMessage() for r in caplog.records)


async def test_too_many_inline_results_and_duplicate_ids(fake_telegram: FakeTelegram) -> None:
    query = fake_telegram.user(1).asks_inline("x")["inline_query"]["id"]
    article = {"type": "article", "title": "t", "input_message_content": {"message_text": "m"}}
    many = [article | {"id": str(i)} for i in range(51)]
    assert await _post(fake_telegram, "answerInlineQuery", {"inline_query_id": query, "results": many}) == (
        400,
        "Bad Request: too many inline query results specified",
    )
    assert fake_telegram.inline_answers == []


async def test_only_the_bots_own_messages_can_be_edited(fake_telegram: FakeTelegram) -> None:
    mine = fake_telegram.user(2).says("user text")["message"]["message_id"]
    assert await _post(fake_telegram, "editMessageText", {"chat_id": 2, "message_id": mine, "text": "x"}) == (
        400,
        "Bad Request: message can't be edited",
    )
