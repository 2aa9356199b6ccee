"""What a user of the media desk sees, for every media kind."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.media_desk import CATALOG, OPERATORS, dispatcher
from tests.telegram.thirdparty.running import polling


async def test_files_in_and_out(fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(201)
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        sent_photo = user.sends_photo(b"\xff\xd8full-photo-bytes", width=1280, height=960)
        [scan] = await user.expect_reply()
        assert scan.media is not None and scan.media.kind == "document"
        assert (scan.media.data, scan.media.file_name) == (b"\xff\xd8full-photo-bytes", "scan.jpg")
        assert scan.text == "Scanned 1280×960" and scan.formatted("bold") == ["1280×960"]
        assert scan.reply_to == sent_photo["message"]["message_id"]
        assert (201, "upload_document") in fake_telegram.chat_actions
        user.sends_voice(b"OggS-voice")
        [audio] = await user.expect_reply()
        assert audio.media is not None and (audio.media.kind, audio.media.data) == ("audio", b"OggS-voice")
        assert audio.obj["audio"]["title"] == "Your message"
        user.sends_document(b"%PDF-1.7 invoice", file_name="invoice.pdf", mime_type="application/pdf")
        [receipt] = await user.expect_reply()
        assert receipt.text == "Received invoice.pdf: 16 bytes"
        user.says("/catalog")
        pages = await user.expect_reply(2)
        assert [m.media.data for m in pages if m.media] == list(CATALOG)
        assert pages[0].text == "Our catalog" and pages[1].text == ""
        assert pages[0].obj["media_group_id"] == pages[1].obj["media_group_id"]
        user.says("/store")
        location, video = await user.expect_reply(2)
        assert location.obj["location"] == {"latitude": 31.2304, "longitude": 121.4737}
        assert video.media is not None and video.media.kind == "video" and video.text == "How to find us"
        user.says("/hello")
        note, wave = await user.expect_reply(2)
        assert note.media is not None and (note.media.kind, note.media.data) == ("video_note", b"round-hello")
        assert wave.media is not None and (wave.media.kind, wave.media.file_name) == ("animation", "wave.gif")
        assert wave.text == "👋"
        sticker = user.sends_sticker()["message"]["sticker"]
        [echoed] = await user.expect_reply()
        assert echoed.media is not None and echoed.media.file_id == sticker["file_id"]


async def test_forwarded_to_operators_and_answered_by_copy(fake_telegram: FakeTelegram) -> None:
    user = fake_telegram.user(202, first_name="Kim")
    operator = fake_telegram.user(OPERATORS, user_id=900, first_name="Op")
    async with polling(dispatcher(), fake_telegram.aiogram_bot()):
        user.says("my parcel is damaged")
        [ack] = await user.expect_reply()
        assert ack.text == "Passed to an operator."
        [forwarded] = fake_telegram.sent_to(OPERATORS)
        assert forwarded.text == "my parcel is damaged"
        assert forwarded.obj["forward_origin"]["sender_user"]["first_name"] == "Kim"
        operator.says("Sorry! A replacement is on its way.", reply_to=forwarded.message_id)
        _, answer = await fake_telegram.wait_for_messages(202, 2)  # expect_reply counts from *this* chat's action
    assert answer.text == "Sorry! A replacement is on its way." and "forward_origin" not in answer.obj
