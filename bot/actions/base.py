"""The actions extension point: things the bot does rather than says (look up an order, start a return)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.errors import KefuError


class ActionError(KefuError):
    """An action could not reach its backend; ``user_message`` is safe to show the shopper."""

    def __init__(self, message: str, *, user_message: str) -> None:
        super().__init__(message)
        self.user_message = user_message


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the backends return it (the ``orders.json`` format of the demo store)."""

    order_id: str
    status: str
    placed_at: str
    items: tuple[Mapping[str, Any], ...] = ()
    total: float = 0.0
    currency: str = "CNY"
    carrier: str | None = None
    tracking: str | None = None
    eta: str | None = None
    customer: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Order:
        """An order from one ``orders.json`` record; ``KeyError``/``TypeError`` on a malformed one."""
        return cls(
            order_id=str(data["order_id"]),
            status=str(data["status"]),
            placed_at=str(data["placed_at"]),
            items=tuple(dict(item) for item in data.get("items") or ()),
            total=float(data.get("total") or 0.0),
            currency=str(data.get("currency") or "CNY"),
            carrier=data.get("carrier"),
            tracking=data.get("tracking"),
            eta=data.get("eta"),
            customer=str(data.get("customer") or ""),
            email=str(data.get("email") or ""),
            phone=str(data.get("phone") or ""),
        )


class OrderBackend(Protocol):
    """Where orders live: the demo SQLite table or the shop's own HTTP API."""

    async def get(self, order_id: str) -> Order | None:
        """The order, or None when there is no such order."""
        ...

    async def request_return(self, order_id: str, *, reason: str, conversation: str) -> str:
        """Record a return request for ``order_id``; its id."""
        ...

    async def request_cancellation(self, order_id: str, *, reason: str, conversation: str) -> str:
        """Record a request to cancel ``order_id`` before it ships (the shop confirms it); its id."""
        ...

    async def close(self) -> None:
        """Release the backend's connections."""
        ...


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an action says, and whether it still needs a slot from the shopper."""

    text: str
    missing: str | None = None
    """The slot the action asks for (the question is ``text``), again when the value given could not be used (an
    unknown order number); None when the action is finished."""
    data: Mapping[str, Any] = field(default_factory=dict)


class Action(Protocol):
    """One thing the bot can do; ``slots`` are the values it needs, collected over several turns if need be."""

    name: str
    slots: tuple[str, ...]
    explains_policy: bool
    """Whether the shop's policy on it (found by retrieval) is worth telling before asking for a slot."""

    def extract(self, text: str, *, asked: bool) -> Mapping[str, str]:
        """The slot values the shopper's ``text`` gives; ``asked``: the text answers this action's question (the
        bot asked for a value, or the action was chosen), so a bare value counts ("100258", "sorry, 100258")."""
        ...

    async def run(self, *, slots: Mapping[str, str], language: str, conversation: str) -> ActionResult: ...
