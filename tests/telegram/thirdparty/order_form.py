"""An order form: FSM states, a reply keyboard, inline size buttons edited in place, a MarkdownV2 summary."""

from __future__ import annotations

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import markdown_decoration

SIZES = ("S", "M", "L")


class Order(StatesGroup):
    product = State()
    size = State()
    confirm = State()


def size_keyboard(chosen: str | None = None) -> InlineKeyboardBuilder:
    builder = InlineKeyboardBuilder()
    for size in SIZES:
        builder.button(text=f"✅ {size}" if size == chosen else size, callback_data=f"size:{size}")
    if chosen:
        builder.button(text="Continue", callback_data="size:done")
    builder.adjust(3, 1)
    return builder


async def start(message: Message, state: FSMContext) -> None:
    await state.set_state(Order.product)
    menu = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="T-shirt"), KeyboardButton(text="Hoodie")]], resize_keyboard=True
    )
    await message.answer(
        f"Hi, {message.from_user.first_name if message.from_user else 'there'}! What would you like to order?",
        reply_markup=menu,
    )


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer("Order cancelled.", reply_markup=ReplyKeyboardRemove())


async def product(message: Message, state: FSMContext) -> None:
    await state.update_data(product=message.text)
    await state.set_state(Order.size)
    await message.answer("Got it.", reply_markup=ReplyKeyboardRemove())
    await message.answer("Choose a size:", reply_markup=size_keyboard().as_markup())


async def unknown_product(message: Message) -> None:
    await message.reply("Please use the keyboard below.")


async def size(query: CallbackQuery, state: FSMContext) -> None:
    choice = (query.data or "").split(":", 1)[1]
    if choice != "done":
        await state.update_data(size=choice)
        if query.message is not None and isinstance(query.message, Message):
            await query.message.edit_text(f"Size {choice} selected.", reply_markup=size_keyboard(choice).as_markup())
        await query.answer()
        return
    data = await state.get_data()
    await state.set_state(Order.confirm)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    product_name = markdown_decoration.quote(data["product"])
    await query.answer("Saved")
    await query.bot.send_message(  # type: ignore[union-attr]
        query.from_user.id,
        f"*Your order*\n{product_name}, size `{data['size']}`\\.\nReply _yes_ to confirm\\.",
        parse_mode="MarkdownV2",
    )


async def confirm(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer("<b>Thank you!</b> Your order is placed.", parse_mode="HTML")


def dispatcher() -> Dispatcher:
    """The bot's dispatcher, registered the aiogram way (one per event loop: a test builds its own)."""
    router = Router(name="order_form")
    router.message.register(start, CommandStart())
    router.message.register(cancel, Command("cancel"), StateFilter("*"))
    router.message.register(product, Order.product, F.text.in_({"T-shirt", "Hoodie"}))
    router.message.register(unknown_product, Order.product)
    router.callback_query.register(size, Order.size, F.data.startswith("size:"))
    router.message.register(confirm, Order.confirm, F.text.lower() == "yes")
    dp = Dispatcher()
    dp.include_router(router)
    return dp
