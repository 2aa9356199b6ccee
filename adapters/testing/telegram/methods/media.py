"""Sending files of every kind (uploaded, by file_id or by URL), albums, and getFile."""

from __future__ import annotations

import mimetypes
import uuid
from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import entities
from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.messages import formatted
from adapters.testing.telegram.methods.registry import method

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

MEDIA_DEFAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "photo": ("jpg", {"width": 800, "height": 600}),
    "document": ("bin", {}),
    "voice": ("oga", {"duration": 1, "mime_type": "audio/ogg"}),
    "audio": ("mp3", {"duration": 1, "mime_type": "audio/mpeg"}),
    "video": ("mp4", {"width": 640, "height": 360, "duration": 1, "mime_type": "video/mp4"}),
    "animation": ("mp4", {"width": 320, "height": 240, "duration": 1, "mime_type": "video/mp4"}),
    "video_note": ("mp4", {"length": 240, "duration": 1}),
    "sticker": ("webp", {"width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}),
}
_NAMED = frozenset({"document", "audio", "video", "animation"})
_PASSED = ("duration", "width", "height", "performer", "title", "length")
_ALBUM_KINDS = frozenset({"photo", "video", "audio", "document"})


def store(
    fake: FakeTelegram, kind: str, item: p.Upload | str, params: dict[str, Any]
) -> tuple[dict[str, Any], bytes | None, str | None]:
    """The file object for a sent ``item`` (stored for getFile), its bytes, and the URL if one was sent."""
    suffix, extra = MEDIA_DEFAULTS[kind]
    extra = dict(extra)
    for key in _PASSED:
        if key in params:
            extra[key] = str(params[key]) if key in ("performer", "title") else p.integer(params, key)
    if isinstance(item, p.Upload):
        info = fake.add_file(item.data, suffix=suffix) | extra
        if kind in _NAMED:
            name = item.filename or f"{kind}.{suffix}"
            mime = (
                item.content_type
                if item.content_type not in (None, "application/octet-stream")
                else mimetypes.guess_type(name)[0]
            ) or "application/octet-stream"
            info |= {"file_name": name, "mime_type": mime}
        return info, item.data, None
    known = fake._files.get(item)
    if known is not None:
        return {k: v for k, v in known.items() if k != "file_path"} | extra, fake.file_data(item), None
    if item.startswith(("http://", "https://")):
        info = fake.add_file(b"", suffix=suffix, announce_size=False) | extra
        if kind in _NAMED:
            name = item.rsplit("/", 1)[-1] or f"{kind}.{suffix}"
            info |= {"file_name": name, "mime_type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
        return info, None, item
    raise p.BadRequest("wrong remote file identifier specified: Wrong string length")


async def _send(
    fake: FakeTelegram, kind: str, params: dict[str, Any], files: dict[str, p.Upload], **group: Any
) -> dict[str, Any]:
    info, data, url = store(fake, kind, p.upload(params, files, kind), params)
    raw, fields = formatted(params, "caption", "caption_entities")
    if entities.utf16_len(fields.get("caption", "")) > 1024:
        raise p.BadRequest("message caption is too long")
    if kind == "sticker":
        fields = {}
    return fake.record(params, raw, {kind: [info] if kind == "photo" else info, **fields, **group}, data=data, url=url)


def _sender(kind: str) -> Any:
    async def send(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
        return await _send(fake, kind, params, files)

    return send


for _kind in MEDIA_DEFAULTS:
    method("send" + "".join(part.title() for part in _kind.split("_")))(_sender(_kind))


@method("sendMediaGroup")
async def send_media_group(
    fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]
) -> list[dict[str, Any]]:
    media = params.get("media")
    if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
        raise p.BadRequest("can't parse media JSON object")
    if not media:
        raise p.BadRequest("there are no messages to send")
    if len(media) > 10:
        raise p.BadRequest("too many messages to send as an album")
    kinds = [str(item.get("type")) for item in media]
    for kind in kinds:
        if kind not in _ALBUM_KINDS:
            raise p.BadRequest(f"can't parse InputMedia: type \"{kind}\" can't be used in sendMediaGroup")
    for alone in ("document", "audio"):
        if alone in kinds and len(set(kinds)) > 1:
            raise p.BadRequest(f"{alone} can't be mixed with other media types")
    group = {"media_group_id": uuid.uuid4().hex[:16]}
    sent = []
    for item, kind in zip(media, kinds, strict=True):
        item_params = {k: v for k, v in params.items() if k != "media"} | {
            k: v for k, v in item.items() if k not in ("type",)
        }
        item_params[kind] = item_params.pop("media", None)
        sent.append(await _send(fake, kind, item_params, files, **group))
    return sent


@method("getFile")
async def get_file(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    info = fake._files.get(str(params.get("file_id")))
    if info is None:
        raise p.BadRequest("invalid file_id")
    return info
