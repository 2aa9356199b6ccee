"""Albums in assembly are bounded: photos per album, albums per chat and albums overall.

The album window is long (60 s) here, so a message that arrives during a test was dispatched early by a
bound, never by the window; ``stop`` dispatches the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.telegram import TelegramAdapter
from adapters.testing.telegram import FakeTelegram, FakeUser
from bot.messages import Message

Start = Callable[..., Any]


@pytest.fixture
async def start(fake_telegram: FakeTelegram) -> AsyncIterator[Start]:
    """``await start(**options)``: a started polling adapter with a 60 s album window; its messages in a list."""
    adapters: list[TelegramAdapter] = []

    async def started(**options: Any) -> list[Message]:
        received: list[Message] = []

        async def dispatch(message: Message) -> None:
            received.append(message)

        adapter = TelegramAdapter(
            token=fake_telegram.token,
            api_base=fake_telegram.base_url,
            polling_timeout_s=1,
            album_window_s=60,
            **options,
        )
        await adapter.start(dispatch)
        adapters.append(adapter)
        return received

    yield started
    for adapter in adapters:
        await adapter.stop()


def photos(user: FakeUser, group: str, count: int) -> None:
    for i in range(count):
        user.sends_photo(f"{group}-{i}".encode(), media_group_id=group, caption=group if i == 0 else None)


def albums(received: list[Message]) -> list[tuple[str, str, int]]:
    return [(m.conversation.conversation_id, m.text, m.metadata["album_size"]) for m in received]


async def test_an_album_is_dispatched_as_soon_as_it_holds_ten_photos(fake_telegram: FakeTelegram, start: Start) -> None:
    received = await start()
    photos(fake_telegram.user(701), "g1", 12)  # more than Telegram allows: a forged or broken sender
    await fake_telegram.wait_until(lambda: len(received) == 1)
    assert albums(received) == [("701", "g1", 10)]
    assert [len(m.attachments) for m in received] == [10]


async def test_a_chat_with_too_many_albums_in_assembly_has_its_oldest_dispatched(
    fake_telegram: FakeTelegram, start: Start
) -> None:
    received = await start(max_albums_per_chat=3)
    user = fake_telegram.user(702)
    for group in ("a", "b", "c", "d"):
        photos(user, group, 2)
    await fake_telegram.wait_until(lambda: len(received) == 1)
    assert albums(received) == [("702", "a", 2)]
    user.says("and this?")
    await fake_telegram.wait_until(lambda: len(received) == 5)
    assert [m.text for m in received] == ["a", "b", "c", "d", "and this?"], "the chat's order is kept"


async def test_too_many_albums_overall_dispatch_the_oldest_early(fake_telegram: FakeTelegram, start: Start) -> None:
    received = await start(max_albums=2)
    for chat in (703, 704, 705):
        photos(fake_telegram.user(chat), f"album-{chat}", 3)
    await fake_telegram.wait_until(lambda: len(received) == 1)
    assert albums(received) == [("703", "album-703", 3)]
    await fake_telegram.wait_quiet(0.1)
    assert len(received) == 1
