"""Order backends: the demo SQLite orders (seeded from ``orders.json``) and a shop's own HTTP API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.actions.base import ActionError, Order
from bot.errors import ConfigError
from bot.sessions.sqlite import Database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    conversation TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cancellations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    conversation TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
"""


def demo_orders_file() -> Path:
    """The bundled demo store's ``orders.json``."""
    return Path(__file__).resolve().parent.parent / "demo" / "store" / "orders.json"


def read_orders(path: Path) -> list[Order]:
    """Orders from an ``orders.json`` file; ``ConfigError`` naming the file and record when one is malformed."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"cannot read orders from {path}: {error}") from error
    if not isinstance(records, list):
        raise ConfigError(f"{path}: expected a JSON list of orders")
    orders = []
    for n, record in enumerate(records):
        try:
            orders.append(Order.from_json(record))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigError(f"{path}: order #{n} is malformed ({error!r})") from error
    return orders


class SqliteOrderBackend:
    """Orders and return requests in an SQLite file it owns; the demo seeds it from ``orders.json``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def setup(self, *, seed: Path | None = None) -> None:
        """Create the tables; load ``seed`` (an ``orders.json``) when the orders table is empty."""
        await self.db.script(_SCHEMA)
        if seed is None:
            return
        orders = read_orders(seed)
        async with self.db.transaction() as c:
            row = await (await c.execute("SELECT COUNT(*) FROM orders")).fetchone()
            if row and row[0]:
                return
            await c.executemany(
                "INSERT INTO orders (order_id, data) VALUES (?, ?)",
                [(o.order_id, json.dumps(_as_json(o), ensure_ascii=False)) for o in orders],
            )

    async def get(self, order_id: str) -> Order | None:
        rows = await self.db.fetch("SELECT data FROM orders WHERE order_id = ?", (order_id,))
        return Order.from_json(json.loads(rows[0][0])) if rows else None

    async def request_return(self, order_id: str, *, reason: str, conversation: str) -> str:
        number = await self._record("returns", order_id, reason=reason, conversation=conversation)
        return f"R{number:06d}"

    async def request_cancellation(self, order_id: str, *, reason: str, conversation: str) -> str:
        number = await self._record("cancellations", order_id, reason=reason, conversation=conversation)
        return f"C{number:06d}"

    async def _record(self, table: str, order_id: str, *, reason: str, conversation: str) -> int:
        """Insert a request into ``table`` ("returns" or "cancellations") and mark the order as requested, in one
        transaction; the request's row number."""
        status = {"returns": "return_requested", "cancellations": "cancel_requested"}[table]
        async with self.db.transaction() as c:
            cursor = await c.execute(
                f"INSERT INTO {table} (order_id, conversation, reason, created_at) VALUES (?, ?, ?, ?)",
                (order_id, conversation, reason, time.time()),
            )
            row = await (await c.execute("SELECT data FROM orders WHERE order_id = ?", (order_id,))).fetchone()
            if row:
                data = json.loads(row[0]) | {"status": status}
                await c.execute("UPDATE orders SET data = ? WHERE order_id = ?", (json.dumps(data), order_id))
        return int(cursor.lastrowid or 0)

    async def close(self) -> None:
        await self.db.close()


def _as_json(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "status": order.status,
        "placed_at": order.placed_at,
        "items": [dict(item) for item in order.items],
        "total": order.total,
        "currency": order.currency,
        "carrier": order.carrier,
        "tracking": order.tracking,
        "eta": order.eta,
        "customer": order.customer,
        "email": order.email,
        "phone": order.phone,
    }


class HttpOrderBackend:
    """A shop's order API: ``GET {base}/orders/{id}`` (an ``orders.json`` record, 404 when unknown) and
    ``POST {base}/orders/{id}/returns`` with ``{"reason", "conversation"}`` answering ``{"return_id"}``, and
    ``POST {base}/orders/{id}/cancellations`` with the same body answering ``{"cancellation_id"}``.

    The session is created lazily and owned by the backend: call ``close``.
    """

    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any] | None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout, headers=self.headers)
        url = f"{self.base_url}{path}"
        try:
            async with self._session.request(method, url, json=body) as response:
                if response.status == 404:
                    return None
                response.raise_for_status()
                return await response.json()
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as error:
            raise ActionError(
                f"order backend {method} {url} failed: {error!r}",
                user_message="Our order system is not answering right now; please try again in a few minutes.",
            ) from error

    async def get(self, order_id: str) -> Order | None:
        data = await self._request("GET", f"/orders/{order_id}")
        return Order.from_json(data) if data else None

    async def request_return(self, order_id: str, *, reason: str, conversation: str) -> str:
        return await self._post_request(order_id, "returns", "return_id", reason=reason, conversation=conversation)

    async def request_cancellation(self, order_id: str, *, reason: str, conversation: str) -> str:
        return await self._post_request(
            order_id, "cancellations", "cancellation_id", reason=reason, conversation=conversation
        )

    async def _post_request(self, order_id: str, collection: str, key: str, *, reason: str, conversation: str) -> str:
        """POST a request (a return, a cancellation) about ``order_id``; the id the shop answers under ``key``."""
        data = await self._request(
            "POST", f"/orders/{order_id}/{collection}", {"reason": reason, "conversation": conversation}
        )
        if not data or key not in data:
            raise ActionError(
                f"order backend answered no {key} for {order_id}",
                user_message="Our order system could not record the request; please try again in a few minutes.",
            )
        return str(data[key])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
