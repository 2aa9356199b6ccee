"""What people in a chat see when someone shares an inline like card and others press it."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.inline_likes import Likes
from tests.telegram.thirdparty.running import polling


async def test_a_shared_card_counts_likes(fake_telegram: FakeTelegram) -> None:
    likes = Likes()
    sharer = fake_telegram.user(-900, user_id=31, first_name="Sharer")
    friend = fake_telegram.user(-900, user_id=32, first_name="Friend")
    async with polling(likes.dispatcher(), fake_telegram.aiogram_bot()):
        sharer.asks_inline("New menu on Friday")
        await fake_telegram.wait_until(lambda: bool(fake_telegram.inline_answers))
        assert fake_telegram.inline_answers[0].titles == ["Card: New menu on Friday"]
        sharer.chooses_inline_result("card")
        [card] = fake_telegram.inline_messages.values()
        assert card.text == "New menu on Friday" and card.formatted("bold") == ["New menu on Friday"]
        assert card.buttons == [[("👍 0", "like")]]
        friend.presses("👍 0")
        await fake_telegram.idle()
        assert card.buttons == [[("👍 1", "like")]]
        sharer.presses("👍 1")
        await fake_telegram.idle()
    assert card.buttons == [[("👍 2", "like")]] and card.edits == 2 and likes.chosen == ["card"]
    assert [a.text for a in fake_telegram.callback_answers] == ["Liked!", "Liked!"]
