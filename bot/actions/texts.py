"""What the actions say, in English and Chinese."""

from __future__ import annotations

from typing import Any

from bot.generation.templates import phrase

_TEXTS: dict[str, dict[str, str]] = {
    "ask_order": {
        "en": "Sure. What is the order number? It is in your order confirmation e-mail.",
        "zh": "好的，请问您的订单号是多少？可以在订单确认邮件里找到。",
    },
    "ask_order_return": {
        "en": "I can start a return for you. What is the order number?",
        "zh": "可以为您申请退货。请问订单号是多少？",
    },
    "not_found": {
        "en": "I couldn't find order #{order}. Please check the number in your confirmation e-mail.",
        "zh": "没有查到订单 #{order}，请核对确认邮件中的订单号。",
    },
    "status": {"en": "Order #{order} ({placed}): {status}.", "zh": "订单 #{order}（{placed} 下单）：{status}。"},
    "shipped_with": {
        "en": "Carrier {carrier}, tracking number {tracking}.",
        "zh": "承运商 {carrier}，运单号 {tracking}。",
    },
    "eta": {"en": "Expected delivery: {eta}.", "zh": "预计送达：{eta}。"},
    "items": {"en": "Items: {items}.", "zh": "商品：{items}。"},
    "contact": {"en": "Updates go to {email}.", "zh": "通知将发送至 {email}。"},
    "next_pending": {
        "en": "You can complete the payment from the order in your account.",
        "zh": "可以在账户的订单页面完成付款。",
    },
    "next_shipped": {
        "en": "You can follow the parcel with the tracking number on the carrier's site.",
        "zh": "可以用运单号在快递公司网站查询包裹进度。",
    },
    "next_delivered": {
        "en": "If something is wrong with it, I can start a return for you.",
        "zh": "如果商品有问题，我可以为您申请退货。",
    },
    "next_return_requested": {
        "en": "We'll confirm the return here or by e-mail; the refund follows once the items are inspected.",
        "zh": "我们会在这里或通过邮件确认退货，验货后为您退款。",
    },
    "return_recorded": {
        "en": "I've recorded return request {rid} for order #{order}. Next steps:\n"
        "1. We review the request and confirm it here or by e-mail.\n"
        "2. Pack the items unworn, unwashed and with their tags (shoes in their original box).\n"
        "3. Ship the parcel as described in the confirmation; the refund goes to your original payment method "
        "once the return has been inspected.",
        "zh": "已为订单 #{order} 登记退货申请 {rid}。接下来：\n"
        "1. 我们审核申请后会在这里或通过邮件确认。\n"
        "2. 请保持商品未穿着、未洗涤、吊牌完好（鞋子放回原鞋盒）打包。\n"
        "3. 按确认信息寄回包裹；验货后退款将原路退回。",
    },
    "ask_order_cancel": {
        "en": "I can ask for the order to be cancelled. What is the order number?",
        "zh": "可以为您申请取消订单。请问订单号是多少？",
    },
    "cancel_recorded": {
        "en": "I've recorded cancellation request {cid} for order #{order} ({status}). We confirm it here or by "
        "e-mail before the order ships; a paid order is refunded to the original payment method.",
        "zh": "已为订单 #{order}（{status}）登记取消申请 {cid}。"
        "我们会在发货前在这里或通过邮件确认；已付款的订单将原路退款。",
    },
    "cancel_too_late": {
        "en": "Order #{order} is {status}, so it can no longer be cancelled. Once it is delivered you can return it "
        "instead, and I can start the return for you.",
        "zh": "订单 #{order} 当前状态为{status}，已无法取消。签收后可以申请退货，我可以为您办理。",
    },
    "cancel_closed": {
        "en": "Order #{order} is {status}, so there is nothing to cancel.",
        "zh": "订单 #{order} 当前状态为{status}，无需取消。",
    },
    "cancel_already": {
        "en": "A cancellation of order #{order} is already requested; we confirm it here or by e-mail before the "
        "order ships.",
        "zh": "订单 #{order} 已经提交过取消申请，我们会在发货前在这里或通过邮件确认。",
    },
    "next_cancel_requested": {
        "en": "We'll confirm the cancellation here or by e-mail before the order ships.",
        "zh": "我们会在发货前在这里或通过邮件确认取消。",
    },
    "return_not_yet": {
        "en": "Order #{order} is {status}, so it can't be returned yet: returns start once it has been delivered.",
        "zh": "订单 #{order} 当前状态为{status}，暂时无法退货：签收后才能申请退货。",
    },
    "return_closed": {
        "en": "Order #{order} is {status}, so there is nothing to return.",
        "zh": "订单 #{order} 当前状态为{status}，无需再申请退货。",
    },
}

_STATUS: dict[str, dict[str, str]] = {
    "pending": {"en": "waiting for payment", "zh": "待付款"},
    "paid": {"en": "paid, being prepared for dispatch", "zh": "已付款，待发货"},
    "shipped": {"en": "shipped", "zh": "已发货"},
    "delivered": {"en": "delivered", "zh": "已签收"},
    "cancelled": {"en": "cancelled", "zh": "已取消"},
    "return_requested": {"en": "return requested", "zh": "退货申请中"},
    "cancel_requested": {"en": "cancellation requested", "zh": "取消申请中"},
    "refunded": {"en": "refunded", "zh": "已退款"},
}


def text(key: str, language: str, **values: Any) -> str:
    """An action sentence in ``language``."""
    return phrase(_TEXTS, key, language, **values)


def status_name(status: str, language: str) -> str:
    """An order status in words (the raw status when it is unknown)."""
    names = _STATUS.get(status)
    return names.get(language, names["en"]) if names else status
