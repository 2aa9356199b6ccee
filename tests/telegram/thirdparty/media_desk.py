"""A support desk bot that handles every media kind: downloads what users send, answers with files, albums,
locations and stickers, forwards to the operators' group and copies operator answers back."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.enums import ChatAction
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.media_group import MediaGroupBuilder

OPERATORS = -1001
CATALOG = (b"\xff\xd8catalog-page-1", b"\xff\xd8catalog-page-2")


async def photo(message: Message, bot: Bot) -> None:
    assert message.photo is not None
    data = await bot.download(message.photo[-1])
    assert data is not None
    await bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_DOCUMENT)
    await message.reply_document(
        BufferedInputFile(data.read(), filename="scan.jpg"),
        caption=f"Scanned <b>{message.photo[-1].width}×{message.photo[-1].height}</b>",
        parse_mode="HTML",
    )


async def voice(message: Message, bot: Bot) -> None:
    assert message.voice is not None
    data = await bot.download(message.voice)
    assert data is not None
    await message.answer_audio(
        BufferedInputFile(data.read(), filename="voice-copy.mp3"), title="Your message", performer="Desk"
    )


async def document(message: Message, bot: Bot) -> None:
    assert message.document is not None
    data = await bot.download(message.document)
    assert data is not None
    await message.answer(f"Received {message.document.file_name}: {len(data.read())} bytes")


async def catalog(message: Message) -> None:
    album = MediaGroupBuilder(caption="Our catalog")
    for number, page in enumerate(CATALOG, 1):
        album.add_photo(BufferedInputFile(page, filename=f"page{number}.jpg"))
    await message.answer_media_group(album.build())


async def store(message: Message) -> None:
    await message.answer_location(latitude=31.2304, longitude=121.4737)
    await message.answer_video(BufferedInputFile(b"mp4-tour", filename="tour.mp4"), caption="How to find us")


async def greeting(message: Message) -> None:
    await message.answer_video_note(BufferedInputFile(b"round-hello", filename="hello.mp4"), length=240)
    await message.answer_animation(BufferedInputFile(b"GIF89a-wave", filename="wave.gif"), caption="👋")


async def sticker(message: Message) -> None:
    assert message.sticker is not None
    await message.answer_sticker(message.sticker.file_id)


async def to_operators(message: Message, bot: Bot) -> None:
    await message.forward(OPERATORS)
    await message.answer("Passed to an operator.")


async def operator_answer(message: Message, bot: Bot) -> None:
    replied = message.reply_to_message
    if replied is None or replied.forward_origin is None or not hasattr(replied.forward_origin, "sender_user"):
        return
    await bot.copy_message(replied.forward_origin.sender_user.id, from_chat_id=OPERATORS, message_id=message.message_id)


def dispatcher() -> Dispatcher:
    router = Router(name="media_desk")
    router.message.register(photo, F.photo)
    router.message.register(voice, F.voice)
    router.message.register(document, F.document)
    router.message.register(sticker, F.sticker)
    router.message.register(catalog, Command("catalog"))
    router.message.register(store, Command("store"))
    router.message.register(greeting, Command("hello"))
    router.message.register(operator_answer, F.chat.id == OPERATORS, F.reply_to_message)
    router.message.register(to_operators, F.text, F.chat.type == "private")
    dp = Dispatcher()
    dp.include_router(router)
    return dp
