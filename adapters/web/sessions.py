"""Browser sessions: which sockets belong to a conversation, and the recent replies kept for reconnects.

Replies are numbered (``seq``) per session and epoch (a random tag of this server's record of the session,
new after a restart or after the record was forgotten). A page that reconnects says the epoch and last
number it saw (``?after=<epoch>.<seq>``) and gets every later reply again, so a reply written to a socket that
had silently died is not lost; a page that does not say, or names another epoch, gets the replies no
socket ever took.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

_SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_session_id() -> str:
    """A fresh, unguessable session id (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def valid_session_id(value: str | None) -> bool:
    """Whether a client-supplied ``?session=`` value has the shape of a session id."""
    return value is not None and _SESSION_RE.match(value) is not None


@dataclass(slots=True)
class _Session:
    recent: deque[dict[str, Any]]
    touched: float
    epoch: str = field(default_factory=lambda: secrets.token_hex(4))
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    seq: int = 0
    """Number of the last reply queued."""
    delivered: int = 0
    """Number of the last reply some socket took."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SessionHub:
    """Delivers frames to a session's open sockets and keeps its last ``max_pending`` replies for reconnects.

    A session without sockets is forgotten once it has been idle ``idle_ttl_s`` with every reply delivered;
    past ``max_sessions`` the detached session idle longest is forgotten even with replies waiting (logged).
    Sessions are kept in the order they were last touched, and those idle with replies waiting apart, so
    making room looks only at sessions it forgets or sets aside (never at every session).
    """

    def __init__(
        self,
        *,
        max_pending: int = 50,
        max_sessions: int = 10_000,
        idle_ttl_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_pending = max_pending
        self._max_sessions = max_sessions
        self._idle_ttl_s = idle_ttl_s
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        """Sessions in the order they were last touched."""
        self._parked: OrderedDict[str, _Session] = OrderedDict()
        """Sessions idle past ``idle_ttl_s`` with replies waiting, idle longest first: kept until room is needed."""

    def _session(self, session_id: str) -> _Session:
        now = self._clock()
        session = self._sessions.get(session_id) or self._parked.pop(session_id, None)
        if session is None:
            self._sweep(now)
            session = _Session(recent=deque(maxlen=self._max_pending), touched=now)
        session.touched = now
        self._sessions[session_id] = session
        self._sessions.move_to_end(session_id)
        return session

    def _sweep(self, now: float) -> None:
        """Forget (or park) idle sessions, oldest first, and make room under ``max_sessions``; O(sessions moved)."""
        for _ in range(len(self._sessions)):
            session_id, session = next(iter(self._sessions.items()))
            if session.sockets:  # in use: its idle time starts when its last socket closes
                session.touched = now
                self._sessions.move_to_end(session_id)
                continue
            if now - session.touched <= self._idle_ttl_s:
                break
            del self._sessions[session_id]
            if session.delivered < session.seq:
                self._parked[session_id] = session
        while len(self) >= self._max_sessions:
            idle_longest = self._parked or self._sessions
            if not idle_longest or next(iter(idle_longest.values())).sockets:
                return
            session_id, session = idle_longest.popitem(last=False)
            if session.delivered < session.seq:
                log.warning(
                    "web chat: forgot session %s with %d undelivered replies (over %d sessions)",
                    session_id,
                    session.seq - session.delivered,
                    self._max_sessions,
                )

    async def attach(
        self,
        session_id: str,
        ws: web.WebSocketResponse,
        *,
        greeting: dict[str, Any],
        after: tuple[str, int] | None = None,
    ) -> None:
        """Send ``greeting`` (plus the session's ``epoch``), then the replies after ``after`` (default: undelivered).

        The socket receives replies from then on; the greeting goes first so the page knows its session.
        """
        session = self._session(session_id)
        async with session.lock:
            if not await send_frame(ws, {**greeting, "epoch": session.epoch}):
                return
            start = session.delivered
            if after is not None and after[0] == session.epoch and after[1] <= session.seq:
                start = after[1]
            for frame in list(session.recent):
                if frame["seq"] <= start:
                    continue
                if not await send_frame(ws, frame):
                    return
                session.delivered = max(session.delivered, frame["seq"])
            session.sockets.add(ws)

    def detach(self, session_id: str, ws: web.WebSocketResponse) -> None:
        """Forget a closed socket (the session's recent replies stay for a reconnect)."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.sockets.discard(ws)
            session.touched = self._clock()
            self._sessions.move_to_end(session_id)

    async def deliver(self, session_id: str, frame: dict[str, Any], *, keep: bool) -> bool:
        """Send a frame to every open socket of a session; with ``keep`` it is numbered and kept for reconnects."""
        session = self._session(session_id)
        async with session.lock:
            if keep:
                kept = _kept(session, frame.get("id"))
                if kept is not None and kept["seq"] <= session.delivered:
                    return True  # offered again (the outbox retries): a socket already took it
                if kept is None:
                    if len(session.recent) == self._max_pending and session.recent[0]["seq"] > session.delivered:
                        log.warning(
                            "web chat: session %s has over %d undelivered replies; dropped the oldest",
                            session_id,
                            self._max_pending,
                        )
                    session.seq += 1
                    kept = {**frame, "seq": session.seq}
                    session.recent.append(kept)
                frame = kept
            delivered = False
            for ws in list(session.sockets):
                if await send_frame(ws, frame):
                    delivered = True
                else:
                    session.sockets.discard(ws)
            if delivered and keep:
                session.delivered = max(session.delivered, frame["seq"])
            return delivered

    def undelivered(self, session_id: str) -> int:
        """How many replies no socket of the session has taken yet."""
        session = self._sessions.get(session_id) or self._parked.get(session_id)
        return min(session.seq - session.delivered, len(session.recent)) if session else 0

    def __len__(self) -> int:
        """Sessions currently remembered."""
        return len(self._sessions) + len(self._parked)

    def sockets(self) -> list[web.WebSocketResponse]:
        """Every open socket (for shutdown)."""
        return [ws for session in self._sessions.values() for ws in session.sockets]


def _kept(session: _Session, reply_id: object) -> dict[str, Any] | None:
    """The kept frame of the reply with ``reply_id`` (None for a reply without an id or not kept)."""
    if reply_id is None:
        return None
    return next((frame for frame in session.recent if frame.get("id") == reply_id), None)


async def send_frame(ws: web.WebSocketResponse, frame: dict[str, Any]) -> bool:
    """Send one JSON frame; False when the socket is gone (closed, closing, reset)."""
    if ws.closed:
        return False
    try:
        await ws.send_json(frame)
    except (ConnectionError, RuntimeError):
        return False
    return True
