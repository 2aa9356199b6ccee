"""What a question asks of a product, read against the catalogue's structure: the sizes and colours it names,
and how well a product's own words match the attributes it asks for (waterproof, 16-inch, for hiking).

Plain string and dict work over the passages already retrieved; no model call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.protocols import Hit

_LETTER_SIZE = r"XXXL|XXL|XL|XXS|XS|S|M|L"
_UPPER_SIZE = re.compile(rf"(?<![A-Za-z])({_LETTER_SIZE})(?![A-Za-z])")
_NAMED_SIZE = re.compile(rf"(?i)(?:\bsize\s+({_LETTER_SIZE}|\d{{2}}(?:\.5)?)\b|(?<![A-Za-z])({_LETTER_SIZE})\s*码)")
_UNIT = (
    r"cm|厘米|公分|mm|毫米|kg|公斤|千克|斤|g\b|克|inch|in\b|寸|英寸|\"|%|l\b|升|ml|毫升|元|块|yuan|rmb|cny|w\b|"
    r"mah|岁|天|days?|hours?|小时|分钟|mins?|minutes?|oz|盎司|号楼|件|个|只|双|°|度|degrees?|percent|years?|months?|"
    r"weeks?|周|个月|年|x\b|×"
)
_NUMBER_SIZE = re.compile(rf"(?i)(?<![\d.#])(\d{{2}}(?:\.5)?)(?![\d.])(?!\s*(?:{_UNIT}))")
_SIZE_WORD = re.compile(r"(?i)\bsizes?\b|码|尺寸|尺码")
_PRODUCT_FACT = re.compile(
    r"(?i)\b(?:in stock|stock|available|sold out|price|cost|colou?rs?|sizes?)\b"
    r"|有货|现货|库存|缺货|卖完|售罄|多少钱|价格|价钱|颜色|尺码|规格|几克|多少克"
)

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_QUANTITY = re.compile(
    r"(?i)(\d+(?:[.,]\d+)?)\s*(?:-\s*)?(inch(?:es)?|in\b|\"|″|英寸|寸|cm|厘米|mm|毫米|l\b|升|litres?|liters?|ml|毫升|"
    r"mah|毫安时?|w\b|瓦|g\b|克|kg|公斤|oz|盎司)"
)
_UNIT_NAMES = {
    "inch": "in", "inches": "in", "in": "in", '"': "in", "″": "in", "英寸": "in", "寸": "in",
    "cm": "cm", "厘米": "cm", "mm": "mm", "毫米": "mm", "l": "l", "升": "l", "litre": "l", "litres": "l",
    "liter": "l", "liters": "l", "ml": "ml", "毫升": "ml", "mah": "mah", "毫安": "mah", "毫安时": "mah",
    "w": "w", "瓦": "w", "g": "g", "克": "g", "kg": "kg", "公斤": "kg", "oz": "oz", "盎司": "oz",
}  # fmt: skip
_STOP_WORDS = frozenset((
    "the", "a", "an", "and", "or", "for", "with", "you", "your", "do", "does", "did", "is", "are", "was", "can",
    "could", "would", "will", "have", "has", "any", "some", "of", "to", "in", "on", "at", "it", "its", "this",
    "that", "these", "those", "what", "which", "how", "much", "many", "me", "my", "i", "im", "we", "our", "us",
    "there", "here", "be", "been", "get", "got", "want", "need", "looking", "look", "something", "thing", "things",
    "one", "ones", "please", "sell", "selling", "ok", "okay", "also", "still", "just", "about", "available",
    "stock", "buy", "price", "cost", "come", "comes"
))  # fmt: skip
_STOP_HAN = frozenset("的了吗呢吧啊么有没是不个那这些我你您们想要能可以还在和与或就都也很")
_FACTS_START = re.compile(
    r"\s(?:Price:|In stock:|Out of stock\.|Sizes:|Colours:|价格：|库存：|暂时缺货。|尺码：|颜色：)"
)


def _stem(word: str) -> str:
    """A crude English singular: "jackets" → "jacket", "shoes" → "shoe" (short words and "-ss" kept)."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _quantity(match: re.Match[str]) -> str:
    """A quantity as one term: "16 inch", "16寸" and '16"' are all "16in"."""
    return f"{match.group(1).replace(',', '.')}{_UNIT_NAMES.get(match.group(2).lower(), match.group(2).lower())}"


def terms(text: str) -> set[str]:
    """The matching units of ``text``: English words (singular), Han characters and pairs, quantities with their
    unit ("16in" for "16寸", "16-inch" and "16 inch"); function words left out."""
    lowered = text.lower()
    found = {_quantity(m) for m in _QUANTITY.finditer(lowered)}
    found.update(_stem(w) for w in _WORD.findall(lowered) if w not in _STOP_WORDS and not w.isdigit())
    for run in _HAN_RUN.findall(text):
        found.update(ch for ch in run if ch not in _STOP_HAN)
        found.update(run[i : i + 2] for i in range(len(run) - 1) if not set(run[i : i + 2]) & _STOP_HAN)
    return found


def _matches(term: str, words: set[str]) -> bool:
    """``term`` is among ``words``, or an English word sharing its first five letters with one ("waterproof" and
    "water-resistant" both start "water")."""
    if term in words:
        return True
    return len(term) >= 5 and term.isascii() and term.isalpha() and any(w[:5] == term[:5] for w in words)


def attribute_scores(
    question: str, products: Sequence[Hit], *, ignore: Sequence[str] = (), single_han: bool = True
) -> list[float]:
    """How well each product's name and description hold the question's terms, each term weighed by how few of the
    ``products`` hold it (a word every candidate has tells them apart no better than none). ``ignore``: words not to
    count (the colours asked, which say nothing about what the product is); ``single_han=False`` counts Chinese
    words only (pairs), not lone characters such as 克 or 装."""
    text = question
    for word in ignore:
        text = re.sub(re.escape(word), " ", text, flags=re.I)
    asked = {t for t in terms(text) if single_han or len(t) > 1 or not _HAN_RUN.fullmatch(t)}
    if not asked or not products:
        return [0.0] * len(products)
    bodies = [terms(f"{hit.title} {description_of(hit)}") for hit in products]
    scores = [0.0] * len(products)
    for term in asked:
        held = [_matches(term, body) for body in bodies]
        count = sum(held)
        if count:
            weight = math.log(1 + len(products) / count)
            scores = [score + weight * has for score, has in zip(scores, held, strict=True)]
    return scores


def rank_products(question: str, hits: Sequence[Hit], *, window: int = 8, ignore: Sequence[str] = ()) -> list[Hit]:
    """``hits`` with the product passages among the first ``window`` reordered by ``attribute_scores`` when the first
    passage is a product (ties keep the retriever's order); FAQ and policy passages keep their places."""
    ranked = list(hits)
    if not ranked or ranked[0].metadata.get("kind") != "product":
        return ranked
    slots = [i for i, hit in enumerate(ranked[:window]) if hit.metadata.get("kind") == "product"]
    products = [ranked[i] for i in slots]
    scores = attribute_scores(question, products, ignore=ignore)
    order = sorted(range(len(products)), key=lambda i: (-scores[i], i))
    for slot, i in zip(slots, order, strict=True):
        ranked[slot] = products[i]
    return ranked


def named_product(question: str, hits: Sequence[Hit], *, window: int = 5) -> Hit | None:
    """The first product passage among the first ``window`` whose name shares a word with the question (an English
    word of four letters or more, or two Han characters together): "the grey beanie" names the Rib Knit Beanie."""
    asked = {t for t in terms(question) if len(t) >= (2 if _HAN_RUN.fullmatch(t) else 4) and not t[0].isdigit()}
    for hit in hits[:window]:
        if hit.metadata.get("kind") == "product" and asked & terms(hit.title):
            return hit
    return None


def catalogue_product(question: str, products: Sequence[Hit], language: str) -> Hit | None:
    """The product the question names by a word of its name that no other product's name has ("longjing", "电水壶"),
    in ``language`` when the catalogue has it; None when it names none, or two alike. Found over the whole catalogue,
    so a product ranked low by retrieval is still the one asked about."""
    holders, passages = name_index(products)
    asked = {t for t in terms(question) if len(t) >= (2 if _HAN_RUN.fullmatch(t) else 4) and not t[0].isdigit()}
    counts: dict[str, int] = {}
    for term in asked:
        if len(holders.get(term, ())) == 1:
            (sku,) = holders[term]
            counts[sku] = counts.get(sku, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    found = passages[ranked[0][0]]
    return next((hit for hit in found if hit.metadata.get("language") == language), found[0])


_NAME_INDEXES: dict[int, tuple[Sequence[Hit], dict[str, set[str]], dict[str, list[Hit]]]] = {}
"""Name words → SKUs and SKU → passages, per catalogue (kept with it, so an id is never reused for another)."""


def name_index(products: Sequence[Hit]) -> tuple[dict[str, set[str]], dict[str, list[Hit]]]:
    """Which SKUs' names hold each word, and each SKU's passages: built once per catalogue, not in every turn."""
    cached = _NAME_INDEXES.get(id(products))
    if cached is not None and cached[0] is products:
        return cached[1], cached[2]
    holders: dict[str, set[str]] = {}
    passages: dict[str, list[Hit]] = {}
    for hit in products:
        sku = str(hit.metadata.get("sku") or hit.id)
        passages.setdefault(sku, []).append(hit)
        for word in terms(hit.title):
            holders.setdefault(word, set()).add(sku)
    if len(_NAME_INDEXES) > 16:
        _NAME_INDEXES.clear()
    _NAME_INDEXES[id(products)] = (products, holders, passages)
    return holders, passages


def asks_product_facts(question: str) -> bool:
    """Whether the question asks what the catalogue's fields hold: stock, price, colours, sizes or variants."""
    return bool(_PRODUCT_FACT.search(question))


def description_of(hit: Hit) -> str:
    """A product passage's description, without the facts sentences the knowledge base appends."""
    return _FACTS_START.split(hit.text, maxsplit=1)[0].strip()


def sizes_of(hit: Hit) -> list[str]:
    """The sizes a product passage lists."""
    return [str(size) for size in hit.metadata.get("sizes") or ()]


def asked_sizes(question: str, hit: Hit) -> list[str]:
    """The sizes ``question`` names for the product of ``hit``: those it lists, and size-like words it does not
    (an "XL" for a product made in S-L, a "42码" for a bag), in the question's order."""
    sizes = sizes_of(hit)
    numeric = any(size.replace(".", "").isdigit() for size in sizes)
    found: dict[str, int] = {}
    for match in _UPPER_SIZE.finditer(question):
        found.setdefault(match.group(1), match.start())
    for match in _NAMED_SIZE.finditer(question):
        found.setdefault((match.group(1) or match.group(2)).upper(), match.start())
    if numeric or _SIZE_WORD.search(question):
        for match in _NUMBER_SIZE.finditer(question):
            found.setdefault(match.group(1), match.start())
    asked_quantities = {_quantity(m): m.start() for m in _QUANTITY.finditer(question)}
    for size in sizes:  # sizes with a unit ("100 g"), asked in either language's unit ("100g", "100克")
        quantity = _QUANTITY.fullmatch(size.strip())
        if quantity and _quantity(quantity) in asked_quantities:
            found.setdefault(size.upper(), asked_quantities[_quantity(quantity)])
    by_upper = {size.upper(): size for size in sizes}
    return [by_upper.get(size, size) for size in sorted(found, key=found.__getitem__)]


_MATCHERS: dict[int, tuple[Mapping[str, str], re.Pattern[str] | None]] = {}
"""Compiled colour patterns by vocabulary (kept with it, so an id is never reused for another one)."""


def colour_matcher(vocabulary: Mapping[str, str]) -> re.Pattern[str] | None:
    """A pattern finding the vocabulary's colours in a question, English (whole words) or Chinese ("灰色", "灰的"),
    longest names first; compiled once per vocabulary."""
    cached = _MATCHERS.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    pattern = _compile_colours(vocabulary)
    if len(_MATCHERS) > 64:
        _MATCHERS.clear()
    _MATCHERS[id(vocabulary)] = (vocabulary, pattern)
    return pattern


def _compile_colours(vocabulary: Mapping[str, str]) -> re.Pattern[str] | None:
    names = set(vocabulary) | set(vocabulary.values())
    names |= {name[0] + "的" for name in vocabulary.values() if len(name) == 2 and name.endswith("色")}
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i)(?<![a-z])(?:{alternatives})(?![a-z])")


def asked_colours(question: str, vocabulary: Mapping[str, str], matcher: re.Pattern[str] | None) -> list[str]:
    """The colours ``question`` names, as English vocabulary keys (one per Chinese name), in order."""
    if matcher is None:
        return []
    by_chinese: dict[str, str] = {}
    for english, chinese in vocabulary.items():
        by_chinese.setdefault(chinese, english)
        if len(chinese) == 2 and chinese.endswith("色"):
            by_chinese.setdefault(chinese[0] + "的", english)
    found: list[str] = []
    for match in matcher.finditer(question):
        word = match.group(0)
        english = by_chinese.get(word) or word.lower()
        key = by_chinese.get(vocabulary.get(english, ""), english)
        if key not in found:
            found.append(key)
    return found


def colour_matches(asked: str, colour: str, vocabulary: Mapping[str, str]) -> bool:
    """Whether a product's ``colour`` is the ``asked`` one, or a shade of it ("heather grey" for "grey")."""
    colour = colour.lower()
    if colour == asked or vocabulary.get(colour, colour) == vocabulary.get(asked, asked):
        return True
    chinese = vocabulary.get(asked, "")
    return asked in colour.split() or (bool(chinese) and chinese in vocabulary.get(colour, ""))


def product_facts(hit: Hit) -> Mapping[str, Any]:
    """The structured fields of a product passage (empty for other passages)."""
    return hit.metadata if hit.metadata.get("kind") == "product" else {}
