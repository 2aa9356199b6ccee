"""Telegram's semantics in the fake: formatting, edits, allowed_updates, several bots, names, 501s, bad updates."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramServerError
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from adapters.testing.telegram import FakeTelegram, NotImplementedByFake
from adapters.testing.telegram.entities import parse
from adapters.testing.telegram.payloads import BadRequest


def _keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=x, callback_data=x.lower()) for x in labels]]
    )


async def test_markdown_v2_is_parsed_into_text_and_entities(fake_telegram: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(1, "Hello *world*\\!", parse_mode="MarkdownV2")
    assert sent.text == "Hello world!"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 6, 5)]
    with pytest.raises(TelegramBadRequest, match=r"Character '!' is reserved and must be escaped"):
        await bot.send_message(1, "Hello *world*!", parse_mode="MarkdownV2")
    assert [m.text for m in fake_telegram.sent_to(1)] == ["Hello world!"]


async def test_default_parse_mode_html_with_links_and_code(fake_telegram: FakeTelegram) -> None:
    from aiogram.client.default import DefaultBotProperties

    bot = fake_telegram.aiogram_bot(default=DefaultBotProperties(parse_mode="HTML"))
    try:
        sent = await bot.send_message(
            2, 'Track <a href="https://t.example/1">here</a>: <code>A&amp;1</code> 😀 <b>ok</b>'
        )
    finally:
        await bot.session.close()
    assert sent.text == "Track here: A&1 😀 ok"
    [seen] = fake_telegram.sent_to(2)
    assert seen.formatted("text_link") == ["here"] and seen.entities[0].url == "https://t.example/1"
    assert seen.formatted("code") == ["A&1"] and seen.formatted("bold") == ["ok"]  # offsets count UTF-16 units


@pytest.mark.parametrize(
    ("text", "mode", "visible", "kinds"),
    [
        (
            "*b* _i_ __u__ ~s~ ||sp|| `c`",
            "MarkdownV2",
            "b i u s sp c",
            ["bold", "italic", "underline", "strikethrough", "spoiler", "code"],
        ),
        ("[site](https://a.example/x\\)y) \\*not bold\\*", "MarkdownV2", "site *not bold*", ["text_link"]),
        ("```python\nprint(1)\n```", "MarkdownV2", "print(1)\n", ["pre"]),
        (">quoted\n>lines\nplain", "MarkdownV2", "quoted\nlines\nplain", ["blockquote"]),
        ("*bold* _it_ `code` [l](http://x.y)", "Markdown", "bold it code l", ["bold", "italic", "code", "text_link"]),
        (
            '<b>b <i>bi</i></b> <s>s</s> <tg-spoiler>x</tg-spoiler> <pre><code class="language-py">y</code></pre>',
            "HTML",
            "b bi s x y",
            ["bold", "italic", "strikethrough", "spoiler", "pre"],
        ),
    ],
)
def test_entity_parsing(text: str, mode: str, visible: str, kinds: list[str]) -> None:
    got, entities = parse(text, mode)
    assert got == visible
    assert sorted(e["type"] for e in entities) == sorted(kinds)


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("a.b", "MarkdownV2", "Character '.' is reserved"),
        ("*open", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("_x *y_ z*", "MarkdownV2", "Can't find end of"),
        ("*open", "Markdown", "Can't find end of the entity starting at byte offset 0"),
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "HTML", "Unexpected end tag at byte offset 1"),
        ("<b>x", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("😀<script>", "HTML", 'Unsupported start tag "script" at byte offset 4'),
        ("1 < 2", "HTML", 'Unsupported start tag "" at byte offset 2'),
    ],
)
def test_unparseable_markup_is_refused_like_telegram(text: str, mode: str, error: str) -> None:
    with pytest.raises(BadRequest, match="can't parse entities") as caught:
        parse(text, mode)
    assert error in str(caught.value)


async def test_an_edit_replaces_the_keyboard_and_only_visible_buttons_can_be_pressed(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(3, "Pick a size", reply_markup=_keyboard("S", "M"))
    await bot.edit_message_text("Pick a colour", chat_id=3, message_id=sent.message_id, reply_markup=_keyboard("Red"))
    [seen] = fake_telegram.sent_to(3)
    assert seen.buttons == [[("Red", "red")]] and seen.text == "Pick a colour"
    with pytest.raises(LookupError, match="no button 'S' visible"):
        fake_telegram.user(3).presses("S")
    press = fake_telegram.user(3).presses("Red")["callback_query"]
    assert press["message"]["text"] == "Pick a colour"
    await bot.edit_message_text("Done", chat_id=3, message_id=sent.message_id)  # no markup: keyboard removed
    assert seen.buttons == []
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Done", chat_id=3, message_id=sent.message_id)


async def test_allowed_updates_are_honoured(fake_telegram: FakeTelegram, bot: Bot) -> None:
    group = fake_telegram.user(-500, user_id=77)
    group.joins()
    group.says("hi all")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.event_type for u in updates] == ["message"]
    assert fake_telegram.dropped_updates[0]["chat_member"]["new_chat_member"]["status"] == "member"
    group.joins()
    default = await bot.get_updates(offset=updates[-1].update_id + 1, allowed_updates=[])
    assert default == []  # chat_member only when asked for by name
    group.joins()
    asked = await bot.get_updates(allowed_updates=["chat_member"])
    assert [u.event_type for u in asked] == ["chat_member"]


async def test_private_chats_carry_the_users_name(fake_telegram: FakeTelegram, bot: Bot) -> None:
    fake_telegram.user(15, first_name="Mei", last_name="Chen", username="meichen").says("hi")
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.chat.first_name == "Mei"
    assert update.message.from_user is not None and update.message.from_user.username == "meichen"
    sent = await bot.send_message(15, "hello Mei")
    assert sent.chat.first_name == "Mei" and sent.chat.last_name == "Chen"
    assert fake_telegram.user(15).user["first_name"] == "Mei"


async def test_several_bots_share_one_fake(fake_telegram: FakeTelegram, bot: Bot) -> None:
    second = fake_telegram.add_bot("987654:SECOND-token", username="second_bot")
    other = second.aiogram_bot()
    try:
        assert (await other.get_me()).username == "second_bot"
        second.user(16).says("to the second bot")
        assert await bot.get_updates() == []
        [update] = await other.get_updates()
        assert update.message is not None and update.message.text == "to the second bot"
        await other.send_message(16, "from the second bot")
    finally:
        await other.session.close()
    assert [m.text for m in second.sent_to(16)] == ["from the second bot"] and fake_telegram.sent_to(16) == []
    assert [c.method for c in second.calls] == ["getMe", "getUpdates", "sendMessage"]
    with pytest.raises(ValueError, match="already on this fake"):
        fake_telegram.add_bot("987654:SECOND-token")
    with pytest.raises(RuntimeError, match="start the fake before adding bots"):
        FakeTelegram().add_bot("1:x")


async def test_an_unimplemented_method_answers_501_and_fails_the_wait_at_once(fake_telegram: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message()
    async def invite(message: Message) -> None:
        await message.bot.export_chat_invite_link(message.chat.id)  # type: ignore[union-attr]

    bot = fake_telegram.aiogram_bot()
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    fake_telegram.user(17).says("invite link please")
    started = time.monotonic()
    with pytest.raises(NotImplementedByFake, match="fake Telegram: method exportChatInviteLink is not implemented"):
        await fake_telegram.expect_reply(17, timeout=30)
    assert time.monotonic() - started < 30
    await dp.stop_polling()
    await polling
    await bot.session.close()
    assert fake_telegram.calls_to("exportChatInviteLink")[0].status == 501
    fake_telegram.unimplemented.clear()  # the fixture would fail this test at teardown otherwise


async def test_unimplemented_methods_raise_a_server_error_and_misspelt_ones_404(
    fake_telegram: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(TelegramServerError, match="method exportChatInviteLink is not implemented"):
        await bot.export_chat_invite_link(1)
    with pytest.raises(NotImplementedByFake):
        fake_telegram.check()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake_telegram.base_url}/bot{fake_telegram.token}/sendMesage", json={}) as response,
    ):
        assert (response.status, (await response.json())["description"]) == (404, "Not Found")
    assert fake_telegram.unimplemented == ["exportChatInviteLink"]
    fake_telegram.unimplemented.clear()


def test_a_malformed_hand_built_update_is_refused_with_aiogram_s_error() -> None:
    fake = FakeTelegram()
    with pytest.raises(ValueError, match=r"(?s)would not parse in aiogram.*message\.chat.*Field required"):
        fake.inject_update("message", {"message_id": 1, "date": 0, "text": "no chat"})
    with pytest.raises(ValueError, match="unknown update type 'mesage'"):
        fake.inject_update("mesage", {})
    assert fake.pending_updates == 0


async def test_reply_keyboards_are_shown_and_tapped(fake_telegram: FakeTelegram, bot: Bot) -> None:
    from aiogram.types import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Orders"), KeyboardButton(text="Help")]])
    await bot.send_message(18, "Menu", reply_markup=keyboard)
    assert fake_telegram.keyboard(18) == [["Orders", "Help"]]
    assert fake_telegram.sent_to(18)[0].reply_keyboard == [["Orders", "Help"]]
    assert fake_telegram.user(18).taps("Orders")["message"]["text"] == "Orders"
    await bot.send_message(18, "Bye", reply_markup=ReplyKeyboardRemove())
    assert fake_telegram.keyboard(18) is None
    with pytest.raises(LookupError, match="no reply keyboard button 'Help'"):
        fake_telegram.user(18).taps("Help")


async def test_callback_answers_need_a_live_query(fake_telegram: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.callback_query(F.data == "ok")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("noted")

    await bot.send_message(19, "Confirm?", reply_markup=_keyboard("OK"))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    fake_telegram.user(19).presses("OK")
    await fake_telegram.idle()
    await dp.stop_polling()
    await polling
    assert [a.text for a in fake_telegram.callback_answers] == ["noted"]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(fake_telegram.callback_answers[0].callback_query_id)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("/start now", [("bot_command", "/start")]),
        (
            "ask @kefu_support or mail help@shop.example.com",
            [("mention", "@kefu_support"), ("email", "help@shop.example.com")],
        ),
        (
            "see https://shop.example/a?b=1. #sale2026 #2026",
            [("url", "https://shop.example/a?b=1"), ("hashtag", "#sale2026")],
        ),
        ("🎉 www.example.com!", [("url", "www.example.com")]),
        ("nothing to see 3/4 a@b", []),
    ],
)
def test_telegram_detects_commands_mentions_links_by_itself(text: str, found: list[tuple[str, str]]) -> None:
    visible, entities = parse(text, None)
    units = visible.encode("utf-16-le")
    assert [
        (e["type"], units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")) for e in entities
    ] == found


def test_detection_skips_code_and_links() -> None:
    _, entities = parse('<code>/start</code> <a href="https://a.example">https://b.example</a> /help', "HTML")
    assert [(e["type"], e["offset"]) for e in entities] == [("code", 0), ("text_link", 7), ("bot_command", 25)]


async def test_set_webhook_remembers_allowed_updates(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook", allowed_updates=["message", "chat_member"])
    info = await bot.get_webhook_info()
    assert info.allowed_updates == ["chat_member", "message"]
    await bot.delete_webhook()
    fake_telegram.user(-20, user_id=5).joins()
    fake_telegram.user(20).edits(1, "changed")
    [update] = await bot.get_updates()  # the remembered list still applies: the edit is dropped
    assert update.chat_member is not None
    assert [next(k for k in u if k != "update_id") for u in fake_telegram.dropped_updates] == ["edited_message"]


async def test_strict_chats_refuse_users_who_never_wrote() -> None:
    from aiogram.exceptions import TelegramForbiddenError

    async with FakeTelegram(strict_chats=True) as fake:
        bot = fake.aiogram_bot()
        try:
            with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
                await bot.send_message(40, "hi")
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await bot.send_chat_action(-40, "typing")
            fake.user(40)
            fake.user(-40, user_id=41)
            assert (await bot.send_message(40, "hi")).text == "hi"
            assert await bot.send_chat_action(-40, "typing")
        finally:
            await bot.session.close()
