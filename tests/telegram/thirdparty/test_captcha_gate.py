"""What newcomers and members of a group guarded by the join captcha see."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.captcha_gate import CaptchaGate
from tests.telegram.thirdparty.running import polling

GROUP = -100888


async def test_the_right_fruit_lets_a_newcomer_write(fake_telegram: FakeTelegram) -> None:
    bot = fake_telegram.aiogram_bot()
    async with polling(CaptchaGate(choose=lambda fruits: "cherry").dispatcher(), bot):
        zoe = fake_telegram.user(GROUP, user_id=901, first_name="Zoë")
        zoe.joins()
        [captcha] = await fake_telegram.expect_reply(GROUP)
        assert captcha.text == "Zoë, tap the cherry to write in this group."
        assert captcha.formatted("text_mention") == ["Zoë"]  # a tg://user link becomes a mention of the user
        assert [[b["text"] for b in row] for row in captcha.inline_keyboard] == [["🍎", "🍌", "🍒"], ["🍇", "🍋", "🍐"]]
        muted = await bot.get_chat_member(GROUP, 901)
        assert muted.status == "restricted" and muted.can_send_messages is False

        fake_telegram.user(GROUP, user_id=902, first_name="Max").presses("🍒")
        zoe.presses("🍌")
        await fake_telegram.idle()
        assert [(a.text, a.show_alert) for a in fake_telegram.callback_answers] == [
            ("This captcha is not for you.", True),
            ("Wrong fruit: 2 tries left.", True),
        ]
        zoe.presses("🍒")
        await fake_telegram.idle()
        assert captcha.deleted and fake_telegram.callback_answers[-1].text == "Welcome!"
        assert (await bot.get_chat_member(GROUP, 901)).status == "member"


async def test_three_wrong_fruits_ban_the_newcomer(fake_telegram: FakeTelegram) -> None:
    bot = fake_telegram.aiogram_bot()
    async with polling(CaptchaGate(choose=lambda fruits: "pear").dispatcher(), bot):
        bot_account = fake_telegram.user(GROUP, user_id=903, first_name="Spam")
        bot_account.joins()
        [captcha] = await fake_telegram.expect_reply(GROUP)
        for _ in range(3):
            bot_account.presses("🍋")
            await fake_telegram.idle()
    assert captcha.deleted and (await bot.get_chat_member(GROUP, 903)).status == "kicked"
