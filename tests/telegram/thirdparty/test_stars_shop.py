"""What a buyer sees in the Stars shop: invoice, payment, sold-out refusal, refund."""

from __future__ import annotations

from adapters.testing.telegram import FakeTelegram
from tests.telegram.thirdparty.running import polling
from tests.telegram.thirdparty.stars_shop import Shop


async def test_buy_pay_refund_and_sold_out(fake_telegram: FakeTelegram) -> None:
    shop = Shop({"sticker pack": 1})
    buyer, late = fake_telegram.user(601), fake_telegram.user(602)
    async with polling(shop.dispatcher(), fake_telegram.aiogram_bot()):
        buyer.says("/buy sticker pack")
        [invoice] = await buyer.expect_reply()
        assert invoice.obj["invoice"] == {
            "title": "Sticker Pack",
            "description": "One sticker pack",
            "start_parameter": "",
            "currency": "XTR",
            "total_amount": 5,
        }
        late.says("/buy sticker pack")
        [late_invoice] = await late.expect_reply()
        buyer.pays(invoice)
        [thanks] = await buyer.expect_reply()
        assert thanks.text == "Thank you! 5 ⭐ received for the sticker pack."
        late.pays(late_invoice)
        await fake_telegram.idle()
        assert fake_telegram.pre_checkout_answers[-1].error_message == "Sorry, sticker pack is sold out."
        assert len(fake_telegram.sent_to(602)) == 1  # no payment went through, so no thank-you
        buyer.says("/refund")
        [refunded] = await buyer.expect_reply()
        assert refunded.text == "Refunded." and fake_telegram.refunds == [(601, "charge1")]
        buyer.says("/buy lamp")
        [unknown] = await buyer.expect_reply()
    assert unknown.text == "Unknown item. We sell: sticker pack"
