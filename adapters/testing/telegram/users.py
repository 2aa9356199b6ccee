"""A fake Telegram user: writes, sends media, presses buttons, blocks the bot, joins groups, pays."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import entities
from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.records import SentMessage

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_album_ids = itertools.count(1)
_query_ids = itertools.count(1)


class FakeUser:
    """Injects updates as one user in one chat; each method returns the update it queued.

    Photos carry two sizes like Telegram's: the full bytes (the largest size) and a thumbnail made of a
    prefix of them, so a bot that downloads the wrong size sees truncated bytes.
    """

    def __init__(self, fake: FakeTelegram, chat_id: int, *, user: dict[str, Any], thread_id: int | None = None) -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.user = user
        self.thread_id = thread_id

    def in_topic(self, thread_id: int) -> FakeUser:
        """The same user writing in the forum topic ``thread_id`` of this (forum) group."""
        if thread_id not in self.fake.forums.get(self.chat_id, {}):
            raise LookupError(f"chat {self.chat_id} has no topic {thread_id}; the bot creates them (createForumTopic)")
        return FakeUser(self.fake, self.chat_id, user=self.user, thread_id=thread_id)

    def _message(self, **fields: Any) -> dict[str, Any]:
        if self.thread_id is not None:
            fields |= {"message_thread_id": self.thread_id, "is_topic_message": True}
        return self.fake.new_message(self.chat_id, self.user, **fields)

    def _send(self, **fields: Any) -> dict[str, Any]:
        return self.fake.inject_update("message", self._message(**fields))

    async def expect_reply(self, count: int = 1, *, timeout: float = 5.0) -> list[SentMessage]:
        """The ``count`` messages the bot sends this chat after this user's last action."""
        return await self.fake.expect_reply(self.chat_id, count, timeout=timeout)

    def says(self, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        """A text message with the entities Telegram detects (``/start``, URLs, @mentions…), maybe a reply."""
        found = entities.detect(text, [])
        fields: dict[str, Any] = {"entities": found} if found else {}
        if reply_to is not None:
            fields["reply_to_message"] = self.fake.message(self.chat_id, reply_to)
        return self._send(text=text, **fields)

    def taps(self, label: str) -> dict[str, Any]:
        """Tap a button of the reply keyboard the bot shows in this chat (it sends the label as text)."""
        shown = self.fake.keyboard(self.chat_id) or []
        if not any(label in row for row in shown):
            raise LookupError(f"no reply keyboard button {label!r} in chat {self.chat_id}; shown: {shown}")
        return self.says(label)

    def sends_video(self, data: bytes, *, duration: int = 1, caption: str | None = None) -> dict[str, Any]:
        video = self.fake.add_file(data, suffix="mp4") | {
            "duration": duration,
            "width": 640,
            "height": 360,
            "mime_type": "video/mp4",
        }
        return self._send(video=video, **_caption(caption))

    def sends_voice(
        self, data: bytes, *, duration: int = 1, mime_type: str = "audio/ogg", caption: str | None = None
    ) -> dict[str, Any]:
        voice = self.fake.add_file(data, suffix="oga") | {"duration": duration, "mime_type": mime_type}
        return self._send(voice=voice, **_caption(caption))

    def sends_large_voice(self, size: int, *, duration: int = 1) -> dict[str, Any]:
        """A voice note of ``size`` bytes that the fake streams without announcing its size (see ``served``)."""
        voice = self.fake.add_streamed_file(size, suffix="oga") | {"duration": duration, "mime_type": "audio/ogg"}
        return self._send(voice=voice)

    def sends_audio(
        self, data: bytes, *, file_name: str = "audio.mp3", mime_type: str = "audio/mpeg", duration: int = 1
    ) -> dict[str, Any]:
        audio = self.fake.add_file(data, suffix="mp3") | {
            "duration": duration,
            "mime_type": mime_type,
            "file_name": file_name,
        }
        return self._send(audio=audio)

    def sends_video_note(self, data: bytes, *, duration: int = 1, length: int = 240) -> dict[str, Any]:
        note = self.fake.add_file(data, suffix="mp4") | {"duration": duration, "length": length}
        return self._send(video_note=note)

    def sends_photo(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        sizes = [
            self.fake.add_file(data[: max(1, len(data) // 8)], suffix="jpg") | {"width": 90, "height": 68},
            self.fake.add_file(data, suffix="jpg") | {"width": width, "height": height},
        ]
        group = {"media_group_id": media_group_id} if media_group_id else {}
        return self._send(photo=sizes, **_caption(caption), **group)

    def sends_album(self, photos: list[bytes], *, caption: str | None = None) -> list[dict[str, Any]]:
        """Several photos sent together: one update per photo sharing a ``media_group_id``."""
        group = f"album{next(_album_ids)}"
        return [
            self.sends_photo(data, caption=caption if i == 0 else None, media_group_id=group)
            for i, data in enumerate(photos)
        ]

    def sends_document(
        self, data: bytes, *, file_name: str, mime_type: str, caption: str | None = None
    ) -> dict[str, Any]:
        document = self.fake.add_file(data, suffix="bin") | {"file_name": file_name, "mime_type": mime_type}
        return self._send(document=document, **_caption(caption))

    def sends_sticker(self) -> dict[str, Any]:
        sticker = self.fake.add_file(b"RIFF-webp", suffix="webp") | {
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return self._send(sticker=sticker)

    def sends_location(self, *, latitude: float = 31.23, longitude: float = 121.47) -> dict[str, Any]:
        return self._send(location={"latitude": latitude, "longitude": longitude})

    def edits(self, message_id: int, text: str) -> dict[str, Any]:
        """An ``edited_message`` update for one of this user's messages."""
        edited = p.message(message_id, self.fake.chat(self.chat_id), self.user, text=text) | {"edit_date": 1}
        return self.fake.inject_update("edited_message", edited)

    def presses(self, label: str | None = None, *, data: str | None = None) -> dict[str, Any]:
        """Press an inline button with this ``label`` (or callback ``data``) that the user sees now, on the
        bot's latest message having it (edited keyboards count as edited; deleted messages are gone)."""
        inline = [m for m in self.fake.inline_messages.values() if m.chat_id == self.chat_id]
        for message in [*inline, *reversed(self.fake.sent_to(self.chat_id))]:
            if message.deleted:
                continue
            for row in message.inline_keyboard:
                for button in row:
                    if "callback_data" not in button:
                        continue
                    if (label is not None and button["text"] == label) or button["callback_data"] == data:
                        query = {
                            "id": f"cb{next(_query_ids)}",
                            "from": self.user,
                            "chat_instance": str(self.chat_id),
                            "data": button["callback_data"],
                        }
                        if message.message_id:
                            query["message"] = dict(message.obj)
                        else:
                            query["inline_message_id"] = self._inline_id(message)
                        return self.fake.inject_update("callback_query", query)
        raise LookupError(f"no button {label or data!r} visible in chat {self.chat_id}")

    def _inline_id(self, message: SentMessage) -> str:
        return next(key for key, value in self.fake.inline_messages.items() if value is message)

    def blocks_bot(self) -> dict[str, Any]:
        """Block the bot: a ``my_chat_member`` update (member → kicked); sending here then answers 403."""
        self.fake.blocked.add(self.chat_id)
        return self._member_update("my_chat_member", self.fake.bot_user, "member", "kicked", by=self.user)

    def unblocks_bot(self) -> dict[str, Any]:
        """Unblock the bot (kicked → member), as a user who restarts it."""
        self.fake.blocked.discard(self.chat_id)
        return self._member_update("my_chat_member", self.fake.bot_user, "kicked", "member", by=self.user)

    def joins(self) -> dict[str, Any]:
        """Join this group: a ``chat_member`` update (left → member); bots get it only if they ask for it in
        ``allowed_updates``, like on Telegram."""
        return self._member_update("chat_member", self.user, "left", "member", by=self.user)

    def leaves(self) -> dict[str, Any]:
        return self._member_update("chat_member", self.user, "member", "left", by=self.user)

    def _member_update(
        self, kind: str, member: dict[str, Any], old: str, new: str, by: dict[str, Any]
    ) -> dict[str, Any]:
        def status(value: str) -> dict[str, Any]:
            return {"status": value, "user": member} | ({"until_date": 0} if value == "kicked" else {})

        if kind == "chat_member":
            self.fake.set_member(self.chat_id, member["id"], new)
        update = {
            "chat": self.fake.chat(self.chat_id),
            "from": by,
            "date": int(time.time()),
            "old_chat_member": status(old),
            "new_chat_member": status(new),
        }
        return self.fake.inject_update(kind, update)

    def requests_to_join(self) -> dict[str, Any]:
        """Ask to join this group through an invite link that needs approval: a ``chat_join_request``."""
        self.fake.join_requests.add((self.chat_id, self.user["id"]))
        request = {
            "chat": self.fake.chat(self.chat_id),
            "from": self.user,
            "user_chat_id": self.user["id"],
            "date": int(time.time()),
        }
        return self.fake.inject_update("chat_join_request", request)

    def votes(self, poll: SentMessage, *options: int) -> dict[str, Any]:
        """Vote in the bot's non-anonymous poll (option indexes): a ``poll_answer`` update."""
        details = poll.obj.get("poll")
        if details is None or details["is_anonymous"]:
            raise LookupError("the bot is told of votes only in its non-anonymous polls")
        if any(not 0 <= i < len(details["options"]) for i in options):
            raise IndexError(f"the poll has {len(details['options'])} options")
        answer = {
            "poll_id": details["id"],
            "user": self.user,
            "option_ids": list(options),
            "option_persistent_ids": [details["options"][i]["persistent_id"] for i in options],
        }
        return self.fake.inject_update("poll_answer", answer)

    def asks_inline(self, query: str, *, offset: str = "") -> dict[str, Any]:
        """Type ``@bot query`` in any chat: an ``inline_query``; the bot's answer lands in ``fake.inline_answers``."""
        inline = {
            "id": f"iq{next(_query_ids)}",
            "from": self.user,
            "query": query,
            "offset": offset,
            "chat_type": "sender",
        }
        return self.fake.inject_update("inline_query", inline)

    def chooses_inline_result(self, result_id: str) -> dict[str, Any]:
        """Send the bot's inline result ``result_id`` (from its latest answer) into this chat: a
        ``chosen_inline_result``; the message lands in ``fake.inline_messages``, and its buttons can be pressed."""
        answers = [a for a in reversed(self.fake.inline_answers) for r in a.results if str(r.get("id")) == result_id]
        if not answers:
            raise LookupError(f"the bot offered no inline result {result_id!r}")
        result = next(r for r in answers[0].results if str(r.get("id")) == result_id)
        content = result.get("input_message_content") or {}
        raw = str(content.get("message_text", result.get("title", "")))
        text, found = entities.parse(raw, content.get("parse_mode"), content.get("entities"))
        inline_id = f"inline{len(self.fake.inline_messages) + 1}"
        obj: dict[str, Any] = {"text": text} | ({"entities": found} if found else {})
        if result.get("reply_markup"):
            obj["reply_markup"] = result["reply_markup"]
        self.fake.inline_messages[inline_id] = SentMessage(
            self.chat_id, 0, raw, content.get("parse_mode"), time.monotonic(), obj
        )
        chosen = {"result_id": result_id, "from": self.user, "query": "", "inline_message_id": inline_id}
        return self.fake.inject_update("chosen_inline_result", chosen)

    def pays(self, invoice: SentMessage | None = None) -> dict[str, Any]:
        """Pay the bot's latest invoice in this chat (or ``invoice``): a ``pre_checkout_query``. When the bot
        approves it, the fake sends the ``successful_payment`` message, as Telegram does."""
        invoices = [m for m in self.fake.sent_to(self.chat_id) if "invoice" in m.obj and not m.deleted]
        chosen = invoice or (invoices[-1] if invoices else None)
        if chosen is None:
            raise LookupError(f"the bot sent no invoice to chat {self.chat_id}")
        details = chosen.obj["invoice"]
        query = {
            "id": f"pcq{next(_query_ids)}",
            "from": self.user,
            "currency": details["currency"],
            "total_amount": details["total_amount"],
            "invoice_payload": self.fake.invoice_payloads[(self.chat_id, chosen.message_id)],
        }
        self.fake.pre_checkouts[query["id"]] = query
        return self.fake.inject_update("pre_checkout_query", query)


def _caption(caption: str | None) -> dict[str, Any]:
    return {"caption": caption} if caption else {}
