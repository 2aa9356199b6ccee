"""Albums in assembly: Telegram sends one update per photo sharing a ``media_group_id``; kefu dispatches one.

An album is dispatched once no new photo of it has come for ``window_s``, at once when it holds
``MAX_PHOTOS`` (Telegram's own limit), and early, oldest first, when its chat or the whole adapter
has too many albums in assembly; so what a sender can make kefu hold stays bounded. Dispatching
takes the chat's lock, so an album keeps its place among the chat's other messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram.types import Message as TgMessage

log = logging.getLogger(__name__)

MAX_PHOTOS = 10
"""Telegram allows at most 10 items in an album."""

Send = Callable[[list[TgMessage]], Awaitable[None]]


@dataclass
class _Album:
    key: str
    chat_id: int
    deadline: float
    messages: list[TgMessage] = field(default_factory=list)


class Albums:
    """Collects album photos; ``send`` gets each album's updates, called with the chat's lock held."""

    def __init__(
        self,
        *,
        window_s: float,
        max_albums: int,
        max_per_chat: int,
        lock_for: Callable[[int], asyncio.Lock],
        send: Send,
    ) -> None:
        if max_albums < 1 or max_per_chat < 1:
            raise ValueError("max_albums and max_per_chat must be at least 1")
        self._window_s = window_s
        self._max_albums = max_albums
        self._max_per_chat = max_per_chat
        self._lock_for = lock_for
        self._send = send
        self._albums: dict[str, _Album] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()

    async def add(self, message: TgMessage) -> None:
        """Add one photo of an album; may dispatch this album (full) or older ones (over the bounds) first."""
        key = str(message.media_group_id)
        if key not in self._albums:
            await self._make_room(message.chat.id)
        album = self._albums.get(key)
        if album is None:
            album = self._albums[key] = _Album(key, message.chat.id, 0.0)
            timer = asyncio.create_task(self._timer(album))
            self._timers.add(timer)
            self._waiting.add(timer)
            timer.add_done_callback(self._timers.discard)
        album.messages.append(message)
        album.deadline = asyncio.get_running_loop().time() + self._window_s
        if len(album.messages) >= MAX_PHOTOS:
            await self._flush(album)

    def take(self, chat_id: int) -> list[list[TgMessage]]:
        """Remove the chat's albums in assembly, oldest first, for a caller that holds the chat's lock."""
        taken = [album for album in self._albums.values() if album.chat_id == chat_id]
        for album in taken:
            del self._albums[album.key]
        return [album.messages for album in taken]

    async def flush_all(self) -> None:
        """Dispatch every album in assembly (at shutdown); timers still waiting are cancelled."""
        for timer in self._waiting:
            timer.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)
        for album in list(self._albums.values()):
            await self._flush(album)

    async def _make_room(self, chat_id: int) -> None:
        """Dispatch the oldest albums early while the chat, or the adapter, is at its bound."""
        while len(same := [a for a in self._albums.values() if a.chat_id == chat_id]) >= self._max_per_chat:
            log.info("telegram: chat %s has %d albums in assembly; dispatching the oldest early", chat_id, len(same))
            await self._flush(same[0])
        while len(self._albums) >= self._max_albums:
            log.warning("telegram: %d albums in assembly; dispatching the oldest early", len(self._albums))
            await self._flush(next(iter(self._albums.values())))

    async def _flush(self, album: _Album) -> None:
        async with self._lock_for(album.chat_id):
            if self._albums.get(album.key) is album:
                del self._albums[album.key]
                await self._send(album.messages)

    async def _timer(self, album: _Album) -> None:
        """Wait until ``album`` has had no new photo for ``window_s``, then dispatch it (unless gone already)."""
        loop = asyncio.get_running_loop()
        try:
            # not a busy wait: each new photo moves the deadline, so sleep again until it stops moving
            while self._albums.get(album.key) is album and loop.time() < album.deadline:  # noqa: ASYNC110
                await asyncio.sleep(album.deadline - loop.time())
        finally:
            self._waiting.discard(asyncio.current_task())
        try:
            await self._flush(album)
        except Exception:
            log.exception("telegram: dispatching album %s failed", album.key)
