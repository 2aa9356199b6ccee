"""What customers and operators see in the forum-topic support desk."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.running import polling
from tests.telegram.thirdparty.topic_desk import TopicDesk

DESK = -100500


async def test_a_customer_gets_a_topic_and_the_operators_answer_reaches_them(fake_telegram: FakeTelegram) -> None:
    fake_telegram.make_forum(DESK, title="Support desk")
    bot = fake_telegram.aiogram_bot()
    async with polling(TopicDesk(DESK).dispatcher(), bot):
        ana = fake_telegram.user(801, first_name="Ana", last_name="Lima")
        ana.says("Where is my parcel?")
        [receipt] = await ana.expect_reply()
        assert receipt.text == "Sent to our team, we will answer here." and receipt.reply_to is not None
        [(thread, topic)] = fake_telegram.forums[DESK].items()
        assert topic["name"] == "Ana Lima" and not topic["closed"]
        await fake_telegram.idle()
        forwarded, greeting = fake_telegram.sent_to(DESK)  # the greeting waits for the service message
        assert greeting.text == "New conversation with customer 801." and greeting.formatted("code") == ["801"]
        assert fake_telegram.pinned[DESK] == [greeting.message_id]
        assert forwarded.text == "Where is my parcel?" and forwarded.obj["forward_origin"]["sender_user"]["id"] == 801
        assert greeting.thread_id == forwarded.thread_id == thread

        olga = fake_telegram.user(DESK, user_id=900, first_name="Olga").in_topic(thread)
        olga.says("It left our warehouse today.")
        [answer] = await ana.expect_reply()
        assert answer.text == "It left our warehouse today." and answer.thread_id is None

        ana.sends_album([b"\xff\xd8one", b"\xff\xd8two"], caption="The box was torn")
        await ana.expect_reply()
        album = fake_telegram.sent_to(DESK)[-2:]
        assert [m.thread_id for m in album] == [thread, thread]
        assert len({m.obj["media_group_id"] for m in album}) == 1 and album[0].text == "The box was torn"

        olga.says("/close")
        await fake_telegram.idle()
        assert fake_telegram.forums[DESK][thread]["closed"]


async def test_a_deleted_topic_is_made_again_and_a_blocked_customer_is_reported(fake_telegram: FakeTelegram) -> None:
    fake_telegram.make_forum(DESK)
    bot = fake_telegram.aiogram_bot()
    async with polling(TopicDesk(DESK).dispatcher(), bot):
        ben = fake_telegram.user(802, first_name="Ben")
        ben.says("hello")
        await ben.expect_reply()
        [first] = fake_telegram.forums[DESK]
        await bot.delete_forum_topic(DESK, first)
        ben.says("anyone there?")
        await ben.expect_reply()
        await fake_telegram.idle()  # the new topic's greeting too
        [second] = fake_telegram.forums[DESK]
        assert second != first and fake_telegram.sent_to(DESK)[-1].thread_id == second

        ben.blocks_bot()
        olga = fake_telegram.user(DESK, user_id=900, first_name="Olga").in_topic(second)
        olga.says("We found it!")
        [note] = await fake_telegram.expect_reply(DESK)
    assert note.text == "The customer blocked the bot; the message was not delivered." and note.thread_id == second
