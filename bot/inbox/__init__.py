"""The durable inbox and reply outbox between the adapters and the turns (see ``bot.inbox.base``)."""

from bot.inbox.base import Inbox, Outgoing, message_key
from bot.inbox.memory import MemoryInbox

__all__ = ["Inbox", "MemoryInbox", "Outgoing", "message_key"]
