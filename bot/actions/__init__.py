"""Actions the bot runs (order status, start a return, ask to cancel) and the order backends they use."""

from bot.actions.base import Action, ActionError, ActionResult, Order, OrderBackend
from bot.actions.orders import CancelOrderAction, OrderStatusAction, StartReturnAction, extract_order_number

__all__ = [
    "Action",
    "ActionError",
    "ActionResult",
    "CancelOrderAction",
    "Order",
    "OrderBackend",
    "OrderStatusAction",
    "StartReturnAction",
    "extract_order_number",
]
