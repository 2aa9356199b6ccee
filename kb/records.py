"""Structured sources (JSON, YAML, CSV) parsed into records; FAQ, product and size-chart records turned into chunks."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kb.chunks import Chunk, detect_language, stable_id
from kb.colours import colour_name, price_text
from kb.errors import BadSourceFormat, EmptySource, UnsupportedSource
from kb.sizecharts import size_chart_chunks

log = logging.getLogger(__name__)

Record = Mapping[str, Any]


def parse_records(path: Path, text: str) -> list[Record]:
    """The list of records in a JSON/YAML file (a list, or a mapping holding one list) or a CSV file."""
    if path.suffix.lower() == ".csv":
        return _parse_csv(path, text)
    data = _as_list(_parse_tree(path, text))
    if data is None:
        raise BadSourceFormat(f"{path} must hold a list of records (objects with named fields)", path=path)
    if not data:
        raise EmptySource(f"{path} holds no records", path=path)
    return data


def sniff_kind(path: Path, text: str) -> str | None:
    """``faq`` or ``product`` for a file kb indexes, None for other data (orders, intents…).

    Syntax errors still raise ``BadSourceFormat``: a broken FAQ file must not be skipped silently.
    """
    records = _parse_csv(path, text) if path.suffix.lower() == ".csv" else _as_list(_parse_tree(path, text))
    return record_kind(records) if records else None


def _as_list(data: Any) -> list[Record] | None:
    if isinstance(data, Mapping):
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        return None
    return data


def _parse_tree(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadSourceFormat(f"{path} is not valid JSON: {error.msg} at line {error.lineno}", path=path) from error
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise BadSourceFormat(f"{path} is not valid YAML: {error}", path=path) from error
    return data


def _parse_csv(path: Path, text: str) -> list[Record]:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise BadSourceFormat(f"{path} is not valid CSV: {error}", path=path) from error
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise EmptySource(f"{path} has a header but no rows" if rows else f"{path} has no rows", path=path)
    header = [name.strip().lower() for name in rows[0]]
    records: list[Record] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise BadSourceFormat(
                f"{path} is not valid CSV: row {line} has {len(row)} fields, the header has {len(header)}", path=path
            )
        records.append(dict(zip(header, (cell.strip() for cell in row), strict=True)))
    return records


def record_kind(records: Sequence[Record]) -> str | None:
    """``faq`` or ``product`` from the first record's fields, or None for records kb does not index."""
    keys = set(records[0])
    if {"question", "answer"} <= keys:
        return "faq"
    if "sku" in keys and ("name" in keys or any(isinstance(records[0].get(k), Mapping) for k in keys)):
        return "product"
    if {"categories", "rows"} <= keys:
        return "size_chart"
    return None


def load_records(path: Path, text: str) -> list[Chunk]:
    """Chunks of a FAQ or product-catalogue file; raises ``UnsupportedSource`` for other record shapes."""
    records = parse_records(path, text)
    kind = record_kind(records)
    if kind == "faq":
        numbered = list(enumerate(records, start=1))
        if path.suffix.lower() == ".csv":
            numbered = _answered(path, numbered)
        return [_faq_chunk(path, n, record) for n, record in numbered]
    if kind == "product":
        return [chunk for n, record in enumerate(records, start=1) for chunk in _product_chunks(path, n, record)]
    if kind == "size_chart":
        return [chunk for n, record in enumerate(records, start=1) for chunk in size_chart_chunks(path, n, record)]
    raise UnsupportedSource(
        f"{path} holds records with fields {sorted(records[0])}; kb indexes FAQ (question, answer), "
        "product (sku, name) and size-chart (categories, rows) records",
        path=path,
    )


def _answered(path: Path, numbered: list[tuple[int, Record]]) -> list[tuple[int, Record]]:
    """The CSV rows that have an answer: a to-do list (``kefu report --unanswered``) is filled in over time, and its
    rows still without an answer wait for one (logged), unless none has any (an error)."""
    kept = [(n, record) for n, record in numbered if str(record.get("answer") or "").strip()]
    if not kept:
        raise EmptySource(f"{path}: no row has an answer yet (fill in the answer column)", path=path)
    if len(kept) < len(numbered):
        log.warning(
            "%s: %d of %d rows have no answer yet and are left out", path, len(numbered) - len(kept), len(numbered)
        )
    return kept


def _tags(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.replace(";", ",").replace("|", ",").split(",") if tag.strip())
    return tuple(str(tag) for tag in value)


def _field(path: Path, n: int, record: Record, name: str) -> str:
    value = record.get(name)
    if value is None or not str(value).strip():
        raise BadSourceFormat(f"{path}: record {n} has no {name!r}", path=path)
    return str(value).strip()


def _faq_chunk(path: Path, n: int, record: Record) -> Chunk:
    question = _field(path, n, record, "question")
    answer = _field(path, n, record, "answer")
    given_id = str(record.get("id") or "").strip()
    return Chunk(
        id=given_id or f"{path.stem}#{stable_id(question)}",
        title=question,
        text=answer,
        source=path.name,
        language=str(record.get("language") or "").strip() or detect_language(f"{question} {answer}"),
        kind="faq",
        tags=_tags(record.get("tags")),
    )


_FACTS = {
    "en": ("Price: {price}.", "In stock: {stock}.", "Out of stock.", "Sizes: {}.", "Colours: {}.", ", "),
    "zh": ("价格：{price}。", "库存：{stock} 件。", "暂时缺货。", "尺码：{}。", "颜色：{}。", "、"),
}


def _product_chunks(path: Path, n: int, record: Record) -> list[Chunk]:
    sku = _field(path, n, record, "sku")
    localised = {key: value for key, value in record.items() if isinstance(value, Mapping) and "name" in value}
    if not localised:
        name = _field(path, n, record, "name")
        description = str(record.get("description") or "").strip()
        language = str(record.get("language") or "").strip() or detect_language(f"{name} {description}")
        localised = {language: {"name": name, "description": description}}
    chunks = []
    for language, texts in localised.items():
        name = _field(path, n, texts, "name")
        description = str(texts.get("description") or "").strip()
        extra = {
            key: record[key]
            for key in ("sku", "category", "price", "currency", "sizes", "colours")
            if key in record and record[key] not in (None, "")
        }
        for key in ("sizes", "colours"):
            if key in extra:
                extra[key] = [
                    str(value) for value in (extra[key] if isinstance(extra[key], list) else _tags(extra[key]))
                ]
        extra.update(_stock(path, sku, record, extra.get("sizes", [])))
        extra.update(_shown(language, extra))
        chunks.append(
            Chunk(
                id=f"{sku}#{language}",
                title=name,
                text=" ".join(part for part in (description, _facts(language, extra)) if part),
                source=path.name,
                language=language,
                kind="product",
                tags=_tags(record.get("category")) + _tags(record.get("tags")),
                extra=extra,
            )
        )
    return chunks


def _shown(language: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The price and colours as the passage's language writes them (``price_text``, ``colour_names``, in the order
    of ``colours``), so a reply or a prompt states them the local way."""
    shown: dict[str, Any] = {}
    if "price" in fields:
        amount = fields["price"]
        amount = f"{float(amount):g}" if isinstance(amount, int | float) else amount
        shown["price_text"] = price_text(str(amount), str(fields.get("currency", "")), language)
    if fields.get("colours"):
        shown["colour_names"] = [colour_name(colour, language) for colour in fields["colours"]]
    return shown


def _stock(path: Path, sku: str, record: Record, sizes: list[str]) -> dict[str, Any]:
    """``stock`` (the total) and, for stock given per size, ``size_stock`` (size → count); nothing when the record
    gives no stock. A count that is not a whole number ≥ 0, or a size the product does not list, is a build error."""
    stock = record.get("stock")
    if stock is None or stock == "":
        return {}
    if not isinstance(stock, Mapping):
        return {"stock": _count(path, sku, "stock", stock)}
    per_size = {str(size): _count(path, sku, f"stock of size {size}", value) for size, value in stock.items()}
    unknown = [size for size in per_size if sizes and size not in sizes]
    if unknown:
        raise BadSourceFormat(
            f"{path}: product {sku} has stock for sizes {unknown} it does not list in 'sizes'", path=path
        )
    if not per_size:
        raise BadSourceFormat(f"{path}: product {sku} has an empty stock mapping", path=path)
    ordered = {size: per_size.get(size, 0) for size in sizes} if sizes else per_size
    return {"stock": sum(ordered.values()), "size_stock": ordered}


def _count(path: Path, sku: str, what: str, value: Any) -> int:
    """``value`` as a stock count; a clear build error naming the product when it is not a whole number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int | str | float):
        raise BadSourceFormat(f"{path}: product {sku}: {what} must be a whole number, not {value!r}", path=path)
    try:
        count = float(value)
    except ValueError:
        raise BadSourceFormat(
            f"{path}: product {sku}: {what} must be a whole number, not {value!r}", path=path
        ) from None
    if count < 0 or count != int(count):
        raise BadSourceFormat(f"{path}: product {sku}: {what} must be a whole number ≥ 0, not {value!r}", path=path)
    return int(count)


def _facts(language: str, fields: Mapping[str, Any]) -> str:
    """A sentence or two stating price, stock, sizes and colours, so both retrievers can match them."""
    price, in_stock, sold_out, sizes, colours, sep = _FACTS.get(language, _FACTS["en"])
    facts = []
    if "price_text" in fields:
        facts.append(price.format(price=fields["price_text"]))
    if "stock" in fields:
        stock = fields["stock"]
        facts.append(sold_out if str(stock).strip() in ("0", "0.0") else in_stock.format(stock=stock))
    for key, template in (("sizes", sizes), ("colour_names", colours)):
        if fields.get(key):
            facts.append(template.format(sep.join(fields[key])))
    return " ".join(facts)
