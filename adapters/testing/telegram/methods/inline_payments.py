"""Inline mode (answerInlineQuery) and payments: sendInvoice, answerPreCheckoutQuery, refundStarPayment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.testing.telegram import payloads as p
from adapters.testing.telegram.methods.registry import method
from adapters.testing.telegram.records import InlineAnswer, PreCheckoutAnswer

if TYPE_CHECKING:
    from adapters.testing.telegram.server import FakeTelegram

QUERY_EXPIRED = "query is too old and response timeout expired or query ID is invalid"


@method("answerInlineQuery")
async def answer_inline_query(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    query_id = str(params.get("inline_query_id"))
    if query_id not in fake.open_queries:
        raise p.BadRequest(QUERY_EXPIRED)
    results = params.get("results")
    if not isinstance(results, list):
        raise p.BadRequest("expected an Array of inline query results")
    if len(results) > 50:
        raise p.BadRequest("too many inline query results specified")
    if not all(isinstance(r, dict) for r in results):
        raise p.BadRequest("can't parse inline query result: Inline query result must be an object")
    ids = [str(r.get("id", "")) for r in results]
    if any(not r.get("type") or not 1 <= len(i.encode()) <= 64 for r, i in zip(results, ids, strict=True)):
        raise p.BadRequest("RESULT_ID_INVALID")
    if len(set(ids)) != len(ids):
        raise p.BadRequest("RESULT_ID_DUPLICATE")
    fake.open_queries.discard(query_id)
    fake.inline_answers.append(InlineAnswer(query_id, results))
    return True


@method("sendInvoice")
async def send_invoice(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> dict[str, Any]:
    title, description = str(params.get("title") or ""), str(params.get("description") or "")
    payload, currency = str(params.get("payload") or ""), str(params.get("currency") or "")
    prices = params.get("prices")
    for name, given in (("title", title), ("description", description), ("payload", payload), ("currency", currency)):
        if not given:
            raise p.BadRequest(f'parameter "{name}" is required')
    if len(title) > 32:
        raise p.BadRequest("INVOICE_TITLE_INVALID")
    if len(description) > 255:
        raise p.BadRequest("INVOICE_DESCRIPTION_INVALID")
    if len(payload.encode()) > 128:
        raise p.BadRequest("INVOICE_PAYLOAD_INVALID")
    if not isinstance(prices, list):
        raise p.BadRequest("expected an Array of labeled prices")
    if not prices:
        raise p.BadRequest("there must be at least one price")
    if not all(isinstance(x, dict) and x.get("label") and isinstance(x.get("amount"), int) for x in prices):
        raise p.BadRequest("can't parse labeled price: LabeledPrice label must be non-empty")
    if currency == "XTR" and (params.get("provider_token") or len(prices) != 1 or params.get("max_tip_amount")):
        raise p.BadRequest("STARS_INVOICE_INVALID")
    if currency != "XTR" and not params.get("provider_token"):
        raise p.BadRequest("PAYMENT_PROVIDER_INVALID")
    total = sum(x["amount"] for x in prices)
    if len(currency) != 3 or total <= 0:
        raise p.BadRequest("CURRENCY_TOTAL_AMOUNT_INVALID")
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": str(params.get("start_parameter") or ""),
        "currency": currency,
        "total_amount": total,
    }
    obj = fake.record(params, description, {"invoice": invoice})
    fake.invoice_payloads[(obj["chat"]["id"], obj["message_id"])] = payload
    return obj


@method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    query_id = str(params.get("pre_checkout_query_id"))
    query = fake.pre_checkouts.pop(query_id, None)
    if query is None:
        raise p.BadRequest(QUERY_EXPIRED)
    ok, error = p.flag(params, "ok"), params.get("error_message")
    if not ok and not error:
        fake.pre_checkouts[query_id] = query
        raise p.BadRequest("ERROR_MESSAGE_EMPTY")
    fake.pre_checkout_answers.append(PreCheckoutAnswer(query_id, ok, None if ok else str(error)))
    if ok:
        complete_payment(fake, query)
    return True


@method("refundStarPayment")
async def refund_star_payment(fake: FakeTelegram, params: dict[str, Any], files: dict[str, p.Upload]) -> bool:
    user_id, charge_id = p.integer(params, "user_id"), str(params.get("telegram_payment_charge_id") or "")
    charge = fake.charges.get(charge_id)
    if charge is None or charge["user_id"] != user_id or charge["currency"] != "XTR":
        raise p.BadRequest("CHARGE_NOT_FOUND")
    if charge.get("refunded"):
        raise p.BadRequest("CHARGE_ALREADY_REFUNDED")
    charge["refunded"] = True
    fake.refunds.append((user_id, charge_id))
    return True


def complete_payment(fake: FakeTelegram, query: dict[str, Any]) -> dict[str, Any]:
    """After an approved pre-checkout: the user's message with ``successful_payment``, as Telegram sends it."""
    charge = f"charge{len(fake.charges) + 1}"
    fake.charges[charge] = {
        "user_id": query["from"]["id"],
        "currency": query["currency"],
        "total_amount": query["total_amount"],
    }
    payment = {
        "currency": query["currency"],
        "total_amount": query["total_amount"],
        "invoice_payload": query["invoice_payload"],
        "telegram_payment_charge_id": charge,
        "provider_payment_charge_id": "" if query["currency"] == "XTR" else f"provider-{charge}",
    }
    message = fake.new_message(int(query["from"]["id"]), query["from"], successful_payment=payment)
    return fake.inject_update("message", message)
