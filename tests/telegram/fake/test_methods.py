"""Method coverage: every commonly used Bot API method, called through the real aiogram client, with
Telegram's answers and error texts."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputMediaDocument,
    InputMediaPhoto,
    InputTextMessageContent,
    LabeledPrice,
    MenuButtonWebApp,
    ReplyParameters,
    WebAppInfo,
)

from adapters.testing.telegram import IMPLEMENTED_METHODS, FakeTelegram

COMMONLY_USED = [
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendPhoto",
    "sendChatAction",
    "editMessageText",
    "answerCallbackQuery",
    "getFile",
    "close",
    "logOut",
    "sendDocument",
    "sendVoice",
    "sendAudio",
    "sendVideo",
    "sendSticker",
    "sendLocation",
    "sendMediaGroup",
    "forwardMessage",
    "copyMessage",
    "deleteMessage",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "setMyCommands",
    "setChatMenuButton",
    "answerInlineQuery",
    "sendInvoice",
    "answerPreCheckoutQuery",
    "refundStarPayment",
    # used by the open-source bots studied (tests/telegram/thirdparty/README.md)
    "createForumTopic",
    "closeForumTopic",
    "deleteForumTopic",
    "restrictChatMember",
    "banChatMember",
    "pinChatMessage",
    "unpinChatMessage",
    "editMessageMedia",
    "getChatMember",
]


def test_the_commonly_used_methods_are_implemented() -> None:
    assert set(COMMONLY_USED) <= set(IMPLEMENTED_METHODS)


async def _download(bot: Bot, file_id: str) -> bytes:
    file = await bot.get_file(file_id)
    assert file.file_path
    data = await bot.download_file(file.file_path)
    assert data is not None
    return data.read()


@pytest.mark.parametrize(
    ("method", "field", "filename", "kind"),
    [
        ("send_document", "document", "invoice.pdf", "document"),
        ("send_voice", "voice", "note.ogg", "voice"),
        ("send_audio", "audio", "song.mp3", "audio"),
        ("send_video", "video", "clip.mp4", "video"),
        ("send_sticker", "sticker", "s.webp", "sticker"),
        ("send_animation", "animation", "a.gif", "animation"),
        ("send_video_note", "video_note", "round.mp4", "video_note"),
        ("send_photo", "photo", "p.jpg", "photo"),
    ],
)
async def test_every_media_kind_uploads_and_comes_back_through_get_file(
    fake_telegram: FakeTelegram, bot: Bot, method: str, field: str, filename: str, kind: str
) -> None:
    payload = f"{kind} bytes".encode()
    sent = await getattr(bot, method)(7, BufferedInputFile(payload, filename=filename))
    obj = getattr(sent, field)
    file_id = obj[-1].file_id if kind == "photo" else obj.file_id
    assert await _download(bot, file_id) == payload
    [seen] = fake_telegram.sent_to(7)
    assert seen.media is not None and (seen.media.kind, seen.media.data) == (kind, payload)
    if kind == "document":
        assert (sent.document.file_name, sent.document.mime_type) == ("invoice.pdf", "application/pdf")
    again = await getattr(bot, method)(8, file_id)  # resent by file_id: the same file
    assert (
        await _download(bot, (getattr(again, field)[-1] if kind == "photo" else getattr(again, field)).file_id)
        == payload
    )


async def test_a_url_is_kept_and_a_bad_file_id_is_refused(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.send_document(7, "https://example.com/files/price-list.pdf", caption="prices")
    [seen] = fake_telegram.sent_to(7)
    assert seen.media is not None and seen.media.url == "https://example.com/files/price-list.pdf"
    assert seen.media.file_name == "price-list.pdf" and seen.text == "prices"
    with pytest.raises(TelegramBadRequest, match="wrong remote file identifier"):
        await bot.send_photo(7, "no-such-file")


async def test_media_group_sends_one_message_per_item_sharing_a_group(fake_telegram: FakeTelegram, bot: Bot) -> None:
    media = [
        InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg"), caption="<b>two</b> photos", parse_mode="HTML"),
        InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
    ]
    messages = await bot.send_media_group(3, media)
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert messages[0].caption == "two photos" and messages[0].caption_entities[0].type == "bold"
    assert [m.photo and await _download(bot, m.photo[-1].file_id) for m in messages] == [b"one", b"two"]
    [alone] = await bot.send_media_group(3, media[:1])  # Telegram sends a one-item album too
    assert alone.media_group_id and alone.photo
    mixed = [media[0], InputMediaDocument(media=BufferedInputFile(b"d", "d.txt"))]
    with pytest.raises(TelegramBadRequest, match="document can't be mixed with other media types"):
        await bot.send_media_group(3, mixed)


async def test_location(fake_telegram: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_location(4, latitude=31.23, longitude=121.47)
    assert sent.location is not None and sent.location.latitude == 31.23
    with pytest.raises(TelegramBadRequest, match="wrong latitude"):
        await bot.send_location(4, latitude=91, longitude=0)


async def test_forward_copy_and_delete(fake_telegram: FakeTelegram, bot: Bot) -> None:
    incoming = fake_telegram.user(5, first_name="Lin").says("my order is late")
    original = incoming["message"]["message_id"]
    forwarded = await bot.forward_message(-100, from_chat_id=5, message_id=original)
    assert forwarded.text == "my order is late" and forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.first_name == "Lin"
    copied = await bot.copy_message(-100, from_chat_id=5, message_id=original)
    [_, copy] = fake_telegram.sent_to(-100)
    assert copy.message_id == copied.message_id and copy.text == "my order is late"
    assert "forward_origin" not in copy.obj
    photo = await bot.send_photo(5, BufferedInputFile(b"img", "i.jpg"), caption="old")
    await bot.copy_message(6, from_chat_id=5, message_id=photo.message_id, caption="<i>new</i>", parse_mode="HTML")
    [photo_copy] = fake_telegram.sent_to(6)
    assert photo_copy.text == "new" and photo_copy.formatted("italic") == ["new"] and photo_copy.photo == b"img"
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await bot.forward_message(-100, from_chat_id=5, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(-100, from_chat_id=5, message_id=999)
    assert await bot.delete_message(5, photo.message_id) is True
    assert fake_telegram.sent_to(5)[-1].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(5, photo.message_id)
    extra = await bot.send_message(5, "one more")
    assert await bot.delete_messages(5, [extra.message_id, original, 4242])  # the missing one is skipped
    assert fake_telegram.sent_to(5)[-1].deleted
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await bot.forward_message(-100, from_chat_id=5, message_id=original)


async def test_edits_of_keyboard_and_caption(fake_telegram: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data="buy")]])
    photo = await bot.send_photo(9, BufferedInputFile(b"img", "i.jpg"), caption="a hat", reply_markup=keyboard)
    edited = await bot.edit_message_caption(
        chat_id=9, message_id=photo.message_id, caption="a *red* hat", parse_mode="MarkdownV2", reply_markup=keyboard
    )
    assert not isinstance(edited, bool) and edited.caption == "a red hat"
    [seen] = fake_telegram.sent_to(9)
    assert seen.formatted("bold") == ["red"] and seen.buttons == [[("Buy", "buy")]]
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("text", chat_id=9, message_id=photo.message_id)
    await bot.edit_message_reply_markup(chat_id=9, message_id=photo.message_id)
    assert seen.buttons == [] and seen.edits == 2
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=9, message_id=photo.message_id)
    text = await bot.send_message(9, "plain")
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=9, message_id=text.message_id, caption="c")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=9, message_id=12345)


async def test_replies_carry_reply_to_message(fake_telegram: FakeTelegram, bot: Bot) -> None:
    question = fake_telegram.user(11).says("where is my parcel?")["message"]
    answer = await bot.send_message(
        11, "on its way", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "where is my parcel?"
    assert fake_telegram.sent_to(11)[0].reply_to == question["message_id"]
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(11, "x", reply_parameters=ReplyParameters(message_id=4242))


async def test_commands_and_menu_button(fake_telegram: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Start"), BotCommand(command="help", description="Help")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="en")
    assert fake_telegram.commands[("all_private_chats", "en")][1] == {"command": "help", "description": "Help"}
    assert [
        c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
    ] == ["start", "help"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    button = MenuButtonWebApp(text="Shop", web_app=WebAppInfo(url="https://shop.example"))
    assert await bot.set_chat_menu_button(chat_id=5, menu_button=button)
    assert fake_telegram.menu_buttons[5]["text"] == "Shop"
    assert (await bot.get_chat_menu_button(chat_id=6)).type == "commands"


async def test_inline_query_answers(fake_telegram: FakeTelegram, bot: Bot) -> None:
    query = fake_telegram.user(12).asks_inline("hats")["inline_query"]
    results = [
        InlineQueryResultArticle(
            id=str(i), title=f"Hat {i}", input_message_content=InputTextMessageContent(message_text=f"hat {i}")
        )
        for i in range(2)
    ]
    assert await bot.answer_inline_query(query["id"], results, cache_time=1)
    assert fake_telegram.inline_answers[0].titles == ["Hat 0", "Hat 1"]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_inline_query(query["id"], results)
    second = fake_telegram.user(12).asks_inline("x")["inline_query"]
    with pytest.raises(TelegramBadRequest, match="RESULT_ID_DUPLICATE"):
        await bot.answer_inline_query(second["id"], [results[0], results[0]])


async def test_stars_invoice_payment_and_refund(fake_telegram: FakeTelegram, bot: Bot) -> None:
    await bot.send_invoice(
        13,
        title="Gift card",
        description="A 10-star gift card",
        payload="card-10",
        currency="XTR",
        prices=[LabeledPrice(label="Card", amount=10)],
    )
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(
            13,
            title="t",
            description="d",
            payload="p",
            currency="XTR",
            provider_token="tok",
            prices=[LabeledPrice(label="x", amount=1)],
        )
    query = fake_telegram.user(13).pays()["pre_checkout_query"]
    assert (query["total_amount"], query["invoice_payload"]) == (10, "card-10")
    with pytest.raises(TelegramBadRequest, match="ERROR_MESSAGE_EMPTY"):
        await bot.answer_pre_checkout_query(query["id"], ok=False)
    assert await bot.answer_pre_checkout_query(query["id"], ok=True)
    updates = await bot.get_updates()
    payment = updates[-1].message.successful_payment if updates[-1].message else None
    assert payment is not None and payment.invoice_payload == "card-10"
    assert await bot.refund_star_payment(13, payment.telegram_payment_charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(13, payment.telegram_payment_charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(13, "nope")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query["id"], ok=True)


async def test_a_blocked_user_gets_nothing_and_the_bot_gets_403(fake_telegram: FakeTelegram, bot: Bot) -> None:
    user = fake_telegram.user(14)
    user.blocks_bot()
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(14, "hello?")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_photo(14, BufferedInputFile(b"x", "x.jpg"))
    updates = await bot.get_updates()
    member = updates[0].my_chat_member
    assert member is not None and member.new_chat_member.status == "kicked"
    user.unblocks_bot()
    assert (await bot.send_message(14, "welcome back")).text == "welcome back"
    assert [m.text for m in fake_telegram.sent_to(14)] == ["welcome back"]


async def test_chat_members_pins_and_reactions(fake_telegram: FakeTelegram, bot: Bot) -> None:
    from aiogram.types import ReactionTypeEmoji

    group = fake_telegram.user(-300, user_id=21, first_name="Joe")
    assert (await bot.get_chat_member(-300, 21)).status == "left"  # subscription checks see non-members
    group.joins()
    member = await bot.get_chat_member(-300, 21)
    assert member.status == "member" and member.user.first_name == "Joe"
    fake_telegram.set_member(-300, 22, "administrator")
    assert (await bot.get_chat_member(-300, 22)).status == "administrator"
    assert await bot.ban_chat_member(-300, 21)
    assert (await bot.get_chat_member(-300, 21)).status == "kicked"
    assert (await bot.get_chat(-300)).title == "Group 300"
    sent = await bot.send_message(-300, "Rules: be kind")
    assert await bot.pin_chat_message(-300, sent.message_id)
    assert fake_telegram.pinned[-300] == [sent.message_id]
    assert await bot.unpin_chat_message(-300)
    with pytest.raises(TelegramBadRequest, match="message to unpin not found"):
        await bot.unpin_chat_message(-300)
    with pytest.raises(TelegramBadRequest, match="message not found"):
        await bot.pin_chat_message(-300, 999)
    question = group.says("thanks!")["message"]["message_id"]
    assert await bot.set_message_reaction(-300, question, reaction=[ReactionTypeEmoji(emoji="👍")])
    assert fake_telegram.reactions[(-300, question)] == ["👍"]


async def test_contacts_venues_dice_and_polls(fake_telegram: FakeTelegram, bot: Bot) -> None:
    contact = await bot.send_contact(23, phone_number="+8613800000000", first_name="Front desk")
    assert contact.contact is not None and contact.contact.first_name == "Front desk"
    venue = await bot.send_venue(23, latitude=31.2, longitude=121.4, title="Store", address="1 Main St")
    assert venue.venue is not None and venue.venue.title == "Store"
    dice = await bot.send_dice(23, emoji="🎯")
    assert dice.dice is not None and 1 <= dice.dice.value <= 6
    poll = await bot.send_poll(23, question="Rate us", options=["Good", "Bad"], is_anonymous=False)
    assert poll.poll is not None and [o.text for o in poll.poll.options] == ["Good", "Bad"]
    assert not poll.poll.is_anonymous and fake_telegram.sent_to(23)[-1].text == "Rate us"
    with pytest.raises(TelegramBadRequest, match="2-12 options"):
        await bot.send_poll(23, question="Q", options=["only one"])


async def test_edit_message_media_replaces_the_file(fake_telegram: FakeTelegram, bot: Bot) -> None:
    from aiogram.types import InputMediaDocument

    sent = await bot.send_photo(24, BufferedInputFile(b"old", "old.jpg"), caption="v1")
    edited = await bot.edit_message_media(
        InputMediaDocument(media=BufferedInputFile(b"new", "menu.pdf"), caption="<b>v2</b>", parse_mode="HTML"),
        chat_id=24,
        message_id=sent.message_id,
    )
    assert not isinstance(edited, bool) and edited.document is not None and edited.photo is None
    [seen] = fake_telegram.sent_to(24)
    assert seen.media is not None and (seen.media.kind, seen.media.data, seen.media.file_name) == (
        "document",
        b"new",
        "menu.pdf",
    )
    assert seen.text == "v2" and seen.formatted("bold") == ["v2"] and seen.edits == 1
    text = await bot.send_message(24, "plain")
    with pytest.raises(TelegramBadRequest, match="there is no media in the message to edit"):
        await bot.edit_message_media(
            InputMediaDocument(media=BufferedInputFile(b"x", "x.pdf")), chat_id=24, message_id=text.message_id
        )


async def test_join_requests_and_poll_votes(fake_telegram: FakeTelegram, bot: Bot) -> None:
    applicant, spammer = fake_telegram.user(-400, user_id=51), fake_telegram.user(-400, user_id=52)
    applicant.requests_to_join()
    spammer.requests_to_join()
    assert await bot.approve_chat_join_request(-400, 51)
    assert await bot.decline_chat_join_request(-400, 52)
    assert [(await bot.get_chat_member(-400, u)).status for u in (51, 52)] == ["member", "left"]
    with pytest.raises(TelegramBadRequest, match="HIDE_REQUESTER_MISSING"):
        await bot.approve_chat_join_request(-400, 51)
    updates = await bot.get_updates()
    assert [u.chat_join_request.from_user.id for u in updates if u.chat_join_request] == [51, 52]
    await bot.send_poll(-400, question="Lunch?", options=["Noodles", "Rice", "Soup"], is_anonymous=False)
    poll = fake_telegram.sent_to(-400)[-1]
    applicant.votes(poll, 0, 2)
    [vote] = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert vote.poll_answer is not None and vote.poll_answer.option_ids == [0, 2]
    anonymous = await bot.send_poll(-400, question="Rate", options=["1", "2"])
    with pytest.raises(LookupError, match="non-anonymous"):
        applicant.votes(fake_telegram.sent_to(-400)[-1], 0)
    assert anonymous.poll is not None and anonymous.poll.is_anonymous
