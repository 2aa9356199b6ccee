"""``Front``: the HTTP front of worker mode; it accepts messages onto the stream and delivers the workers' replies.

    front = Front(stream, courier)
    await front.start()                 # the courier's sweep, and the replies channel it listens to
    await adapter.start(front.dispatch) # acknowledged = kept and announced on the stream
    ...
    await front.stop()

The front runs no turn and loads no model. It keeps each attachment's bytes at accept (a worker has no channel to
fetch them from). Replies are delivered here because the front holds the channels (the browsers' sockets, the
Telegram and Slack clients); a worker's ``complete`` names the conversation on the ``replies`` channel, and the
courier's sweep (every second) catches any announcement missed while Redis restarted. Several fronts may share one
database: every front hears every announcement, and a per-conversation delivery lease lets one of them at a time
send a conversation's replies (``bot.shared_outbox``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

from bot.delivery import Courier
from bot.inbox.stream import StreamInbox
from bot.messages import Attachment, ConversationRef, Message
from bot.outbound import Outbound

log = logging.getLogger(__name__)

SEP = "\x1f"


class Front:
    """Accept onto the stream (``dispatch``) and deliver what the workers queue (``start`` … ``stop``)."""

    def __init__(
        self,
        stream: StreamInbox,
        courier: Courier,
        *,
        outbound: Outbound | None = None,
        max_attachment_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.stream = stream
        self.courier = courier
        self.outbound = outbound
        """Where "typing…" is shown when a worker starts a turn; None: not shown."""
        self._showing: set[asyncio.Task[None]] = set()
        self.max_attachment_bytes = max_attachment_bytes
        self._listener: asyncio.Task[None] | None = None
        self._closing = False
        self.accepted = 0

    async def dispatch(self, message: Message) -> bool:
        """Keep ``message`` and announce it to the workers; False for a redelivery. The platform may be
        acknowledged once this returns (it raises when Redis does not answer, so the platform delivers again)."""
        if self._closing:
            raise RuntimeError("the front is stopping")
        kept = await self._with_bytes(message)
        if await self.stream.accept(kept) is None:
            log.info("dropped duplicate message %s in %s", message.message_id, message.conversation)
            return False
        self.accepted += 1
        return True

    async def start(self) -> None:
        """Deliver what is queued, then each reply as a worker announces it."""
        self.courier.start()
        await self.courier.sweep()
        self._listener = asyncio.create_task(self._listen())

    async def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        """Refuse new messages; stop listening; give running deliveries ``drain_timeout_s``."""
        self._closing = True
        if self._listener is not None:
            self._listener.cancel()  # redis-py can swallow a cancel while it connects: the loop also checks _closing
            done, _ = await asyncio.wait({self._listener}, timeout=drain_timeout_s)
            if not done:
                log.warning("front: the replies listener did not stop within %g s; leaving it", drain_timeout_s)
        await self.courier.stop(timeout_s=drain_timeout_s)

    async def _with_bytes(self, message: Message) -> Message:
        """``message`` with the bytes of every attachment read now (one that cannot be read keeps its locator:
        the worker then tells the shopper it cannot be read, as after a restart)."""
        if all(attachment.data is not None for attachment in message.attachments):
            return message
        read: list[Attachment] = []
        for attachment in message.attachments:
            if attachment.data is None:
                try:
                    data = await attachment.read(max_bytes=self.max_attachment_bytes)
                except Exception as error:  # noqa: BLE001 - an unreadable file is answered by the worker, not lost
                    log.warning(
                        "front: a %s in %s could not be read at accept: %s",
                        attachment.kind,
                        message.conversation,
                        error,
                    )
                else:
                    attachment = replace(attachment, data=data, size=len(data))
            read.append(attachment)
        return replace(message, attachments=tuple(read))

    def _show_working(self, conversation: ConversationRef) -> None:
        """Show "typing…" in ``conversation`` without holding up the listener (the channel's call may be slow)."""
        if self.outbound is None:
            return
        task = asyncio.create_task(self.outbound.working(conversation))
        self._showing.add(task)
        task.add_done_callback(self._showing.discard)

    async def _listen(self) -> None:
        """Kick the courier for each conversation a worker announces a reply in, show "typing…" where a worker starts
        a turn; reconnect after Redis restarts."""
        pause = 0.2
        while not self._closing:
            pubsub = self.stream.redis.pubsub()
            try:
                await pubsub.subscribe(self.stream.replies, self.stream.working)
                pause = 0.2
                async for notice in pubsub.listen():
                    if self._closing:
                        return
                    if notice.get("type") != "message":
                        continue
                    channel, _, conversation = notice["data"].decode("utf-8").partition(SEP)
                    if notice["channel"].decode("utf-8") == self.stream.working:
                        self._show_working(ConversationRef(channel, conversation))
                    else:
                        self.courier.kick(ConversationRef(channel, conversation))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis restarting: the sweep delivers meanwhile
                log.warning("front: the replies channel dropped (%s); listening again in %g s", error, pause)
                await asyncio.sleep(pause)
                pause = min(5.0, pause * 2)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
