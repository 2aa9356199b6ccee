"""Validate the bundled demo store data exactly as it ships inside the installed package."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from importlib.resources import files
from typing import Any

import pytest
import yaml

STORE = files("bot.demo.store")
CJK = re.compile(r"[\u4e00-\u9fff]")
LANGUAGES = ("en", "zh")
CATEGORIES = {"shoes", "tops", "trousers", "dresses", "outerwear", "bags", "accessories", "home", "electronics"}
STATUSES = {"pending", "paid", "shipped", "delivered", "cancelled", "return_requested", "refunded"}
INTENTS = [
    "greeting",
    "order_status",
    "return_refund",
    "shipping",
    "payment",
    "product_info",
    "complaint",
    "human_agent",
    "goodbye",
    "other",
]


def _json(name: str) -> Any:
    return json.loads(STORE.joinpath(name).read_text(encoding="utf-8"))


def _is_chinese(text: str) -> bool:
    return CJK.search(text) is not None


@pytest.fixture(scope="module")
def faqs() -> dict[str, list[dict[str, Any]]]:
    return {lang: _json(f"faq.{lang}.json") for lang in LANGUAGES}


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    return _json("products.json")


@pytest.fixture(scope="module")
def orders() -> list[dict[str, Any]]:
    return _json("orders.json")


@pytest.fixture(scope="module")
def intents() -> dict[str, Any]:
    return yaml.safe_load(STORE.joinpath("intents.yaml").read_text(encoding="utf-8"))


def _assert_types(record: dict[str, Any], schema: dict[str, type | tuple[type, ...]], where: str) -> None:
    assert set(record) == set(schema), f"{where}: fields {sorted(record)} != {sorted(schema)}"
    for key, kind in schema.items():
        assert isinstance(record[key], kind), f"{where}: {key}={record[key]!r} is not {kind}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_faq_entries_are_well_formed_and_tagged_with_their_language(faqs, lang: str) -> None:
    entries = faqs[lang]
    assert len(entries) >= 36, f"faq.{lang}.json has only {len(entries)} entries"
    schema = {"id": str, "question": str, "answer": str, "tags": list, "language": str}
    for entry in entries:
        _assert_types(entry, schema, entry.get("id", "?"))
        assert entry["id"].startswith(f"faq-{lang}-")
        assert entry["language"] == lang, f"{entry['id']}: language {entry['language']!r} in faq.{lang}.json"
        assert entry["tags"] and all(isinstance(tag, str) and tag for tag in entry["tags"])
        assert entry["question"].strip() and entry["answer"].strip()
        text = entry["question"] + entry["answer"]
        assert _is_chinese(text) == (lang == "zh"), entry["id"]


def test_faq_ids_and_questions_are_unique(faqs) -> None:
    ids = [entry["id"] for lang in LANGUAGES for entry in faqs[lang]]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for lang in LANGUAGES:
        questions = [entry["question"] for entry in faqs[lang]]
        assert len(questions) == len(set(questions))


def test_products_are_well_formed(products) -> None:
    assert len(products) >= 42
    schema = {
        "sku": str,
        "category": str,
        "price": float,
        "currency": str,
        "stock": (int, dict),
        "sizes": list,
        "colours": list,
        "en": dict,
        "zh": dict,
    }
    for product in products:
        _assert_types(product, schema, product.get("sku", "?"))
        assert re.fullmatch(r"LL-[A-Z]{2}-\d{3}", product["sku"])
        assert product["category"] in CATEGORIES
        assert product["price"] > 0 and product["currency"] == "CNY"
        stock = product["stock"]
        if isinstance(stock, dict):  # per size: every size listed, each a count
            assert list(stock) == product["sizes"] and all(isinstance(n, int) and n >= 0 for n in stock.values())
        else:
            assert stock >= 0
        assert all(isinstance(value, str) for value in product["sizes"] + product["colours"])
        for lang in LANGUAGES:
            _assert_types(product[lang], {"name": str, "description": str}, f"{product['sku']}.{lang}")
            assert _is_chinese(product[lang]["name"] + product[lang]["description"]) == (lang == "zh")
    assert len({p["sku"] for p in products}) == len(products)
    assert {p["category"] for p in products} == CATEGORIES
    assert any(p["stock"] == 0 for p in products)
    assert any(isinstance(p["stock"], dict) and 0 in p["stock"].values() for p in products)


def test_orders_are_well_formed_and_reference_real_products(orders, products) -> None:
    assert len(orders) >= 25
    by_sku = {p["sku"]: p for p in products}
    optional = (str, type(None))
    schema = {
        "order_id": str,
        "customer": str,
        "email": str,
        "phone": str,
        "status": str,
        "carrier": optional,
        "tracking": optional,
        "placed_at": str,
        "eta": optional,
        "items": list,
        "total": float,
        "currency": str,
    }
    for order in orders:
        where = order.get("order_id", "?")
        _assert_types(order, schema, where)
        assert re.fullmatch(r"1\d{5}", order["order_id"])
        assert order["status"] in STATUSES
        assert "@" in order["email"] and order["currency"] == "CNY"
        placed = date.fromisoformat(order["placed_at"])
        if order["eta"] is not None:
            assert date.fromisoformat(order["eta"]) >= placed, where
        shipped = order["status"] in {"shipped", "delivered", "return_requested", "refunded"}
        assert (order["carrier"] is not None and order["tracking"] is not None) == shipped, where
        assert order["items"], where
        subtotal = 0.0
        for item in order["items"]:
            _assert_types(item, {"sku": str, "qty": int, "size": (str, type(None))}, where)
            assert item["sku"] in by_sku, f"{where}: unknown SKU {item['sku']}"
            assert item["qty"] >= 1
            sizes = by_sku[item["sku"]]["sizes"]
            assert item["size"] in sizes if sizes else item["size"] is None, where
            subtotal += by_sku[item["sku"]]["price"] * item["qty"]
        assert order["total"] - subtotal in {0.0, 12.0, 160.0}, f"{where}: total {order['total']} vs {subtotal}"
    assert len({o["order_id"] for o in orders}) == len(orders)
    assert {o["status"] for o in orders} == STATUSES


def test_intents_have_enough_examples_per_language(intents) -> None:
    assert intents["version"] == 1
    assert list(intents["intents"]) == INTENTS
    for name, spec in intents["intents"].items():
        assert set(spec) <= {"examples", "threshold"}, name
        examples = spec["examples"]
        assert all(isinstance(e, str) and e.strip() for e in examples), name
        chinese = [e for e in examples if _is_chinese(e)]
        english = [e for e in examples if not _is_chinese(e)]
        assert len(chinese) >= 24 and len(english) >= 24, (name, len(english), len(chinese))


def test_no_example_belongs_to_two_intents(intents) -> None:
    owner: dict[str, str] = {}
    for name, spec in intents["intents"].items():
        for example in spec["examples"]:
            key = re.sub(r"[\W_]+", "", example.lower())
            assert key not in owner, f"{example!r} under {owner.get(key)} and {name}"
            owner[key] = name


def test_policies_have_sections_in_both_languages() -> None:
    text = STORE.joinpath("policies.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert len(headings) >= 8
    assert sum(_is_chinese(h) for h in headings) >= 4
    assert sum(not _is_chinese(h) for h in headings) >= 4
