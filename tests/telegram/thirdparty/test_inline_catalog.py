"""What a user typing ``@bot <query>`` sees, page by page."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.inline_catalog import dispatcher
from tests.telegram.thirdparty.running import polling


async def test_inline_results_are_paged(fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(501)
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        user.asks_inline("hat")
        await fake_telegram.wait_until(lambda: len(fake_telegram.inline_answers) == 1)
        user.asks_inline("hat", offset="2")
        await fake_telegram.wait_until(lambda: len(fake_telegram.inline_answers) == 2)
        user.asks_inline("nothing")
        await fake_telegram.wait_until(lambda: len(fake_telegram.inline_answers) == 3)
    first, second, empty = fake_telegram.inline_answers
    assert first.titles == ["Red Hat", "Blue Hat"] and second.titles == ["Green Hat", "Black Hat"]
    assert empty.results == []
    sent = fake_telegram.calls_to("answerInlineQuery")
    assert [c.params.get("next_offset") or "" for c in sent] == ["2", "", ""]
