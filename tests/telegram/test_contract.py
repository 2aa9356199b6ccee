"""Contract: the real aiogram client inside TelegramAdapter against the fake Bot API, polling and webhook."""

from __future__ import annotations

import aiohttp

from adapters.telegram.texts import text
from bot.messages import HUMAN_PAYLOAD
from tests.telegram.conftest import WEBHOOK_SECRET, Harness


async def test_text_is_echoed_as_escaped_html_with_buttons(tg: Harness) -> None:
    tg.fake.user(101).says("Is <b>5 > 3</b> & co?")
    [answer] = await tg.fake.wait_for_messages(101, 1)
    assert answer.text == "echo: Is <b>5 > 3</b> & co?"
    assert answer.parse_mode == "HTML" and "&lt;b&gt;" in answer.raw_text
    labels = [label for row in answer.buttons for label, _ in row]
    assert labels == ["Yes", text("human", "en"), text("helpful", "en"), text("not_helpful", "en")]
    [message] = tg.pipeline.received
    assert message.conversation.channel == "telegram" and message.conversation.conversation_id == "101"
    assert message.user_id == "101" and message.language_hint == "en" and message.attachments == ()


async def test_voice_note_is_fetched_lazily_through_getfile(tg: Harness) -> None:
    voice = b"OggS" + bytes(range(256)) * 12
    tg.fake.user(102, language_code="zh-hans").sends_voice(voice, duration=3)
    [answer] = await tg.fake.wait_for_messages(102, 1)
    assert answer.text.startswith(f"voice {len(voice)} bytes audio/ogg")
    assert tg.pipeline.fetched == [[voice]]
    [message] = tg.pipeline.received
    assert message.language_hint == "zh-hans" and message.attachments[0].duration_s == 3.0
    assert len(tg.fake.calls_to("getFile")) == 1


async def test_video_note_and_audio_become_audio_attachments(tg: Harness) -> None:
    user = tg.fake.user(103)
    user.sends_video_note(b"\x00\x00\x00\x18ftypmp42" * 10)
    user.sends_audio(b"ID3" + b"a" * 500, file_name="question.mp3")
    answers = await tg.fake.wait_for_messages(103, 2)
    assert answers[0].text.startswith("voice 120 bytes video/mp4")
    assert answers[1].text.startswith("audio 503 bytes audio/mpeg")


async def test_photo_with_caption_fetches_the_largest_size(tg: Harness) -> None:
    photo = b"\xff\xd8\xff" + b"p" * 4000
    tg.fake.user(104).sends_photo(photo, caption="Do you have this in blue?")
    [answer] = await tg.fake.wait_for_messages(104, 1)
    assert answer.text.startswith(f"echo: Do you have this in blue?; photo {len(photo)} bytes image/jpeg")
    assert tg.pipeline.fetched == [[photo]]


async def test_image_document_is_a_photo_and_other_documents_get_a_polite_answer(tg: Harness) -> None:
    user = tg.fake.user(105)
    user.sends_document(b"\x89PNG" + b"i" * 100, file_name="label.png", mime_type="image/png")
    user.sends_document(b"%PDF-1.7", file_name="invoice.pdf", mime_type="application/pdf")
    answers = [m.text for m in await tg.fake.wait_for_messages(105, 2)]
    assert answers == ["photo 104 bytes image/png", text("unsupported", "en")]
    refused = tg.pipeline.received[1]
    assert refused.text == "[document invoice.pdf]" and refused.answer is not None and not refused.attachments


async def test_album_is_one_turn_with_every_photo(tg: Harness) -> None:
    photos = [b"\xff\xd8" + bytes([i]) * (100 * (i + 1)) for i in range(3)]
    tg.fake.user(106).sends_album(photos, caption="which one is the 2024 model?")
    tg.fake.user(106).says("thanks")
    answers = await tg.fake.wait_for_messages(106, 2)
    assert answers[0].text == (
        "echo: which one is the 2024 model?; photo 102 bytes image/jpeg; "
        "photo 202 bytes image/jpeg; photo 302 bytes image/jpeg"
    )
    assert answers[1].text == "echo: thanks"
    assert tg.pipeline.fetched[0] == photos
    assert tg.pipeline.received[0].metadata["album_size"] == 3


async def test_quick_reply_button_is_dispatched_with_its_payload_and_answered(tg: Harness) -> None:
    user = tg.fake.user(107)
    user.says("hi")
    await tg.fake.wait_for_messages(107, 1)
    user.presses("Yes")
    answers = await tg.fake.wait_for_messages(107, 2)
    assert answers[1].text == "echo: Yes; payload yes"
    assert tg.pipeline.received[1].payload == "yes"
    assert len(tg.fake.callback_answers) == 1


async def test_feedback_buttons_are_recorded_and_answered(tg: Harness) -> None:
    user = tg.fake.user(108)
    user.says("where is my order?")
    [answer] = await tg.fake.wait_for_messages(108, 1)
    user.presses(text("not_helpful", "en"))
    await tg.fake.wait_until(lambda: bool(tg.feedback))
    await tg.fake.wait_quiet(0.1)
    [feedback] = tg.feedback
    assert feedback.helpful is False and feedback.message_id == str(answer.message_id)
    assert feedback.reply_text == answer.text and feedback.conversation.conversation_id == "108"
    assert [a.text for a in tg.fake.callback_answers] == [text("thanks", "en")]
    assert len(tg.pipeline.received) == 1


async def test_start_greets_in_the_users_language_with_a_human_button(tg: Harness) -> None:
    tg.fake.user(109, language_code="zh-hans").says("/start")
    tg.fake.user(110, language_code="en").says("/start")
    [zh] = await tg.fake.wait_for_messages(109, 1)
    [en] = await tg.fake.wait_for_messages(110, 1)
    assert zh.text == text("greeting", "zh") and en.text == text("greeting", "en")
    assert zh.buttons == [[(text("human", "zh"), f"q:{HUMAN_PAYLOAD}")]], "a notice: no feedback buttons"
    started = {m.conversation.conversation_id: m for m in tg.pipeline.received}
    assert started["109"].text == "/start" and started["109"].answer is not None
    assert started["109"].answer.language == "zh" and started["110"].answer.language == "en"
    tg.fake.user(109).presses(text("human", "zh"))
    await tg.fake.wait_for_messages(109, 2)
    assert tg.pipeline.received[-1].payload == HUMAN_PAYLOAD


async def test_human_command_escalates(tg: Harness) -> None:
    tg.fake.user(111).says("/human")
    await tg.fake.wait_for_messages(111, 1)
    [message] = tg.pipeline.received
    assert message.payload == HUMAN_PAYLOAD and message.text == "/human"


async def test_group_chat_is_one_conversation_and_commands_may_name_the_bot(tg: Harness) -> None:
    group = -100200300
    tg.fake.user(group, user_id=7, language_code="zh").says("/start@kefu_test_bot")
    tg.fake.user(group, user_id=8).says("how much is shipping?")
    answers = await tg.fake.wait_for_messages(group, 2)
    assert {a.text for a in answers} == {text("greeting", "zh"), "echo: how much is shipping?"}
    [message] = [m for m in tg.pipeline.received if m.answer is None]
    assert message.conversation.conversation_id == str(group) and message.user_id == "8"
    assert message.metadata["chat_type"] == "supergroup"


async def test_edits_and_stickers_get_polite_answers(tg: Harness) -> None:
    user = tg.fake.user(112, language_code="zh")
    user.edits(1, "changed my mind")
    user.sends_sticker()
    user.sends_location()
    answers = await tg.fake.wait_for_messages(112, 3)
    assert [a.text for a in answers] == [text("edited", "zh"), text("unsupported", "zh"), text("unsupported", "zh")]
    assert all(a.buttons == [] for a in answers)
    said = [(m.text, m.answer is not None) for m in tg.pipeline.received]
    assert said == [("✏️ changed my mind", True), ("[sticker]", True), ("[location]", True)]
    assert tg.pipeline.received[0].message_id != "1", "an edit must not pass for a duplicate of the original"


async def test_own_answers_keep_their_place_behind_a_slow_reply(tg: Harness) -> None:
    user = tg.fake.user(113)
    user.says("slow question first")
    user.sends_sticker()
    answers = await tg.fake.wait_for_messages(113, 2)
    assert [a.text for a in answers] == ["echo: slow question first", text("unsupported", "en")]


async def test_429_and_500_are_retried_and_replies_arrive_once_in_order(tg: Harness) -> None:
    tg.fake.fail_next("sendMessage", status=429, retry_after=1)
    tg.fake.fail_next("sendMessage", status=500)
    user = tg.fake.user(113)
    for word in ("one", "two", "three"):
        user.says(word)
    await tg.fake.wait_for_messages(113, 3)
    await tg.fake.wait_quiet(0.2)
    assert [m.text for m in tg.fake.sent_to(113)] == ["echo: one", "echo: two", "echo: three"]
    statuses = [c.status for c in tg.fake.calls_to("sendMessage")]
    assert statuses == [429, 500, 200, 200, 200]
    calls = tg.fake.calls_to("sendMessage")
    assert calls[1].at - calls[0].at >= 0.95, "retry_after was not honoured"
    assert tg.adapter.outbox.retries == 2


async def test_duplicate_update_gets_one_reply(tg: Harness) -> None:
    update = tg.fake.user(114).says("only once please")
    await tg.fake.wait_for_messages(114, 1)
    tg.fake.redeliver(update["update_id"])
    tg.fake.user(114).says("next")
    await tg.fake.wait_for_messages(114, 2)
    await tg.fake.wait_quiet(0.2)
    assert [m.text for m in tg.fake.sent_to(114)] == ["echo: only once please", "echo: next"]
    assert len(tg.pipeline.received) == 2
    assert tg.fake.handed_out.count(update["update_id"]) == 2, "the fake did deliver the update twice"


async def test_forged_webhook_secret_gets_401(tg: Harness, mode: str) -> None:
    if mode == "polling":
        assert list(tg.adapter.routes()) == [] and tg.fake.webhook_url is None
        return
    assert tg.fake.webhook_url == tg.webhook_url and tg.fake.webhook_secret == WEBHOOK_SECRET
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 115, "type": "private"}, "text": "forged"},
    }
    assert await tg.fake.webhook_post(update, secret_token="guess") == 401
    assert await tg.fake.webhook_post(update, secret_token=None) == 401
    assert tg.pipeline.received == []
    async with aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with http.post(tg.webhook_url or "", data=b"not json", headers=headers) as response:
            assert response.status == 400
    assert await tg.fake.webhook_post(update, secret_token=WEBHOOK_SECRET) == 200
    await tg.fake.wait_for_messages(115, 1)
