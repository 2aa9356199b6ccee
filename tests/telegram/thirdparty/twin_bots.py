"""One dispatcher polling two bots (a shop bot and its support bot), as multibot deployments do: each answers
with its own name, and FSM state is kept per bot."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message


class Feedback(StatesGroup):
    waiting = State()


async def start(message: Message, bot: Bot, state: FSMContext) -> None:
    me = await bot.me()
    await state.set_state(Feedback.waiting)
    await message.answer(f"This is {me.first_name} (@{me.username}). How can we help?")


async def feedback(message: Message, bot: Bot, state: FSMContext) -> None:
    await state.clear()
    me = await bot.me()
    await message.answer(f"{me.first_name} noted: {message.text}")


def dispatcher() -> Dispatcher:
    router = Router(name="twin_bots")
    router.message.register(start, CommandStart())
    router.message.register(feedback, Feedback.waiting, F.text)
    dp = Dispatcher()
    dp.include_router(router)
    return dp
