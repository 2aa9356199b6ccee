"""What a user of the profile gallery bot sees: the sign-up, the gallery flipping in place, alerts at its ends."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.profile_gallery import ProfileGallery
from tests.telegram.thirdparty.running import polling

PHOTOS = [b"\xff\xd8first", b"\xff\xd8second", b"\xff\xd8third"]


async def test_sign_up_with_an_album_and_flip_through_it(fake_telegram: FakeTelegram) -> None:
    gallery = ProfileGallery()
    async with polling(gallery.dispatcher(), fake_telegram.aiogram_bot()):
        ana = fake_telegram.user(501, first_name="Ana")
        ana.says("/start ref_77")
        [question] = await ana.expect_reply()
        assert question.text == "What is your name?" and gallery.invited_by == {501: "77"}
        name = ana.says("Ana")
        await ana.expect_reply()
        ana.edits(name["message"]["message_id"], "Ana Lima")
        [note] = await ana.expect_reply()
        assert note.text == "I do not read edits; send it again, please."
        ana.says("here is a sticker instead")
        [nudge] = await ana.expect_reply()
        assert nudge.text == "Photos, please."

        ana.sends_album(PHOTOS)
        [card] = await ana.expect_reply()
        assert card.text == "Ana, 1/3" and card.media is not None and card.media.data == PHOTOS[0]
        await fake_telegram.idle()
        assert (501, "upload_photo") in fake_telegram.chat_actions
        assert [b["text"] for b in card.inline_keyboard[0]] == ["◀", "▶"]

        ana.presses("▶")
        await fake_telegram.idle()
        assert card.text == "Ana, 2/3" and card.media is not None and card.media.data == PHOTOS[1] and card.edits == 1
        for _ in range(2):
            ana.presses("◀")  # the second one on the keyboard the first edit put there
            await fake_telegram.idle()
    assert card.text == "Ana, 1/3"
    assert [(a.text, a.show_alert) for a in fake_telegram.callback_answers][-1] == ("That was the first photo.", True)
    assert len(fake_telegram.sent_to(501)) == 5, "the gallery is one message, edited"


async def test_too_many_photos_are_refused(fake_telegram: FakeTelegram) -> None:
    async with polling(ProfileGallery().dispatcher(), fake_telegram.aiogram_bot()):
        ben = fake_telegram.user(502)
        ben.says("/start")
        await ben.expect_reply()
        ben.says("Ben")
        await ben.expect_reply()
        ben.sends_album([b"\xff\xd8%d" % i for i in range(6)])
        [refusal] = await ben.expect_reply()
    assert refusal.text == "At most 5 photos, please."
