"""Size-chart records (a table of sizes by body measurement for some categories) turned into chunks.

The chunk's text states the table in words, so it can be searched and cited; its ``extra`` keeps the table as
data (``categories`` and ``rows``: size → measure → [low, high]), so size advice can be computed from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kb.chunks import Chunk
from kb.errors import BadSourceFormat

MEASURES = {
    "chest_cm": ("chest", "胸围", "cm"),
    "waist_cm": ("waist", "腰围", "cm"),
    "hips_cm": ("hips", "臀围", "cm"),
    "height_cm": ("height", "身高", "cm"),
    "weight_kg": ("weight", "体重", "kg"),
    "foot_cm": ("foot length", "脚长", "cm"),
}
"""The measures a chart may use: name in English, in Chinese, and the unit."""
_UNITS_ZH = {"cm": "厘米", "kg": "公斤"}


def size_chart_chunks(path: Path, n: int, record: Mapping[str, Any]) -> list[Chunk]:
    """One chunk per language of a size-chart record; a malformed table is a build error naming the record."""
    chart_id = str(record.get("id") or "").strip() or f"{path.stem}-{n}"
    categories = record.get("categories")
    if isinstance(categories, str):
        categories = [categories]
    if not isinstance(categories, list) or not categories or not all(isinstance(c, str) for c in categories):
        raise BadSourceFormat(f"{path}: size chart {chart_id} needs 'categories', a list of category names", path=path)
    rows = _rows(path, chart_id, record.get("rows"))
    localised = {key: value for key, value in record.items() if isinstance(value, Mapping) and "name" in value}
    if not localised:
        raise BadSourceFormat(f'{path}: size chart {chart_id} has no name (e.g. "en": {{"name": …}})', path=path)
    chunks = []
    for language, texts in localised.items():
        name = str(texts.get("name") or "").strip()
        if not name:
            raise BadSourceFormat(f"{path}: size chart {chart_id} has no {language} name", path=path)
        note = str(texts.get("note") or "").strip()
        chunks.append(
            Chunk(
                id=f"{chart_id}#{language}",
                title=name,
                text=" ".join(part for part in (table_text(rows, language), note) if part),
                source=path.name,
                language=language,
                kind="size_chart",
                tags=("sizes", *categories),
                extra={"categories": list(categories), "rows": rows},
            )
        )
    return chunks


def _rows(path: Path, chart_id: str, rows: Any) -> list[dict[str, Any]]:
    """The table's rows as ``{"size": str, measure: [low, high], …}``; a single number means low = high."""
    if not isinstance(rows, list) or not rows:
        raise BadSourceFormat(f"{path}: size chart {chart_id} needs 'rows', a list of sizes", path=path)
    table = []
    for row in rows:
        if not isinstance(row, Mapping) or not str(row.get("size") or "").strip():
            raise BadSourceFormat(f"{path}: size chart {chart_id}: every row needs a 'size', got {row!r}", path=path)
        size = str(row["size"]).strip()
        entry: dict[str, Any] = {"size": size}
        for key, value in row.items():
            if key == "size":
                continue
            if key not in MEASURES:
                known = ", ".join(MEASURES)
                raise BadSourceFormat(
                    f"{path}: size chart {chart_id}, size {size}: unknown measure {key!r} (known: {known})", path=path
                )
            entry[key] = _range(path, chart_id, size, key, value)
        if len(entry) == 1:
            raise BadSourceFormat(f"{path}: size chart {chart_id}, size {size} gives no measure", path=path)
        table.append(entry)
    return table


def _range(path: Path, chart_id: str, size: str, key: str, value: Any) -> list[float]:
    bounds = value if isinstance(value, list) else [value, value]
    if len(bounds) != 2 or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds):
        raise BadSourceFormat(
            f"{path}: size chart {chart_id}, size {size}: {key} must be a number or [low, high], not {value!r}",
            path=path,
        )
    low, high = float(bounds[0]), float(bounds[1])
    if low <= 0 or high < low:
        raise BadSourceFormat(
            f"{path}: size chart {chart_id}, size {size}: {key} must be positive with low ≤ high, not {value!r}",
            path=path,
        )
    return [low, high]


def measure_text(key: str, bounds: list[float], language: str) -> str:
    """One measure of a row in words: "chest 84-88 cm", "胸围84-88厘米"."""
    english, chinese, unit = MEASURES[key]
    low, high = (f"{b:g}" for b in bounds)
    span = low if low == high else f"{low}-{high}"
    if language == "zh":
        return f"{chinese}{span}{_UNITS_ZH[unit]}"
    return f"{english} {span} {unit}"


def table_text(rows: list[dict[str, Any]], language: str) -> str:
    """The whole table in words, one sentence per size."""
    sep, colon, end = ("，", "：", "。") if language == "zh" else (", ", ": ", ".")
    return " ".join(
        f"{row['size']}{colon}" + sep.join(measure_text(k, v, language) for k, v in row.items() if k != "size") + end
        for row in rows
    )
