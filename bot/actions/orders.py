"""Order actions: order status, starting a return and asking to cancel, with the order number taken from the
shopper's words."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.actions.base import ActionResult, Order, OrderBackend
from bot.actions.texts import status_name, text
from bot.catalogue import Catalogue
from bot.pii import mask_email, mask_pii

_MARKED = re.compile(r"(?:#|№|订单号?|单号|order\s*(?:number|no\.?|id|#)?)\s*[:：#]?\s*(\d{5,12})(?!\d)", re.IGNORECASE)
_BARE = re.compile(r"(?<!\d)(?<!\d[.,])(\d{5,12})(?!\d|[.,]\d)")
"""A lone 5-12 digit number, not part of a decimal or a grouped amount ("499.00", "1,299.00"); "100258." counts."""
ORDER_ID = "order_id"
"""The slot both order actions need."""
RETURNABLE = frozenset({"delivered"})
NOT_YET = frozenset({"pending", "paid", "shipped"})
CANCELLABLE = frozenset({"pending", "paid"})
"""Statuses before dispatch: the order can still be cancelled."""
TOO_LATE_TO_CANCEL = frozenset({"shipped", "delivered"})
NEXT_STEP = frozenset({"pending", "shipped", "delivered", "return_requested", "cancel_requested"})
"""Statuses whose reply ends with what the shopper can do next (``next_<status>`` in ``bot.actions.texts``)."""


def extract_order_number(message: str, *, bare: bool = False) -> str | None:
    """The order number in ``message`` ("#100234", "订单号100234", "order no. 100234"), else None.

    With ``bare`` a lone 5-12 digit number counts too (when the bot has just asked for the number). Phone
    and card numbers are masked first, so they are never taken for an order number.
    """
    safe = mask_pii(message)
    found = _MARKED.search(safe)
    if found:
        return found.group(1)
    if bare:
        numbers = _BARE.findall(safe)
        if len(numbers) == 1:
            return numbers[0]
    return None


def describe_order(order: Order, language: str, *, catalogue: Catalogue | None = None) -> str:
    """The order's status for its owner: products by name (from ``catalogue``), no name or phone, the e-mail
    masked, and what to do next."""
    catalogue = catalogue or Catalogue()
    lines = [
        text(
            "status", language, order=order.order_id, placed=order.placed_at, status=status_name(order.status, language)
        )
    ]
    if order.carrier and order.tracking:
        lines.append(text("shipped_with", language, carrier=order.carrier, tracking=order.tracking))
    if order.eta and order.status in ("paid", "shipped"):
        lines.append(text("eta", language, eta=order.eta))
    if order.items:
        size_word = "尺码 " if language == "zh" else "size "
        items = ("、" if language == "zh" else ", ").join(
            f"{item.get('qty', 1)} × {catalogue.name(str(item.get('sku', '?')), language)}"
            + (f" ({size_word}{item['size']})" if item.get("size") else "")
            for item in order.items
        )
        lines.append(text("items", language, items=items))
    if order.email:
        lines.append(text("contact", language, email=mask_email(order.email)))
    if order.status in NEXT_STEP:
        lines.append(text(f"next_{order.status}", language))
    return " ".join(lines) if language != "zh" else "".join(lines)


class _OrderAction:
    """An action on one order: its slot is the order number, taken from the shopper's words."""

    name: str
    slots: tuple[str, ...] = (ORDER_ID,)
    explains_policy = False
    ask: str = "ask_order"
    """The text that asks for the order number."""

    def __init__(self, backend: OrderBackend, *, catalogue: Catalogue | None = None) -> None:
        self.backend = backend
        self.catalogue = catalogue or Catalogue()

    def extract(self, text: str, *, asked: bool) -> dict[str, str]:
        number = extract_order_number(text, bare=asked)
        return {ORDER_ID: number} if number else {}

    async def run(self, *, slots: Mapping[str, str], language: str, conversation: str) -> ActionResult:
        order_id = slots.get(ORDER_ID)
        if not order_id:
            return ActionResult(text(self.ask, language), missing=ORDER_ID)
        order = await self.backend.get(order_id)
        if order is None:
            return ActionResult(text("not_found", language, order=order_id), missing=ORDER_ID, data={"found": False})
        return await self.on_order(order, slots=slots, language=language, conversation=conversation)

    async def on_order(
        self, order: Order, *, slots: Mapping[str, str], language: str, conversation: str
    ) -> ActionResult:
        """What the action does with the order the shopper named (it exists)."""
        raise NotImplementedError


class OrderStatusAction(_OrderAction):
    """Looks an order up by number and tells its status; asks for the number until it names an order."""

    name = "order_status"

    async def on_order(
        self, order: Order, *, slots: Mapping[str, str], language: str, conversation: str
    ) -> ActionResult:
        return ActionResult(
            describe_order(order, language, catalogue=self.catalogue), data={"found": True, "status": order.status}
        )


class StartReturnAction(_OrderAction):
    """Records a return request for a delivered order and gives the next steps."""

    name = "start_return"
    explains_policy = True
    ask = "ask_order_return"

    async def on_order(
        self, order: Order, *, slots: Mapping[str, str], language: str, conversation: str
    ) -> ActionResult:
        order_id, status = order.order_id, status_name(order.status, language)
        if order.status in NOT_YET:
            return ActionResult(text("return_not_yet", language, order=order_id, status=status), data={"found": True})
        if order.status not in RETURNABLE:
            return ActionResult(text("return_closed", language, order=order_id, status=status), data={"found": True})
        return_id = await self.backend.request_return(
            order_id, reason=slots.get("reason", ""), conversation=conversation
        )
        return ActionResult(
            text("return_recorded", language, order=order_id, rid=return_id),
            data={"found": True, "return_id": return_id},
        )


class CancelOrderAction(_OrderAction):
    """Records a request to cancel an order that has not shipped yet; past dispatch it points to a return instead."""

    name = "cancel_order"
    explains_policy = True
    ask = "ask_order_cancel"

    async def on_order(
        self, order: Order, *, slots: Mapping[str, str], language: str, conversation: str
    ) -> ActionResult:
        order_id, status = order.order_id, status_name(order.status, language)
        if order.status in TOO_LATE_TO_CANCEL:
            return ActionResult(text("cancel_too_late", language, order=order_id, status=status), data={"found": True})
        if order.status == "cancel_requested":
            return ActionResult(text("cancel_already", language, order=order_id), data={"found": True})
        if order.status not in CANCELLABLE:
            return ActionResult(text("cancel_closed", language, order=order_id, status=status), data={"found": True})
        cancellation_id = await self.backend.request_cancellation(
            order_id, reason=slots.get("reason", ""), conversation=conversation
        )
        return ActionResult(
            text("cancel_recorded", language, order=order_id, cid=cancellation_id, status=status),
            data={"found": True, "cancellation_id": cancellation_id},
        )
