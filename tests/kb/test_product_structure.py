"""Product records' stock per size and size-chart records: what the chunks carry, and each bad input refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb.errors import BadSourceFormat
from kb.sources import collect, load_source
from tests.kb.conftest import DEMO_STORE


def _products(tmp_path: Path, **fields: Any) -> Path:
    record = {"sku": "T-1", "price": 129, "currency": "CNY", "sizes": ["S", "M", "L"], "colours": ["grey", "oat"]}
    record |= {"en": {"name": "Tee", "description": "A tee."}, "zh": {"name": "T恤", "description": "一件T恤。"}}
    record |= fields
    path = tmp_path / "products.json"
    path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    return path


def test_stock_per_size_gives_the_total_and_the_sizes_in_their_listed_order(tmp_path: Path) -> None:
    en, zh = load_source(_products(tmp_path, stock={"L": 2, "S": 0, "M": 5}))
    assert en.metadata["stock"] == 7 and zh.metadata["stock"] == 7
    assert list(en.metadata["size_stock"].items()) == [("S", 0), ("M", 5), ("L", 2)]
    assert "In stock: 7." in en.text and "库存：7 件" in zh.text


def test_a_size_left_out_of_the_stock_mapping_counts_as_none_left(tmp_path: Path) -> None:
    (en, _) = load_source(_products(tmp_path, stock={"M": 3}))
    assert en.metadata["size_stock"] == {"S": 0, "M": 3, "L": 0}


def test_a_plain_count_is_the_total_and_a_missing_stock_states_none(tmp_path: Path) -> None:
    (en, _) = load_source(_products(tmp_path, stock="12"))
    assert en.metadata["stock"] == 12 and "size_stock" not in en.metadata
    (en, _) = load_source(_products(tmp_path))
    assert "stock" not in en.metadata and "stock" not in en.text.lower()


def test_price_and_colours_are_written_the_way_the_passage_language_writes_them(tmp_path: Path) -> None:
    en, zh = load_source(_products(tmp_path, stock=1))
    assert en.metadata["price_text"] == "129 CNY" and zh.metadata["price_text"] == "129元"
    assert en.metadata["colour_names"] == ["grey", "oat"] and zh.metadata["colour_names"] == ["灰色", "燕麦色"]
    assert "颜色：灰色、燕麦色。" in zh.text and "价格：129元。" in zh.text


@pytest.mark.parametrize(
    ("stock", "says"),
    [
        ({"S": -1}, "stock of size S must be a whole number ≥ 0"),
        ({"S": "many"}, "stock of size S must be a whole number"),
        ({"S": 1.5}, "stock of size S must be a whole number ≥ 0"),
        ({"S": True}, "stock of size S must be a whole number"),
        ({"S": None}, "stock of size S must be a whole number"),
        ({"XXL": 2}, "has stock for sizes ['XXL'] it does not list"),
        ({}, "has an empty stock mapping"),
        (-3, "stock must be a whole number ≥ 0"),
        ([1, 2], "stock must be a whole number"),
    ],
)
def test_a_bad_stock_is_a_build_error_naming_the_product(tmp_path: Path, stock: Any, says: str) -> None:
    with pytest.raises(BadSourceFormat) as caught:
        load_source(_products(tmp_path, stock=stock))
    assert "T-1" in str(caught.value) and says in str(caught.value)


def test_a_product_without_sizes_takes_stock_per_whatever_keys_it_names(tmp_path: Path) -> None:
    (en, _) = load_source(_products(tmp_path, sizes=[], stock={"one size": 4}))
    assert en.metadata["stock"] == 4 and en.metadata["size_stock"] == {"one size": 4}


def _chart(tmp_path: Path, **fields: Any) -> Path:
    record = {
        "id": "chart-tops",
        "categories": ["tops"],
        "rows": [{"size": "S", "chest_cm": [84, 88], "height_cm": [155, 165]}, {"size": "M", "chest_cm": [88, 92]}],
        "en": {"name": "Tops size chart", "note": "Between sizes, size up."},
        "zh": {"name": "上衣尺码表"},
    } | fields
    path = tmp_path / "charts.json"
    path.write_text(json.dumps([record], ensure_ascii=False), encoding="utf-8")
    return path


def test_a_size_chart_becomes_one_passage_per_language_with_its_table_as_data(tmp_path: Path) -> None:
    en, zh = load_source(_chart(tmp_path))
    assert (en.id, zh.id) == ("chart-tops#en", "chart-tops#zh")
    assert en.kind == "size_chart" and en.title == "Tops size chart"
    assert en.text == "S: chest 84-88 cm, height 155-165 cm. M: chest 88-92 cm. Between sizes, size up."
    assert zh.text == "S：胸围84-88厘米，身高155-165厘米。 M：胸围88-92厘米。"
    assert en.metadata["categories"] == ["tops"]
    assert en.metadata["rows"][0] == {"size": "S", "chest_cm": [84.0, 88.0], "height_cm": [155.0, 165.0]}


def test_the_demo_store_charts_are_collected_and_agree_with_its_size_faqs() -> None:
    assert any(p.name == "size_charts.json" for p in collect([DEMO_STORE]))
    charts = {c.id: c for c in load_source(DEMO_STORE / "size_charts.json")}
    faqs = {c.id: c.text for name in ("faq.en.json", "faq.zh.json") for c in load_source(DEMO_STORE / name)}
    feet = {row["size"]: row["foot_cm"][0] for row in charts["size-chart-shoes#zh"].metadata["rows"]}
    for size in ("36", "38", "40", "42", "44"):  # the sizes the FAQ names
        assert f"{size}码{feet[size]:.1f}厘米" in faqs["faq-zh-xiezi-chima"]
    for row in charts["size-chart-clothing#en"].metadata["rows"]:
        chest, waist = (f"{row[k][0]:g}-{row[k][1]:g}" for k in ("chest_cm", "waist_cm"))
        assert f"{row['size']} {chest}/{waist}" in faqs["faq-en-sizes-clothing"]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"rows": []}, "needs 'rows'"),
        ({"rows": [{"chest_cm": [80, 84]}]}, "every row needs a 'size'"),
        ({"rows": [{"size": "S", "shoulder_cm": 40}]}, "unknown measure 'shoulder_cm'"),
        ({"rows": [{"size": "S", "chest_cm": [90, 80]}]}, "low ≤ high"),
        ({"rows": [{"size": "S", "chest_cm": "big"}]}, "must be a number or [low, high]"),
        ({"rows": [{"size": "S"}]}, "gives no measure"),
        ({"categories": []}, "needs 'categories'"),
        ({"en": {"name": ""}}, "has no en name"),
    ],
)
def test_a_bad_size_chart_is_a_build_error_naming_the_chart(tmp_path: Path, fields: dict[str, Any], says: str) -> None:
    with pytest.raises(BadSourceFormat) as caught:
        load_source(_chart(tmp_path, **fields))
    assert "chart-tops" in str(caught.value) and says in str(caught.value)
