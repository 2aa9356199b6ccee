"""What a user answering the survey scene sees: one message, edited question by question."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.running import polling
from tests.telegram.thirdparty.survey_scene import dispatcher


async def test_the_survey_edits_one_message_to_a_summary(fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(801)
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        user.says("/survey")
        [question] = await user.expect_reply()
        assert question.text == "1/2 How was the delivery?"
        assert question.buttons == [[("Fast", "answer:Fast"), ("Slow", "answer:Slow")], [("Stop", "stop")]]
        user.presses("Fast")
        await fake_telegram.idle()
        assert question.text == "2/2 Would you order again?" and question.buttons[0][0] == ("Yes", "answer:Yes")
        user.presses("Yes")
        await fake_telegram.idle()
    assert question.text == "Thanks for your answers!\nHow was the delivery? Fast\nWould you order again? Yes"
    assert question.formatted("bold") == ["How was the delivery?", "Would you order again?"]
    assert question.buttons == [] and len(fake_telegram.sent_to(801)) == 1


async def test_stopping_early_keeps_what_was_answered(fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(802)
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        user.says("/survey")
        [question] = await user.expect_reply()
        user.presses("Slow")
        await fake_telegram.idle()
        user.presses("Stop")
        await fake_telegram.idle()
    assert question.text == "Thanks for your answers!\nHow was the delivery? Slow"
    assert fake_telegram.callback_answers[-1].text == "Stopped"
