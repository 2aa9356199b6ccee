"""Loaders: Markdown split by headings, FAQ and product records in JSON/YAML/CSV, ids, languages, collect()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.chunks import detect_language
from kb.errors import BadSourceFormat, UnsupportedSource
from kb.sources import collect, load_source
from tests.kb.conftest import DEMO_STORE


def test_markdown_splits_by_heading_with_trail_titles(tmp_path: Path) -> None:
    doc = tmp_path / "guide.md"
    doc.write_text(
        "# Guide\n\nWelcome.\n\n## Returns\n\nSend it back.\n\n### Shoes\n\nUnworn only.\n\n"
        "```\n# not a heading\n```\n\n## 配送\n\n两到四天送达。\n",
        encoding="utf-8",
    )
    chunks = load_source(doc)
    assert [c.id for c in chunks] == ["guide#guide", "guide#returns", "guide#returns-shoes", "guide#配送"]
    assert [c.title for c in chunks] == ["Guide", "Returns", "Returns › Shoes", "配送"]
    assert "# not a heading" in chunks[2].text
    assert [c.language for c in chunks] == ["en", "en", "en", "zh"]
    assert all(c.kind == "document" and c.source == "guide.md" for c in chunks)


def test_long_section_is_split_at_paragraphs_with_suffixed_ids(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {n}. " + "words " * 100 for n in range(6)]
    doc = tmp_path / "long.md"
    doc.write_text("## Terms\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    chunks = load_source(doc)
    assert len(chunks) > 1
    assert chunks[0].id == "long#terms" and chunks[1].id == "long#terms~2"
    assert all(len(c.text) <= 1500 for c in chunks)
    assert "".join(c.text for c in chunks).count("Paragraph") == 6


def test_plain_text_without_headings_is_one_titled_chunk(tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text("We open at nine.\n\nWe close at six.", encoding="utf-8")
    (chunk,) = load_source(doc)
    assert chunk.title == "notes" and "six" in chunk.text


def test_faq_json_keeps_pairs_ids_tags_and_languages(small_sources: list[Path]) -> None:
    chunks = load_source(small_sources[0])
    assert [c.kind for c in chunks] == ["faq"] * 3
    first, second, third = chunks
    assert (first.id, first.title, first.text) == (
        "ship-time",
        "How long does delivery take?",
        "Parcels arrive in 2-4 days.",
    )
    assert first.tags == ("shipping",) and first.language == "en"
    assert second.id.startswith("faq#") and second.language == "zh" and second.tags == ("returns", "shipping")
    assert third.language == "en"


def test_chunk_ids_are_stable_across_loads_and_independent_of_order(tmp_path: Path) -> None:
    faq = tmp_path / "faq.yaml"
    faq.write_text(
        "- question: 能开发票吗？\n  answer: 可以。\n- question: Where are you?\n  answer: Shanghai.\n",
        encoding="utf-8",
    )
    ids = [c.id for c in load_source(faq)]
    faq.write_text(
        "- question: Where are you?\n  answer: Shanghai.\n- question: 能开发票吗？\n  answer: 可以。\n",
        encoding="utf-8",
    )
    assert sorted(c.id for c in load_source(faq)) == sorted(ids)
    assert len(set(ids)) == 2


def test_faq_csv_and_yaml_mapping_forms(tmp_path: Path) -> None:
    csv_file = tmp_path / "faq.csv"
    csv_file.write_text(
        'question,answer,tags\n"Do you ship abroad?","Yes, by DHL.","shipping, international"\n', encoding="utf-8"
    )
    (chunk,) = load_source(csv_file)
    assert chunk.tags == ("shipping", "international") and chunk.text == "Yes, by DHL."
    yaml_file = tmp_path / "faq.yml"
    yaml_file.write_text("faq:\n  - {question: 'Hours?', answer: '9 to 6', language: en}\n", encoding="utf-8")
    assert load_source(yaml_file)[0].title == "Hours?"


def test_product_csv_states_price_stock_sizes_and_colours(small_sources: list[Path]) -> None:
    boot, tee = load_source(small_sources[1])
    assert boot.id == "RB-1#en" and boot.kind == "product" and boot.tags == ("shoes",)
    assert "Price: 299 CNY." in boot.text and "Out of stock." in boot.text and "Sizes: 38, 39, 40." in boot.text
    assert tee.id == "TS-1#zh" and "库存：12 件" in tee.text and "尺码：S、M、L" in tee.text
    assert boot.metadata["sku"] == "RB-1" and boot.metadata["stock"] == 0


def test_bilingual_product_json_gives_one_chunk_per_language() -> None:
    chunks = load_source(DEMO_STORE / "products.json")
    products = json.loads((DEMO_STORE / "products.json").read_text(encoding="utf-8"))
    assert len(chunks) == 2 * len(products)
    sneaker = {c.id: c for c in chunks}["LL-SH-001#zh"]
    assert sneaker.language == "zh" and sneaker.title == products[0]["zh"]["name"]
    assert f"价格：{products[0]['price']:g}" in sneaker.text


def test_detect_language_by_cjk_share() -> None:
    assert detect_language("我的快递到哪了") == "zh"
    assert detect_language("能用PayPal付款吗") == "zh"
    assert detect_language("can I pay with 花呗 in installments?") == "en"
    assert detect_language("") == "en"


def test_collect_expands_folders_and_skips_non_kb_data() -> None:
    names = {p.name for p in collect([DEMO_STORE])}
    assert {"faq.en.json", "faq.zh.json", "products.json"} <= names
    assert "orders.json" not in names and "README.md" not in names


def test_collect_keeps_explicit_files_and_reports_bad_shapes(tmp_path: Path) -> None:
    orders = tmp_path / "orders.json"
    orders.write_text(json.dumps([{"order_id": "1", "status": "paid"}]), encoding="utf-8")
    assert collect([orders]) == [orders.resolve()]
    with pytest.raises(UnsupportedSource, match=r"orders\.json"):
        load_source(orders)


def test_unsupported_suffix_and_missing_fields_name_the_file(tmp_path: Path) -> None:
    pdf = tmp_path / "manual.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(UnsupportedSource, match=r"manual\.pdf"):
        load_source(pdf)
    faq = tmp_path / "faq.json"
    faq.write_text(json.dumps([{"question": "Hours?", "answer": ""}]), encoding="utf-8")
    with pytest.raises(BadSourceFormat, match=r"faq.json: record 1 has no 'answer'"):
        load_source(faq)
