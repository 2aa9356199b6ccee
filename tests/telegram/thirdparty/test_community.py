"""What members and subscribers of the community bot see."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.community import Community
from tests.telegram.thirdparty.running import polling

GROUP = -100777


async def test_members_are_greeted_because_the_bot_asks_for_chat_member(fake_telegram: FakeTelegram) -> None:
    async with polling(Community().dispatcher(), fake_telegram.aiogram_bot()):
        newcomer = fake_telegram.user(GROUP, user_id=701, first_name="Zoë <3")
        newcomer.joins()
        [welcome] = await fake_telegram.expect_reply(GROUP)
        assert welcome.text == "Welcome, Zoë <3! Read the rules in the pinned message."
        assert welcome.formatted("bold") == ["Zoë <3"]
        newcomer.leaves()
        [bye] = await fake_telegram.expect_reply(GROUP)
        assert bye.text == "Zoë <3 left the group."
    assert "chat_member" in (fake_telegram.allowed_updates or set())  # aiogram asked, from the handlers used


async def test_a_user_who_blocks_the_bot_is_dropped_from_broadcasts(fake_telegram: FakeTelegram) -> None:
    community = Community()
    async with polling(community.dispatcher(), fake_telegram.aiogram_bot()):
        stays, goes, admin = fake_telegram.user(711), fake_telegram.user(712), fake_telegram.user(713)
        for user in (stays, goes):
            user.says("/subscribe")
            await user.expect_reply()
        goes.blocks_bot()
        await fake_telegram.idle()
        admin.says("/broadcast Sale starts today")
        await fake_telegram.idle()
    assert [m.text for m in fake_telegram.sent_to(711)][-1] == "Sale starts today"
    assert [m.text for m in fake_telegram.sent_to(712)] == ["Subscribed to news."]
    assert community.subscribers == {711} and community.failed == []


async def test_a_bot_that_does_not_notice_the_block_gets_403(fake_telegram: FakeTelegram) -> None:
    community = Community()
    community.subscribers = {721}
    fake_telegram.blocked.add(721)  # blocked while the bot was down; it never saw the my_chat_member update
    async with polling(community.dispatcher(), fake_telegram.aiogram_bot()):
        fake_telegram.user(722).says("/broadcast hello")
        await fake_telegram.idle()
    assert community.failed == [721] and fake_telegram.sent_to(721) == []
    assert fake_telegram.calls_to("sendMessage")[0].status == 403
