"""A dating-style profile, as profile bots do: ``/start`` (a deep link ``/start ref_<id>`` remembers who invited
the user) asks a name and then photos in an FSM, takes an album whole (the album middleware), shows the profile
as a photo gallery flipped with ◀ ▶ buttons that edit the photo in place (editMessageMedia, a CallbackData
factory), alerts at either end, shows "sending a photo" while it prepares, and tells users edits are not read."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, InputMediaPhoto, Message
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.keyboard import InlineKeyboardBuilder

from tests.telegram.thirdparty.topic_desk import AlbumMiddleware

MAX_PHOTOS = 5


class Signup(StatesGroup):
    name = State()
    photos = State()


class Flip(CallbackData, prefix="gallery"):
    index: int


def pager(index: int) -> InlineKeyboardMarkup:
    keyboard = InlineKeyboardBuilder()
    keyboard.button(text="◀", callback_data=Flip(index=index - 1))
    keyboard.button(text="▶", callback_data=Flip(index=index + 1))
    return keyboard.as_markup()


class ProfileGallery:
    def __init__(self) -> None:
        self.profiles: dict[int, tuple[str, list[str]]] = {}
        self.invited_by: dict[int, str] = {}

    async def start(self, message: Message, state: FSMContext, command: CommandObject) -> None:
        if command.args and command.args.startswith("ref_") and message.from_user:
            self.invited_by[message.from_user.id] = command.args.removeprefix("ref_")
        await state.set_state(Signup.name)
        await message.answer("What is your name?")

    async def name(self, message: Message, state: FSMContext) -> None:
        await state.update_data(name=(message.text or "").strip())
        await state.set_state(Signup.photos)
        await message.answer(f"Send 1-{MAX_PHOTOS} photos of yourself (an album is fine).")

    async def photos(self, message: Message, state: FSMContext, bot: Bot, album: list[Message] | None = None) -> None:
        parts = album or [message]
        if len(parts) > MAX_PHOTOS:
            await message.answer(f"At most {MAX_PHOTOS} photos, please.")
            return
        name = (await state.get_data())["name"]
        file_ids = [part.photo[-1].file_id for part in parts if part.photo]
        self.profiles[message.chat.id] = (name, file_ids)
        await state.clear()
        async with ChatActionSender.upload_photo(bot=bot, chat_id=message.chat.id):
            await message.answer_photo(file_ids[0], caption=f"{name}, 1/{len(file_ids)}", reply_markup=pager(0))

    async def not_a_photo(self, message: Message) -> None:
        await message.answer("Photos, please.")

    async def flip(self, query: CallbackQuery, callback_data: Flip) -> None:
        if not isinstance(query.message, Message):
            return
        name, file_ids = self.profiles[query.message.chat.id]
        index = callback_data.index
        if not 0 <= index < len(file_ids):
            await query.answer(
                "That was the last photo." if index > 0 else "That was the first photo.", show_alert=True
            )
            return
        caption = f"{name}, {index + 1}/{len(file_ids)}"
        await query.message.edit_media(
            InputMediaPhoto(media=file_ids[index], caption=caption), reply_markup=pager(index)
        )
        await query.answer()

    async def edited(self, message: Message) -> None:
        await message.reply("I do not read edits; send it again, please.")

    def dispatcher(self) -> Dispatcher:
        router = Router(name="gallery")
        router.message.middleware(AlbumMiddleware())
        router.message.register(self.start, CommandStart())
        router.message.register(self.name, Signup.name, F.text)
        router.message.register(self.photos, Signup.photos, F.photo)
        router.message.register(self.not_a_photo, Signup.photos)
        router.callback_query.register(self.flip, Flip.filter())
        router.edited_message.register(self.edited)
        dp = Dispatcher()
        dp.include_router(router)
        return dp
