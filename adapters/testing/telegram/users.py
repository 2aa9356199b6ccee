"""A fake Telegram user: writes text, sends voice notes, photos, albums and documents, presses buttons."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

_album_ids = itertools.count(1)
_callback_ids = itertools.count(1)


class FakeUser:
    """Injects updates as one user in one chat; each method returns the update it queued.

    Photos carry two sizes like Telegram's: the full bytes (the largest size) and a thumbnail made of a
    prefix of them, so a bot that downloads the wrong size sees truncated bytes.
    """

    def __init__(self, fake: FakeTelegram, chat_id: int, *, user_id: int, language_code: str | None,
                 first_name: str) -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.user = p.user(user_id, first_name=first_name, language_code=language_code)

    def _message(self, **fields: Any) -> dict[str, Any]:
        self.fake._message_ids[self.chat_id] += 1
        return p.message(self.fake._message_ids[self.chat_id], self.chat_id, self.user, **fields)

    def _send(self, **fields: Any) -> dict[str, Any]:
        return self.fake.inject_update("message", self._message(**fields))

    def says(self, text: str) -> dict[str, Any]:
        """A text message (commands such as ``/start`` get their ``bot_command`` entity)."""
        entities = p.command_entities(text)
        return self._send(text=text, **({"entities": entities} if entities else {}))

    def sends_voice(self, data: bytes, *, duration: int = 1, mime_type: str = "audio/ogg",
                    caption: str | None = None) -> dict[str, Any]:
        voice = self.fake.add_file(data, suffix="oga") | {"duration": duration, "mime_type": mime_type}
        return self._send(voice=voice, **_caption(caption))

    def sends_large_voice(self, size: int, *, duration: int = 1) -> dict[str, Any]:
        """A voice note of ``size`` bytes that the fake streams without announcing its size (see ``served``)."""
        voice = self.fake.add_streamed_file(size, suffix="oga") | {"duration": duration, "mime_type": "audio/ogg"}
        return self._send(voice=voice)

    def sends_audio(self, data: bytes, *, file_name: str = "audio.mp3", mime_type: str = "audio/mpeg",
                    duration: int = 1) -> dict[str, Any]:
        audio = self.fake.add_file(data, suffix="mp3") | {"duration": duration, "mime_type": mime_type,
                                                          "file_name": file_name}
        return self._send(audio=audio)

    def sends_video_note(self, data: bytes, *, duration: int = 1, length: int = 240) -> dict[str, Any]:
        note = self.fake.add_file(data, suffix="mp4") | {"duration": duration, "length": length}
        return self._send(video_note=note)

    def sends_photo(self, data: bytes, *, caption: str | None = None, width: int = 1280, height: int = 960,
                    media_group_id: str | None = None) -> dict[str, Any]:
        sizes = [
            self.fake.add_file(data[: max(1, len(data) // 8)], suffix="jpg") | {"width": 90, "height": 68},
            self.fake.add_file(data, suffix="jpg") | {"width": width, "height": height},
        ]
        group = {"media_group_id": media_group_id} if media_group_id else {}
        return self._send(photo=sizes, **_caption(caption), **group)

    def sends_album(self, photos: list[bytes], *, caption: str | None = None) -> list[dict[str, Any]]:
        """Several photos sent together: one update per photo sharing a ``media_group_id``."""
        group = f"album{next(_album_ids)}"
        return [self.sends_photo(data, caption=caption if i == 0 else None, media_group_id=group)
                for i, data in enumerate(photos)]

    def sends_document(self, data: bytes, *, file_name: str, mime_type: str,
                       caption: str | None = None) -> dict[str, Any]:
        document = self.fake.add_file(data, suffix="bin") | {"file_name": file_name, "mime_type": mime_type}
        return self._send(document=document, **_caption(caption))

    def sends_sticker(self) -> dict[str, Any]:
        sticker = self.fake.add_file(b"RIFF-webp", suffix="webp") | {
            "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}
        return self._send(sticker=sticker)

    def sends_location(self, *, latitude: float = 31.23, longitude: float = 121.47) -> dict[str, Any]:
        return self._send(location={"latitude": latitude, "longitude": longitude})

    def edits(self, message_id: int, text: str) -> dict[str, Any]:
        """An ``edited_message`` update for one of this user's messages."""
        edited = p.message(message_id, self.chat_id, self.user, text=text) | {"edit_date": 1}
        return self.fake.inject_update("edited_message", edited)

    def presses(self, label: str | None = None, *, data: str | None = None) -> dict[str, Any]:
        """Press the inline button with this ``label`` (or callback ``data``) on the bot's latest message having it."""
        for message in reversed(self.fake.sent_to(self.chat_id)):
            for row in message.buttons:
                for text, callback_data in row:
                    if (label is not None and text == label) or (data is not None and callback_data == data):
                        query = {"id": f"cb{next(_callback_ids)}", "from": self.user,
                                 "chat_instance": str(self.chat_id), "message": message.obj,
                                 "data": callback_data}
                        return self.fake.inject_update("callback_query", query)
        raise LookupError(f"no button {label or data!r} in chat {self.chat_id}")


def _caption(caption: str | None) -> dict[str, Any]:
    return {"caption": caption} if caption else {}
