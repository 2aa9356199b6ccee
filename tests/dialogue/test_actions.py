"""Order number extraction, and the order backends: the demo SQLite one and an HTTP API on a loopback server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot.actions.backends import HttpOrderBackend, SqliteOrderBackend, demo_orders_file, read_orders
from bot.actions.base import ActionError
from bot.actions.orders import CancelOrderAction, OrderStatusAction, StartReturnAction, extract_order_number
from bot.errors import ConfigError
from bot.sessions.sqlite import Database


@pytest.mark.parametrize(
    ("text", "bare", "number"),
    [
        ("where is #100234?", False, "100234"),
        ("订单号100234到哪了", False, "100234"),
        ("订单号：100258", False, "100258"),
        ("order no. 100241 please", False, "100241"),
        ("100234", False, None),
        ("100234", True, "100234"),
        ("call me on 13912345678", True, None),
        ("card 4111 1111 1111 1111", True, None),
        ("it cost 499.00", True, None),
        ("100234 or 100235?", True, None),
        ("sorry, 100258", True, "100258"),
        ("sorry, it's 100258.", True, "100258"),
        ("订单是100258。", True, "100258"),
        ("it cost 12345.00", True, None),
        ("sorry, 100258", False, None),
    ],
)
def test_extract_order_number(text: str, bare: bool, number: str | None) -> None:
    assert extract_order_number(text, bare=bare) == number


@pytest.fixture
async def demo_orders(tmp_path: Path) -> AsyncIterator[SqliteOrderBackend]:
    backend = SqliteOrderBackend(await Database.open(tmp_path / "orders.sqlite3"))
    await backend.setup(seed=demo_orders_file())
    yield backend
    await backend.close()


async def test_order_status_masks_contact_details_and_speaks_chinese(demo_orders: SqliteOrderBackend) -> None:
    action = OrderStatusAction(demo_orders)
    result = await action.run(slots={"order_id": "100235"}, language="zh", conversation="web:1")
    assert "已签收" in result.text and "3820491756" in result.text and "e***@example.com" in result.text
    assert "Emma" not in result.text and "0134" not in result.text
    missing = await action.run(slots={"order_id": "999999"}, language="en", conversation="web:1")
    assert "couldn't find order #999999" in missing.text and missing.missing == "order_id"  # it asks again


async def test_returns_only_for_delivered_orders(demo_orders: SqliteOrderBackend) -> None:
    action = StartReturnAction(demo_orders)
    not_yet = await action.run(slots={"order_id": "100234"}, language="en", conversation="web:1")
    assert "can't be returned yet" in not_yet.text
    done = await action.run(slots={"order_id": "100235"}, language="en", conversation="web:1")
    assert done.data["return_id"] == "R000001"
    again = await action.run(slots={"order_id": "100235"}, language="en", conversation="web:1")
    assert "nothing to return" in again.text


async def test_a_cancellation_is_requested_only_before_the_order_ships(demo_orders: SqliteOrderBackend) -> None:
    action = CancelOrderAction(demo_orders)
    asked = await action.run(slots={}, language="en", conversation="web:1")
    assert asked.missing == "order_id" and "order number" in asked.text
    paid = await action.run(slots={"order_id": "100241"}, language="en", conversation="web:1")
    assert paid.data["cancellation_id"] == "C000001" and "#100241" in paid.text and "refunded" in paid.text
    order = await demo_orders.get("100241")
    assert order is not None and order.status == "cancel_requested"
    again = await action.run(slots={"order_id": "100241"}, language="zh", conversation="web:1")
    assert "已经提交过取消申请" in again.text and "cancellation_id" not in again.data
    shipped = await action.run(slots={"order_id": "100234"}, language="en", conversation="web:1")
    assert "can no longer be cancelled" in shipped.text and "return" in shipped.text
    cancelled = await action.run(slots={"order_id": "100321"}, language="zh", conversation="web:1")
    assert "无需取消" in cancelled.text
    unknown = await action.run(slots={"order_id": "999999"}, language="en", conversation="web:1")
    assert unknown.missing == "order_id" and "couldn't find" in unknown.text
    status = await OrderStatusAction(demo_orders).run(slots={"order_id": "100241"}, language="en", conversation="x")
    assert "cancellation requested" in status.text and "before the order ships" in status.text


def test_a_malformed_orders_file_names_the_file_and_record(tmp_path: Path) -> None:
    bad = tmp_path / "orders.json"
    bad.write_text('[{"order_id": "1", "status": "paid"}]', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"orders.json: order #0 is malformed"):
        read_orders(bad)


@pytest.fixture
async def shop_api() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    orders = {order.order_id: order for order in read_orders(demo_orders_file())}
    returns: list[dict[str, object]] = []

    async def get(request: web.Request) -> web.Response:
        order = orders.get(request.match_info["id"])
        if order is None:
            return web.json_response({"error": "not found"}, status=404)
        if request.match_info["id"] == "100258":
            return web.json_response({"error": "boom"}, status=502)
        return web.json_response({"order_id": order.order_id, "status": order.status, "placed_at": order.placed_at})

    async def post(request: web.Request) -> web.Response:
        returns.append(await request.json() | {"order": request.match_info["id"]})
        return web.json_response({"return_id": f"RMA-{len(returns)}"})

    async def cancel(request: web.Request) -> web.Response:
        returns.append(await request.json() | {"cancel": request.match_info["id"]})
        if request.match_info["id"] == "100241":
            return web.json_response({"accepted": True})  # no id: the shop did not record it
        return web.json_response({"cancellation_id": f"CX-{len(returns)}"})

    app = web.Application()
    app.router.add_get("/api/orders/{id}", get)
    app.router.add_post("/api/orders/{id}/returns", post)
    app.router.add_post("/api/orders/{id}/cancellations", cancel)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/api", returns
    await runner.cleanup()


async def test_the_http_order_backend(shop_api: tuple[str, list[dict[str, object]]]) -> None:
    url, returns = shop_api
    backend = HttpOrderBackend(url, timeout_s=5.0)
    try:
        order = await backend.get("100235")
        assert order is not None and order.status == "delivered"
        assert await backend.get("999999") is None
        assert await backend.request_return("100235", reason="too small", conversation="web:1") == "RMA-1"
        assert returns == [{"reason": "too small", "conversation": "web:1", "order": "100235"}]
        assert await backend.request_cancellation("100315", reason="", conversation="web:1") == "CX-2"
        assert returns[-1] == {"reason": "", "conversation": "web:1", "cancel": "100315"}
        with pytest.raises(ActionError) as unrecorded:
            await backend.request_cancellation("100241", reason="", conversation="web:1")
        assert "could not record the request" in unrecorded.value.user_message
        with pytest.raises(ActionError) as failure:
            await backend.get("100258")
        assert "not answering" in failure.value.user_message
    finally:
        await backend.close()


async def test_through_the_pipeline_with_the_http_backend_a_failing_shop_api_gets_a_clear_reply(
    shop_api: tuple[str, list[dict[str, object]]],
    real_engines,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from bot.app import open_dialogue
    from bot.config import load_settings
    from tests.dialogue.conftest import Shopper, make_pipeline

    settings = load_settings(data_dir=tmp_path, store={"order_backend": "http", "orders_url": shop_api[0]})
    dialogue = await open_dialogue(settings, pipeline=lambda orders: make_pipeline(real_engines, orders=orders))
    try:
        shopper = Shopper(dialogue)
        works = await shopper.say("订单号100235到哪了")
        assert works is not None and "已签收" in works.text
        fails = await shopper.say("订单号100258到哪了")
        assert fails is not None and fails.text == "订单系统暂时无法访问，请稍后再试。"
        assert "action order_status failed" in fails.reason
    finally:
        await dialogue.aclose()
        await dialogue.pipeline.engines.aclose()


async def test_the_http_backend_needs_its_url(tmp_path: Path) -> None:
    from bot.app import open_orders
    from bot.config import load_settings

    with pytest.raises(ConfigError, match="KEFU_STORE__ORDERS_URL"):
        await open_orders(load_settings(data_dir=tmp_path, store={"order_backend": "http"}))


def test_order_replies_name_the_products_and_the_next_step() -> None:
    from bot.actions.base import Order
    from bot.actions.orders import describe_order
    from bot.catalogue import Catalogue

    catalogue = Catalogue.from_products(
        [("Cloudstep Sneaker", {"sku": "SH-1", "language": "en"}), ("云步休闲鞋", {"sku": "SH-1", "language": "zh"})]
    )
    order = Order(
        "100234",
        "shipped",
        "2026-11-24",
        ({"sku": "SH-1", "qty": 1, "size": "40"}, {"sku": "X-9"}),
        carrier="SF Express",
        tracking="SF1",
    )
    english = describe_order(order, "en", catalogue=catalogue)
    assert "1 × Cloudstep Sneaker (size 40)" in english and "1 × X-9" in english and "tracking number" in english
    chinese = describe_order(order, "zh", catalogue=catalogue)
    assert "云步休闲鞋（尺码 40）" in chinese.replace(" (", "（").replace(")", "）") and "SH-1" not in chinese
