"""``WorkingRelay``: a worker's "typing…", shown by the fronts (they hold the channels).

    ShowTyping(WorkingRelay(stream), quiet=conversations.operator_owns)   # in the worker's middlewares

The worker names the conversation on the stream's working channel as its turn starts; every front listening shows
"typing…" there (``Front``). Best effort, like the indicator itself: a Redis error is logged and the turn goes on.
"""

from __future__ import annotations

import logging

from bot.inbox.stream import StreamInbox
from bot.messages import ConversationRef

log = logging.getLogger(__name__)


class WorkingRelay:
    """``ShowsWorking`` for a worker: publishes the conversation for the fronts to show "typing…"."""

    def __init__(self, stream: StreamInbox) -> None:
        self._stream = stream

    async def working(self, conversation: ConversationRef) -> None:
        try:
            await self._stream.announce_working(conversation)
        except Exception:  # a typing indicator is best effort
            log.debug("worker: could not announce typing in %s", conversation, exc_info=True)
