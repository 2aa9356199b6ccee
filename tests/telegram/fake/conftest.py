"""A real aiogram ``Bot`` on the fake, closed after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from adapters.testing.telegram import FakeTelegram


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = fake_telegram.aiogram_bot()
    yield bot
    await bot.session.close()
