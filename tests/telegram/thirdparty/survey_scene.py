"""A satisfaction survey as an aiogram *scene*: each step re-enters the scene with the next question, answers
come from inline buttons, the question message is edited in place, and leaving shows an HTML summary."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.scene import Scene, SceneRegistry, on
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

QUESTIONS = (("How was the delivery?", ("Fast", "Slow")), ("Would you order again?", ("Yes", "No")))


def _keyboard(step: int) -> Any:
    builder = InlineKeyboardBuilder()
    for option in QUESTIONS[step][1]:
        builder.button(text=option, callback_data=f"answer:{option}")
    builder.button(text="Stop", callback_data="stop")
    builder.adjust(2, 1)
    return builder.as_markup()


class Survey(Scene, state="survey"):
    @on.message.enter()
    async def start(self, message: Message, state: FSMContext) -> None:
        await state.update_data(step=0, answers=[])
        await message.answer(f"1/{len(QUESTIONS)} {QUESTIONS[0][0]}", reply_markup=_keyboard(0))

    @on.callback_query.enter()
    async def next_question(self, query: CallbackQuery, state: FSMContext) -> None:
        step = (await state.get_data())["step"]
        if isinstance(query.message, Message):
            await query.message.edit_text(
                f"{step + 1}/{len(QUESTIONS)} {QUESTIONS[step][0]}", reply_markup=_keyboard(step)
            )

    @on.callback_query(F.data.startswith("answer:"))
    async def answer(self, query: CallbackQuery, state: FSMContext) -> None:
        data = await state.get_data()
        answers = [*data["answers"], (query.data or "").split(":", 1)[1]]
        await state.update_data(step=data["step"] + 1, answers=answers)
        await query.answer()
        if len(answers) == len(QUESTIONS):
            await self.wizard.exit()
        else:
            await self.wizard.retake()

    @on.callback_query(F.data == "stop")
    async def stop(self, query: CallbackQuery) -> None:
        await query.answer("Stopped")
        await self.wizard.exit()

    @on.callback_query.exit()
    async def summary(self, query: CallbackQuery, state: FSMContext) -> None:
        answers = (await state.get_data()).get("answers", [])
        await state.clear()
        if isinstance(query.message, Message):
            lines = [f"<b>{q}</b> {a}" for (q, _), a in zip(QUESTIONS, answers, strict=False)]
            await query.message.edit_text("\n".join(["Thanks for your answers!", *lines]), parse_mode="HTML")


def dispatcher() -> Dispatcher:
    router = Router(name="survey")
    router.message.register(Survey.as_handler(), Command("survey"))
    dp = Dispatcher()
    dp.include_router(router)
    SceneRegistry(dp).add(Survey)
    return dp
