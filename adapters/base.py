"""The channel extension point: an ``Adapter`` turns a platform into ``Message``s in and ``Reply``s out.

An adapter receives a ``Dispatch`` when it starts and calls it for every inbound message; the runtime
answers through ``send``. ``dispatch`` returns once the message is accepted (kept durably and queued in order
for its conversation), not when it is answered, so a webhook acknowledges only then and slow work happens
after. It returns False for a message whose platform identity (``message_id`` within its conversation) was
accepted before: a redelivery, already answered or being answered.

Third-party adapters register a factory under the entry-point group ``kefu.adapters``:

    [project.entry-points."kefu.adapters"]
    line = "kefu_line:factory"

The factory is called as ``factory(settings=table)``: the adapter's configuration table as a dict (``[adapters.line]``
merged with ``KEFU_ADAPTERS__LINE__*``). ``adapters.testing.contract`` checks an adapter against this contract.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Iterable
from importlib.metadata import entry_points
from typing import Any

from aiohttp import web

from bot.errors import BadInput
from bot.messages import ConversationRef, Message, Reply

Dispatch = Callable[[Message], Awaitable[bool]]
"""Hands an inbound message to the runtime; True once kept, False for a redelivery; waits while the queue is full."""

ENTRY_POINT_GROUP = "kefu.adapters"


class Adapter(abc.ABC):
    """A channel. ``start`` connects and begins delivering messages, ``send`` answers, ``stop`` disconnects.

    Adapters that receive over HTTP (webhooks, the web chat) also return their ``routes``; the runtime
    mounts them on the one shared aiohttp server before it starts listening.
    """

    name: str
    """Channel name used in ``ConversationRef.channel``; unique per running bot."""

    @abc.abstractmethod
    async def start(self, dispatch: Dispatch) -> None:
        """Begin receiving; return once receiving has started (long-running work goes in tasks)."""

    @abc.abstractmethod
    async def send(self, conversation: ConversationRef, reply: Reply) -> None:
        """Deliver a reply; raise ``DeliveryDeferred`` when it cannot be delivered yet (nobody connected), any
        other error when it cannot be delivered after the adapter's own retries (the runtime retries later)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop receiving and release connections; safe to call twice."""

    async def working(self, conversation: ConversationRef) -> None:  # noqa: B027 - optional: doing nothing is right
        """Show that the bot is working on an answer ("typing…"); optional."""

    async def fetch(self, locator: str) -> bytes:
        """The bytes of the attachment this channel named ``locator`` (``Attachment.locator``), fetched again
        for a message accepted before a restart; channels that set no locator need not implement it."""
        raise BadInput(f"the {self.name} channel cannot fetch an attachment again; please send it once more")

    def routes(self) -> Iterable[web.RouteDef]:
        """HTTP routes to mount on the shared server (none by default)."""
        return ()


def load_adapter_factory(name: str) -> Callable[..., Adapter]:
    """The factory a third-party package registered under ``kefu.adapters`` for ``name``."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            factory: Callable[..., Adapter] = entry.load()
            return factory
    raise LookupError(f"no adapter named {name!r} is installed (entry-point group {ENTRY_POINT_GROUP!r})")


def installed_adapters() -> dict[str, Any]:
    """Names of third-party adapters installed through entry points, for ``kefu doctor``."""
    return {entry.name: entry.value for entry in entry_points(group=ENTRY_POINT_GROUP)}
