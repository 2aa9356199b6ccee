"""Conversation state between turns: the ``SessionStore`` protocol and its SQLite implementation."""

from bot.sessions.base import HandoffState, Session, SessionStore, Turn

__all__ = ["HandoffState", "Session", "SessionStore", "Turn"]
