"""The browser chat channel: one page at ``/`` that talks JSON frames over a WebSocket at ``/ws``."""

from adapters.web.adapter import WebChatAdapter
from adapters.web.clients import ClientLimits
from adapters.web.flood import FloodLimit
from adapters.web.frames import ChatLimits, FrameError

__all__ = ["ChatLimits", "ClientLimits", "FloodLimit", "FrameError", "WebChatAdapter"]
