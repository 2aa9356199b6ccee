"""Downloads of Telegram files (voice notes, photos) through the bot's own session, with a size cap.

The cap is kefu's limit on what it will process (the speech and vision limits, 20 MB by default), not
the server's: a self-hosted Bot API server serves files up to 2000 MB, but kefu still reads no more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import BadInput, InputTooLarge

if TYPE_CHECKING:
    from aiogram import Bot

DEFAULT_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
"""The default of ``[speech] max_bytes`` and ``[vision] max_bytes`` (and the public Bot API's own limit)."""


async def download(bot: Bot, file_id: str, *, max_bytes: int, timeout_s: int = 60) -> bytes:
    """``getFile`` then stream the file, refusing it as soon as it is known to be over ``max_bytes``.

    An announced size over the cap is refused before the download starts; otherwise reading stops at the
    first chunk past the cap, so at most ``max_bytes`` plus one chunk (64 KiB) is ever held.
    """
    from aiogram.exceptions import TelegramBadRequest

    try:
        info = await bot.get_file(file_id)
    except TelegramBadRequest as error:  # an id Telegram does not know (a forged or expired update): the sender's
        raise BadInput(f"Telegram could not give this file ({error.message})") from None
    if info.file_size is not None and info.file_size > max_bytes:
        raise InputTooLarge(f"the file is {info.file_size} bytes, over the {max_bytes}-byte download limit")
    if not info.file_path:
        raise InputTooLarge("Telegram did not give a download path for this file (too large to download?)")
    url = bot.session.api.file_url(bot.token, info.file_path)
    data = bytearray()
    chunks = bot.session.stream_content(url, timeout=timeout_s, raise_for_status=True)
    try:
        async for chunk in chunks:
            data += chunk
            if len(data) > max_bytes:
                raise InputTooLarge(f"the file is over the {max_bytes}-byte download limit (stopped reading)")
    finally:
        await chunks.aclose()  # closes the response now, not when the generator is collected
    return bytes(data)
