"""Two bots on one fake, polled by one dispatcher: each user sees only the bot they talk to."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.running import polling
from tests.telegram.thirdparty.twin_bots import dispatcher


async def test_each_bot_answers_its_own_users(fake_telegram: FakeTelegram) -> None:
    support = fake_telegram.add_bot("222333:SUPPORT-token", username="help_desk_bot", first_name="Help Desk")
    async with polling(dispatcher(), fake_telegram.aiogram_bot(), support.aiogram_bot()):
        fake_telegram.user(401).says("/start")
        support.user(401).says("/start")
        [shop_hello] = await fake_telegram.expect_reply(401)
        [support_hello] = await support.expect_reply(401)
        assert shop_hello.text == "This is Kefu Test (@kefu_test_bot). How can we help?"
        assert support_hello.text == "This is Help Desk (@help_desk_bot). How can we help?"
        support.user(401).says("the app crashes")  # FSM state is per bot: only the support bot waits for it
        [noted] = await support.expect_reply(401)
        assert noted.text == "Help Desk noted: the app crashes"
        await fake_telegram.idle()
    assert len(fake_telegram.sent_to(401)) == 1 and len(support.sent_to(401)) == 2
