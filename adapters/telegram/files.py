"""Downloads of Telegram files (voice notes, photos) through the bot's own session, with a size cap."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.errors import InputTooLarge

if TYPE_CHECKING:
    from aiogram import Bot

OFFICIAL_API_HOST = "api.telegram.org"
BOT_API_DOWNLOAD_CAP = 20 * 1024 * 1024
"""The public Bot API serves files up to 20 MB."""
LOCAL_SERVER_DOWNLOAD_CAP = 2000 * 1024 * 1024
"""A self-hosted Bot API server serves files up to 2000 MB."""


def download_cap(api_base: str) -> int:
    """20 MB against Telegram's own API, 2000 MB against a self-hosted Bot API server (or a fake)."""
    return BOT_API_DOWNLOAD_CAP if urlsplit(api_base).hostname == OFFICIAL_API_HOST else LOCAL_SERVER_DOWNLOAD_CAP


async def download(bot: Bot, file_id: str, *, max_bytes: int, timeout_s: int = 60) -> bytes:
    """``getFile`` then stream the file, refusing it as soon as it is known to be over ``max_bytes``."""
    info = await bot.get_file(file_id)
    if info.file_size is not None and info.file_size > max_bytes:
        raise InputTooLarge(f"the file is {info.file_size} bytes, over the {max_bytes}-byte download limit")
    if not info.file_path:
        raise InputTooLarge("Telegram did not give a download path for this file (too large to download?)")
    url = bot.session.api.file_url(bot.token, info.file_path)
    data = bytearray()
    async for chunk in bot.session.stream_content(url, timeout=timeout_s, raise_for_status=True):
        data += chunk
        if len(data) > max_bytes:
            raise InputTooLarge(f"the file is over the {max_bytes}-byte download limit")
    return bytes(data)
