"""A Telegram Stars shop: invoices in XTR, a pre-checkout check against stock, a thank-you on payment, and
refunds by command, as digital-goods bots do."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery


class Shop:
    """Stock and the charges of completed payments (by user), in memory."""

    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = stock
        self.charges: dict[int, list[str]] = {}

    async def buy(self, message: Message, command: CommandObject) -> None:
        item = (command.args or "").strip()
        if item not in self.stock:
            await message.answer(f"Unknown item. We sell: {', '.join(sorted(self.stock))}")
            return
        await message.answer_invoice(
            title=item.title(),
            description=f"One {item}",
            payload=f"item:{item}",
            currency="XTR",
            prices=[LabeledPrice(label=item, amount=5)],
        )

    async def pre_checkout(self, query: PreCheckoutQuery) -> None:
        item = query.invoice_payload.removeprefix("item:")
        if self.stock.get(item, 0) <= 0:
            await query.answer(ok=False, error_message=f"Sorry, {item} is sold out.")
            return
        await query.answer(ok=True)

    async def paid(self, message: Message) -> None:
        payment = message.successful_payment
        assert payment is not None and message.from_user is not None
        item = payment.invoice_payload.removeprefix("item:")
        self.stock[item] -= 1
        self.charges.setdefault(message.from_user.id, []).append(payment.telegram_payment_charge_id)
        await message.answer(f"Thank you! {payment.total_amount} ⭐ received for the {item}.")

    async def refund(self, message: Message, bot: Bot) -> None:
        assert message.from_user is not None
        charges = self.charges.get(message.from_user.id) or []
        if not charges:
            await message.answer("Nothing to refund.")
            return
        await bot.refund_star_payment(message.from_user.id, charges.pop())
        await message.answer("Refunded.")

    def dispatcher(self) -> Dispatcher:
        router = Router(name="stars_shop")
        router.message.register(self.buy, Command("buy"))
        router.message.register(self.refund, Command("refund"))
        router.pre_checkout_query.register(self.pre_checkout)
        router.message.register(self.paid, F.successful_payment)
        dp = Dispatcher()
        dp.include_router(router)
        return dp
