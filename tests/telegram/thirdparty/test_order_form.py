"""What a shopper sees in the FSM order form."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.order_form import dispatcher
from tests.telegram.thirdparty.running import polling


async def test_the_order_form_end_to_end(fake_telegram: FakeTelegram) -> None:
    shopper = fake_telegram.user(101, first_name="Ana")
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        shopper.says("/start")
        [hello] = await shopper.expect_reply()
        assert hello.text == "Hi, Ana! What would you like to order?"
        assert hello.reply_keyboard == [["T-shirt", "Hoodie"]]
        shopper.says("a hat")
        [nudge] = await shopper.expect_reply()
        assert nudge.text == "Please use the keyboard below." and nudge.reply_to is not None
        shopper.taps("Hoodie")
        got, sizes = await shopper.expect_reply(2)
        assert got.text == "Got it."
        assert fake_telegram.keyboard(101) is None
        assert sizes.buttons == [[("S", "size:S"), ("M", "size:M"), ("L", "size:L")]]
        shopper.presses("M")
        await fake_telegram.idle()
        assert sizes.text == "Size M selected." and sizes.edits == 1
        assert sizes.buttons[0][1] == ("✅ M", "size:M") and sizes.buttons[1] == [("Continue", "size:done")]
        shopper.presses("Continue")
        [summary] = await shopper.expect_reply()
        assert summary.text == "Your order\nHoodie, size M.\nReply yes to confirm."
        assert summary.formatted("bold") == ["Your order"] and summary.formatted("code") == ["M"]
        assert sizes.buttons == []  # the keyboard went away with the edit
        assert [a.text for a in fake_telegram.callback_answers] == [None, "Saved"]
        shopper.says("yes")
        [thanks] = await shopper.expect_reply()
        assert thanks.text == "Thank you! Your order is placed." and thanks.formatted("bold") == ["Thank you!"]


async def test_cancel_from_any_state(fake_telegram: FakeTelegram) -> None:
    shopper = fake_telegram.user(102)
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        shopper.says("/start")
        await shopper.expect_reply()
        shopper.says("/cancel")
        [cancelled] = await shopper.expect_reply()
    assert cancelled.text == "Order cancelled." and fake_telegram.keyboard(102) is None
