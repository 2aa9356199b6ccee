"""Photos to catalogue products: what the describer saw becomes a catalogue query, and a match needs evidence.

A product is claimed only when the photo's text names it (its SKU, ``LL-SH-001``, or its name in any language
the catalogue has), or when the photo is clearly one of the catalogue's own product photos (find by photo,
``MIN_PHOTO_SIMILARITY``). Labels ("running shoe") and the shopper's words help find candidates but never make
a match on their own, so the bot says what it saw and asks rather than offering a vague look-alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

import numpy as np

from bot.engines import Engines
from bot.generation.templates import phrase
from bot.protocols import Description, Hit

MIN_LABEL_SCORE = 0.15
"""Labels less likely than this are not mentioned to the shopper."""
MAX_LABELS = 3
MAX_TEXT_CHARS = 2000
"""Text read off the photos beyond this is not searched for names (a photographed page of small print)."""
MIN_PHOTO_SIMILARITY = 0.65
"""Find by photo: the cosine (EfficientNet-Lite0 pooled features) a shopper's photo needs with a catalogue photo.
On scikit-image's sample photographs, augmented copies scored 0.59-0.99 with their original (most above 0.7) and
at most 0.56 with any other photo (docs/vision.md); a catalogue of look-alike products needs its own check."""
MIN_PHOTO_MARGIN = 0.1
"""...and by how much it must beat the next product, so two look-alikes are never told apart by a hair."""
MIN_NAME_SIMILARITY = 0.85
"""How closely the photo's text must spell a product's name (OCR drops a letter now and then)."""
_SKU = re.compile(r"(?<![A-Z0-9])[A-Z0-9]{1,8}(?:-[A-Z0-9]{1,8}){1,4}(?![A-Z0-9])")
_PRODUCT = "product"

_WORDS = {
    "seen": {"en": "📷 I can see: {what}", "zh": "📷 我看到：{what}"},
    "text": {"en": "text “{text}”", "zh": "文字“{text}”"},
    "nothing": {"en": "nothing I can name", "zh": "无法辨认的内容"},
    "match": {
        "en": "This looks like our {name} ({sku}): {price}.",
        "zh": "这看起来是我们的「{name}」（{sku}）：{price}。",
    },
    "colours": {"en": "Colours: {colours}.", "zh": "颜色：{colours}。"},
    "in_stock": {"en": "In stock: {stock}.", "zh": "库存：{stock} 件。"},
    "sold_out": {"en": "It is out of stock right now.", "zh": "目前缺货。"},
    "has_colour": {"en": "Yes, it comes in {colour}.", "zh": "有的，这款有{colour}。"},
    "no_colour": {
        "en": "Sorry, it doesn't come in {colour}; it comes in {colours}.",
        "zh": "抱歉，这款没有{colour}，只有{colours}。",
    },
    "ask": {
        "en": "I couldn't match this photo to a product in our catalogue. What would you like to know? "
        "If it's a product, its name or the SKU on the label helps me find it; for an order, send the order number.",
        "zh": "我没能在商品目录中找到与这张图片对应的商品。请问您需要什么帮助？"
        "如果是商品，告诉我商品名称或标签上的货号（SKU）；如果是订单问题，请发送订单号。",
    },
}
_COLOURS = {
    "black": ("black", "黑"),
    "white": ("white", "白"),
    "red": ("red", "红"),
    "blue": ("blue", "蓝"),
    "navy": ("navy", "藏青"),
    "grey": ("grey", "灰"),
    "green": ("green", "绿"),
    "yellow": ("yellow", "黄"),
    "pink": ("pink", "粉"),
    "brown": ("brown", "棕"),
    "beige": ("beige", "米"),
    "purple": ("purple", "紫"),
    "orange": ("orange", "橙"),
}
_COLOUR_ALIASES = {"gray": "grey", "咖啡": "brown", "海军蓝": "navy", "米白": "beige"}


@dataclass(frozen=True, slots=True)
class ProductMatch:
    """A catalogue product the photo names, in the shopper's language, and what proved it (``sku`` or ``name``)."""

    hit: Hit
    evidence: str


def _say(key: str, language: str, **values: Any) -> str:
    return phrase(_WORDS, key, language, **values)


def seen_quote(descriptions: Sequence[Description], language: str) -> str:
    """ "📷 I can see: espresso; text “LL-SH-001”" for each photo, in the shopper's language."""
    lines = []
    for description in descriptions:
        parts = [description.caption] if description.caption else []
        shown = [label for label in description.labels if label.score >= MIN_LABEL_SCORE][:MAX_LABELS]
        labels = list(dict.fromkeys(label.name(language) for label in shown))  # two classes may share a Chinese name
        parts += [("、" if language == "zh" else ", ").join(labels)] if labels else []
        if description.text:
            parts.append(_say("text", language, text=" / ".join(description.text)))
        what = ("；" if language == "zh" else "; ").join(parts) or _say("nothing", language)
        lines.append(_say("seen", language, what=what))
    return "\n".join(lines)


def photo_words(description: Description) -> str:
    """The words a photo adds to the shopper's turn: its caption and the text on it (labels stay out of the
    query: an ImageNet class such as "envelope" would only mislead retrieval)."""
    return " ".join([*([description.caption] if description.caption else []), *description.text]).strip()


async def match_products(
    descriptions: Sequence[Description], language: str, engines: Engines, *, query: str, vector: np.ndarray
) -> list[ProductMatch]:
    """Products whose SKU or name the photos' text shows, best evidence first; empty when none is shown.

    ``query`` and ``vector``: the turn's words (the shopper's and the photos') and their encoding, searched among
    products for names; a SKU is looked up by the catalogue's ``sku`` field alone.
    """
    found: dict[str, ProductMatch] = {}
    text = "\n".join(line for description in descriptions for line in description.text)[:MAX_TEXT_CHARS]
    if not text.strip():
        return await _look_alikes(descriptions, language, engines, vector)
    for sku in dict.fromkeys(_SKU.findall(_normal_sku(text))):
        hit = await _product(engines, sku, language, vector)
        if hit is not None:
            found.setdefault(sku, ProductMatch(hit, "sku"))
    if found:
        return list(found.values())
    for hit in await engines.retrieve(query, vector, {"kind": _PRODUCT}):
        sku = str(hit.metadata.get("sku") or "")
        if sku and sku not in found and names_product(text, hit.title):
            shown = await _product(engines, sku, language, vector) or hit
            found[sku] = ProductMatch(shown, "name")
    return list(found.values()) or await _look_alikes(descriptions, language, engines, vector)


async def _look_alikes(
    descriptions: Sequence[Description], language: str, engines: Engines, vector: np.ndarray
) -> list[ProductMatch]:
    """Products whose catalogue photo the shopper's photo clearly is (similar enough, and well ahead of the next)."""
    found: dict[str, ProductMatch] = {}
    for description in descriptions:
        similar = list(getattr(description, "similar", ()) or ())
        if not similar:
            continue
        best, score = similar[0]
        runner_up = similar[1][1] if len(similar) > 1 else 0.0
        if score >= MIN_PHOTO_SIMILARITY and score - runner_up >= MIN_PHOTO_MARGIN and best not in found:
            hit = await _product(engines, best, language, vector)
            if hit is not None:
                found[best] = ProductMatch(hit, "photo")
    return list(found.values())


def names_product(text: str, name: str) -> bool:
    """Whether ``text`` (read off a photo) spells the product ``name``, allowing an OCR slip or two."""
    haystack, needle = _squash(text), _squash(name)
    if len(needle) < 3 or not haystack:
        return False
    if needle in haystack:
        return True
    if len(haystack) < len(needle):
        return SequenceMatcher(None, haystack, needle).ratio() >= MIN_NAME_SIMILARITY
    window = len(needle)
    best = max(
        SequenceMatcher(None, haystack[start : start + window], needle).ratio()
        for start in range(0, len(haystack) - window + 1)
    )
    return best >= MIN_NAME_SIMILARITY


def product_reply(matches: Sequence[ProductMatch], typed: str, language: str) -> str:
    """The offer: each matched product's name, SKU, price, colours and stock; a colour question answered."""
    paragraphs = []
    asked = asked_colours(typed)
    for match in matches:
        meta = match.hit.metadata
        price = _price(meta)
        sentences = [_say("match", language, name=match.hit.title, sku=meta.get("sku", ""), price=price)]
        colours = [str(colour) for colour in meta.get("colours") or []]
        if colours:
            sentences.append(_say("colours", language, colours=_colour_list(colours, language)))
        stock = meta.get("stock")
        if stock is not None:
            sold_out = str(stock).strip() in ("0", "0.0")
            sentences.append(_say("sold_out", language) if sold_out else _say("in_stock", language, stock=stock))
        for colour in asked:
            known = {_canonical(c) for c in colours}
            if colour in known:
                sentences.append(_say("has_colour", language, colour=_colour_name(colour, language)))
            elif colours:
                sentences.append(
                    _say(
                        "no_colour",
                        language,
                        colour=_colour_name(colour, language),
                        colours=_colour_list(colours, language),
                    )
                )
        paragraphs.append(("" if language == "zh" else " ").join(sentences))
    return "\n\n".join(paragraphs)


def ask_reply(language: str) -> str:
    """What the bot says when the photo names no product it knows."""
    return _say("ask", language)


def asked_colours(text: str) -> list[str]:
    """Colours the shopper's words mention ("in red?", "有红色吗"), as canonical English names."""
    lowered = text.lower()
    found = []
    for name, (english, chinese) in _COLOURS.items():
        if re.search(rf"\b{english}\b", lowered) or chinese in text:
            found.append(name)
    for alias, name in _COLOUR_ALIASES.items():
        if (alias in lowered if alias.isascii() else alias in text) and name not in found:
            found.append(name)
    return found


async def _product(engines: Engines, sku: str, language: str, vector: np.ndarray) -> Hit | None:
    """The catalogue entry for ``sku``, in ``language`` when the catalogue has it, else in any language (the filter
    picks it; ``vector`` only ranks, and there is one entry per language)."""
    for filters in ({"kind": _PRODUCT, "sku": sku, "language": language}, {"kind": _PRODUCT, "sku": sku}):
        hits = await engines.retrieve(sku, vector, filters)
        if hits:
            return hits[0]
    return None


def _normal_sku(text: str) -> str:
    """Upper case, full-width forms and dashes folded (OCR reads "LL—SH—001" as often as "LL-SH-001")."""
    folded = unicodedata.normalize("NFKC", text).upper()
    return re.sub(r"\s*[‐‑‒–—―−]\s*", "-", folded)


def _squash(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def _price(meta: Mapping[str, Any]) -> str:
    amount = meta.get("price")
    if amount is None:
        return ""
    shown = f"{float(amount):g}" if isinstance(amount, int | float) else str(amount)
    return f"{shown} {meta.get('currency', '')}".strip()


def _canonical(colour: str) -> str:
    lowered = colour.strip().lower()
    return _COLOUR_ALIASES.get(lowered, lowered)


def _colour_name(colour: str, language: str) -> str:
    names = _COLOURS.get(colour)
    if names is None:
        return colour
    return f"{names[1]}色" if language == "zh" else names[0]


def _colour_list(colours: Sequence[str], language: str) -> str:
    return ("、" if language == "zh" else ", ").join(_colour_name(_canonical(c), language) for c in colours)
