"""Size advice from the shop's size charts: the body measures a question gives ("I'm 175 cm and 70 kg", "脚长25厘米")
read against a chart's rows (size → measure → [low, high])."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_NUMBER_UNIT = re.compile(r"(?i)(\d+(?:\.\d+)?)\s*(cm|厘米|公分|kg|公斤|千克|斤|m(?![a-z])|米(?!色))")
_KEYWORDS = (
    ("chest_cm", re.compile(r"(?i)chest|bust|胸")),
    ("waist_cm", re.compile(r"(?i)waist|腰")),
    ("hips_cm", re.compile(r"(?i)hips?\b|臀")),
    ("foot_cm", re.compile(r"(?i)\bfoot|\bfeet|脚|足")),
    ("height_cm", re.compile(r"(?i)height|tall|身高|个子|高")),
    ("weight_kg", re.compile(r"(?i)weigh|体重|重")),
)
_BARE = re.compile(
    r"(?i)(胸围|腰围|臀围|身高|体重|脚长|chest|waist|hips|height|weight)\s*(?:is|of|:|：)?\s*(\d+(?:\.\d+)?)(?![\d.]|\s*[a-z米厘公千斤])"
)
"""A measure named and given without a unit ("胸围90", "chest 90"): centimetres, or kilograms for weight."""
_BARE_KEYS = {"胸围": "chest_cm", "腰围": "waist_cm", "臀围": "hips_cm", "身高": "height_cm", "体重": "weight_kg",
              "脚长": "foot_cm", "chest": "chest_cm", "waist": "waist_cm", "hips": "hips_cm", "height": "height_cm",
              "weight": "weight_kg"}  # fmt: skip
_SHOE_WORDS = re.compile(r"(?i)shoe|sneaker|boot|sandal|flat|鞋|靴")
DECISIVE = ("chest_cm", "waist_cm", "hips_cm", "foot_cm")
"""Measures that decide a size; height and weight only guide it when none of these is given."""


@dataclass(frozen=True, slots=True)
class Advice:
    """The size a chart gives for the measures asked, and where the measures fall."""

    size: str
    row: Mapping[str, Any]
    measures: Mapping[str, float]
    beyond: str | None = None
    """``"above"`` or ``"below"`` when a measure is outside every row (the largest or smallest size is given)."""
    smaller: str | None = None
    """The smallest size one of the measures calls for, when the measures disagree (height says M, weight S)."""


def body_measures(question: str) -> dict[str, float]:
    """The body measures ``question`` gives, by chart measure name (cm and kg; 斤 halved, metres made cm)."""
    found: dict[str, float] = {}
    for match in _NUMBER_UNIT.finditer(question):
        value, unit = float(match.group(1)), match.group(2).lower()
        before = question[max(0, match.start() - 10) : match.start()]
        after = question[match.end() : match.end() + 6]
        if unit in ("kg", "公斤", "千克", "斤"):
            found.setdefault("weight_kg", value / 2 if unit == "斤" else value)
            continue
        if unit in ("m", "米"):
            value *= 100
        key = _keyword(before) or _keyword(after)
        if key is None or key == "weight_kg":
            if 120 <= value <= 230:
                key = "height_cm"
            elif 15 <= value <= 35 and _SHOE_WORDS.search(question):
                key = "foot_cm"
            else:
                continue
        found.setdefault(key, value)
    for match in _BARE.finditer(question):
        found.setdefault(_BARE_KEYS[match.group(1).lower()], float(match.group(2)))
    return found


def _keyword(text: str) -> str | None:
    """The measure named nearest the end of ``text``'s window."""
    best: tuple[int, str] | None = None
    for key, pattern in _KEYWORDS:
        for match in pattern.finditer(text):
            if best is None or match.end() > best[0]:
                best = (match.end(), key)
    return best[1] if best else None


def advise(rows: Sequence[Mapping[str, Any]], measures: Mapping[str, float]) -> Advice | None:
    """The size for ``measures`` from a chart's ``rows`` (smallest first): the largest size any decisive measure
    calls for (between two sizes, the larger one), else the largest height and weight call for; None when the
    chart has none of the measures."""
    usable = {key: value for key, value in measures.items() if any(key in row for row in rows)}
    decisive = {key: value for key, value in usable.items() if key in DECISIVE}
    chosen = decisive or usable
    if not chosen:
        return None
    picks = [_row_for(rows, key, value) for key, value in chosen.items()]
    index = max(i for i, _ in picks)
    least = min(i for i, _ in picks)
    beyond = next((b for i, b in picks if i == index and b), None)
    smaller = str(rows[least]["size"]) if least < index else None
    return Advice(size=str(rows[index]["size"]), row=rows[index], measures=chosen, beyond=beyond, smaller=smaller)


def _row_for(rows: Sequence[Mapping[str, Any]], key: str, value: float) -> tuple[int, str | None]:
    """The index of the largest row whose range holds ``value``, else the next larger row; with "above"/"below"
    when ``value`` is outside the chart."""
    having = [(i, row[key]) for i, row in enumerate(rows) if key in row]
    holding = [i for i, (low, high) in having if low <= value <= high]
    if holding:
        return max(holding), None
    larger = [i for i, (low, _) in having if low > value]
    if not larger:
        return having[-1][0], "above"
    first = min(larger)
    return first, "below" if first == having[0][0] else None
