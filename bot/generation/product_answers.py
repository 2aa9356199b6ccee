"""Product answers written from the catalogue's structure: the stock of the size asked, whether the colour asked
is made, size advice from a size chart, the sentence that states an attribute asked. Every figure comes from a
passage's fields or a chart's rows; the words around them are fixed sentences in each language."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.catalogue import Catalogue
from bot.generation.base import GenerationRequest
from bot.generation.products import (
    asked_colours,
    asked_sizes,
    attribute_scores,
    colour_matcher,
    colour_matches,
    description_of,
    named_product,
    rank_products,
    sizes_of,
    terms,
)
from bot.generation.sizing import Advice, advise, body_measures
from bot.generation.templates import phrase
from bot.intents.roles import Role
from bot.protocols import Hit

_SENTENCES: dict[str, dict[str, str]] = {
    "size_left": {"en": "Size {size}: {count} left.", "zh": "{size}码还有{count}件。"},
    "size_sold_out": {"en": "Size {size} is sold out.", "zh": "{size}码已售罄。"},
    "in_stock_sizes": {"en": "In stock: {sizes}.", "zh": "有货尺码：{sizes}。"},
    "no_size_in_stock": {"en": "Every size is sold out right now.", "zh": "目前所有尺码都已售罄。"},
    "size_made": {"en": "It comes in size {size}.", "zh": "有{size}码。"},
    "total_stock": {"en": "{stock} in stock across all sizes.", "zh": "全部尺码合计库存{stock}件。"},
    "size_not_made": {"en": "It comes in sizes {sizes}, not {size}.", "zh": "没有{size}码，只有{sizes}码。"},
    "no_sizes": {"en": "It has no sizes to choose from.", "zh": "这款商品没有尺码之分。"},
    "colour_made": {"en": "It comes in {colours}.", "zh": "有{colours}。"},
    "colour_not_made": {"en": "It comes in {colours}, not {asked}.", "zh": "没有{asked}，只有{colours}。"},
    "colour_stock": {"en": "{stock} in stock (all colours together).", "zh": "库存{stock}件（各颜色合计）。"},
    "sold_out": {"en": "It is sold out right now.", "zh": "目前缺货。"},
    "in_stock": {"en": "In stock: {stock}.", "zh": "库存{stock}件。"},
    "price": {"en": "Price: {price}.", "zh": "价格：{price}。"},
    "described": {"en": "The product description says: {sentence}", "zh": "商品说明中写道：{sentence}"},
    "advice": {
        "en": "By our {chart}: for {given}, size {size} ({size}: {row}).",
        "zh": "按{chart}，{given}建议选{size}码（{size}码：{row}）。",
    },
    "advice_above": {
        "en": "By our {chart}: {given} is above our largest size, {size} ({size}: {row}).",
        "zh": "按{chart}，{given}超出了最大尺码{size}码（{size}码：{row}）。",
    },
    "advice_below": {
        "en": "By our {chart}: {given} is below our smallest size, {size} ({size}: {row}).",
        "zh": "按{chart}，{given}小于最小尺码{size}码（{size}码：{row}）。",
    },
    "advice_between": {
        "en": "Your measures fall between {smaller} and {size}: {size} for a relaxed fit, {smaller} for a closer one.",
        "zh": "您的尺寸介于{smaller}码和{size}码之间：想宽松选{size}码，想合身选{smaller}码。",
    },
    "product_note": {"en": "For this product: {note}", "zh": "这款商品：{note}"},
    "no_chart": {
        "en": "We have no size chart for {category}; what the product page says:",
        "zh": "{category}没有尺码表，商品说明如下：",
    },
}
_MEASURE_WORDS = {
    "chest_cm": ("chest {v} cm", "胸围{v}厘米"),
    "waist_cm": ("waist {v} cm", "腰围{v}厘米"),
    "hips_cm": ("hips {v} cm", "臀围{v}厘米"),
    "height_cm": ("height {v} cm", "身高{v}厘米"),
    "weight_kg": ("weight {v} kg", "体重{v}公斤"),
    "foot_cm": ("foot length {v} cm", "脚长{v}厘米"),
}
_YES_NO = re.compile(r"(?i)^\s*(?:is|are|does|do|can|will|would|has|have)\b|吗[？?]?\s*$|是否|能不能|可不可以|是不是")
_SENTENCE = re.compile(r".+?(?:[!?。！？]|\.(?=\s|$)|$)")
_ASKS_STOCK = re.compile(r"(?i)\b(?:in stock|stock|available|sold out)\b|有货|现货|库存|缺货|卖完|售罄|还有吗")
_SIZE_NOTE = re.compile(r"(?i)\bsize|\bruns?\b|码")
_FACTS_START = re.compile(
    r"\s(?:Price:|In stock:|Out of stock\.|Sizes:|Colours:|价格：|库存：|暂时缺货。|尺码：|颜色：)"
)


@dataclass(frozen=True, slots=True)
class ProductAnswer:
    text: str
    source_ids: tuple[str, ...]


def say_fact(key: str, language: str, **values: Any) -> str:
    return phrase(_SENTENCES, key, language, **values)


def listing(values: Sequence[str], language: str, *, conjunction: bool = True) -> str:
    """``values`` as a list in a sentence: "black and oat", "黑色和燕麦色", "S, M, L" (no "and" for sizes)."""
    sep, last = ("、", "和") if language == "zh" else (", ", " and ")
    if conjunction and len(values) > 1:
        return sep.join(values[:-1]) + last + values[-1]
    return sep.join(values)


def _named(hit: Hit, language: str, body: str) -> str:
    return f"{hit.title}：{body}" if language == "zh" else f"{hit.title}: {body}"


def size_and_colour(question: str, hit: Hit, language: str, catalogue: Catalogue) -> ProductAnswer | None:
    """The stock of the size asked and whether the colour asked is made, for the product of ``hit``; None when the
    question names neither."""
    sizes = asked_sizes(question, hit)
    colours = asked_colours(question, catalogue.colours, colour_matcher(catalogue.colours))
    if not sizes and not colours:
        return _stock_answer(hit, language) if _ASKS_STOCK.search(question) else None
    parts = [*_colour_sentences(colours, hit, language, catalogue), *_size_sentences(sizes, hit, language)]
    if not sizes:
        parts.append(_stock_sentence(hit, language, key="colour_stock" if colours else "in_stock"))
    if hit.metadata.get("price_text"):
        parts.append(say_fact("price", language, price=hit.metadata["price_text"]))
    joiner = "" if language == "zh" else " "
    return ProductAnswer(_named(hit, language, joiner.join(p for p in parts if p)), (hit.id,))


def _stock_answer(hit: Hit, language: str) -> ProductAnswer | None:
    """Whether the product is in stock (and how many), with its price; None when the passage gives no stock."""
    stock = _stock_sentence(hit, language)
    if not stock:
        return None
    parts = [stock]
    if hit.metadata.get("price_text"):
        parts.append(say_fact("price", language, price=hit.metadata["price_text"]))
    return ProductAnswer(_named(hit, language, ("" if language == "zh" else " ").join(parts)), (hit.id,))


def _colour_sentences(asked: Sequence[str], hit: Hit, language: str, catalogue: Catalogue) -> list[str]:
    if not asked:
        return []
    colours = [str(c) for c in hit.metadata.get("colours") or ()]
    shown = [str(c) for c in hit.metadata.get("colour_names") or colours]
    if not colours:
        return []
    made = [
        shown[i] for i, colour in enumerate(colours) if any(colour_matches(a, colour, catalogue.colours) for a in asked)
    ]
    if made:
        return [say_fact("colour_made", language, colours=listing(made, language))]
    missing = [catalogue.colours.get(a, a) if language == "zh" else a for a in asked]
    return [say_fact("colour_not_made", language, colours=listing(shown, language), asked=listing(missing, language))]


def _size_sentences(asked: Sequence[str], hit: Hit, language: str) -> list[str]:
    sizes = sizes_of(hit)
    if not asked:
        return []
    if not sizes:
        return [say_fact("no_sizes", language), _stock_sentence(hit, language)]
    sep = "、" if language == "zh" else ", "
    per_size: Mapping[str, int] = hit.metadata.get("size_stock") or {}
    parts: list[str] = []
    for size in asked:
        if size not in sizes:
            parts.append(say_fact("size_not_made", language, size=size, sizes=sep.join(sizes)))
        elif size in per_size:
            count = int(per_size[size])
            key = "size_left" if count else "size_sold_out"
            parts.append(say_fact(key, language, size=size, count=count))
        else:
            parts.append(say_fact("size_made", language, size=size))
            parts.append(_stock_sentence(hit, language, key="total_stock"))
    if per_size and any(int(per_size.get(s, 0)) == 0 for s in asked if s in sizes):
        left = [s for s in sizes if int(per_size.get(s, 0)) > 0]
        parts.append(say_fact("in_stock_sizes", language, sizes=sep.join(left)) if left else "")
        parts.append("" if left else say_fact("no_size_in_stock", language))
    return list(dict.fromkeys(p for p in parts if p))


def _stock_sentence(hit: Hit, language: str, *, key: str = "in_stock") -> str:
    """The product's total stock (``key``: "in_stock", "total_stock" across sizes, "colour_stock" across colours)."""
    stock = hit.metadata.get("stock")
    if stock is None:
        return ""
    return say_fact(key, language, stock=int(stock)) if int(stock) else say_fact("sold_out", language)


def attribute(question: str, hit: Hit, language: str) -> ProductAnswer | None:
    """For a yes/no question about a product ("is the chelsea boot waterproof?"), the description's sentence that
    holds the most of the question's terms not in the product's name, introduced as what the description says (never
    a bare "yes" the text may not support); None when no sentence holds one."""
    if not _YES_NO.search(question):
        return None
    asked = terms(question) - terms(hit.title)
    if not asked:
        return None
    description = description_of(hit)
    best, best_count = "", 0
    for sentence in (s.strip() for s in _SENTENCE.findall(description)):
        held = terms(sentence)
        count = sum(1 for term in asked if term in held or (len(term) >= 5 and any(w[:5] == term[:5] for w in held)))
        if count > best_count:
            best, best_count = sentence, count
    if not best:
        return None
    parts = [say_fact("described", language, sentence=best)]
    if hit.metadata.get("price_text"):
        parts.append(say_fact("price", language, price=hit.metadata["price_text"]))
    parts.append(_stock_sentence(hit, language))
    joiner = "" if language == "zh" else " "
    return ProductAnswer(_named(hit, language, joiner.join(p for p in parts if p)), (hit.id,))


def size_advice(question: str, product: Hit | None, language: str, catalogue: Catalogue) -> ProductAnswer | None:
    """A size from the chart for the body measures the question gives: the product's category's chart when a product
    is in question (no chart for it: said so, with the product's own size note), else the chart holding those
    measures. None when the question gives no measure or the shop has no chart."""
    measures = body_measures(question)
    if not measures or not catalogue.charts:
        return None
    category = str(product.metadata.get("category") or "") if product is not None else None
    charts = catalogue.charts_for(category, language) if category else _charts_with(catalogue, measures, language)
    if product is not None and not charts:
        note = _size_note(product) or description_of(product)
        head = say_fact("no_chart", language, category=catalogue.category_name(category or "", language))
        joiner = "" if language == "zh" else " "
        return ProductAnswer(f"{head}{joiner}{_named(product, language, note)}", (product.id,))
    for chart in charts:
        advice = advise(chart.metadata.get("rows") or (), measures)
        if advice is not None:
            return _advice_answer(advice, chart, product, language)
    return None


def _charts_with(catalogue: Catalogue, measures: Mapping[str, float], language: str) -> list[Hit]:
    """Charts by how many of the measures their rows hold (the foot length picks the shoe chart)."""
    charts = [c for c in catalogue.charts_for(None, language) if c.metadata.get("language") in (None, language)]

    def held(chart: Hit) -> int:
        keys = {key for row in chart.metadata.get("rows") or () for key in row}
        return sum(1 for key in measures if key in keys) + (2 if "foot_cm" in measures and "foot_cm" in keys else 0)

    return sorted((c for c in charts if held(c)), key=held, reverse=True)


def _advice_answer(advice: Advice, chart: Hit, product: Hit | None, language: str) -> ProductAnswer:
    index = 1 if language == "zh" else 0
    given = ("、" if language == "zh" else " and ").join(
        _MEASURE_WORDS[key][index].format(v=f"{value:g}") for key, value in advice.measures.items()
    )
    row = ("，" if language == "zh" else ", ").join(
        _MEASURE_WORDS[key][index].format(v=_span(advice.row[key])) for key in advice.measures if key in advice.row
    )
    key = {"above": "advice_above", "below": "advice_below"}.get(advice.beyond or "", "advice")
    parts = [say_fact(key, language, chart=chart.title, given=given, size=advice.size, row=row)]
    if advice.smaller is not None:
        parts.append(say_fact("advice_between", language, size=advice.size, smaller=advice.smaller))
    sources: tuple[str, ...] = (chart.id,)
    if product is not None:
        per_size: Mapping[str, int] = product.metadata.get("size_stock") or {}
        note = _size_note(product)
        extra = _named(product, language, "")
        sizes = sizes_of(product)
        if advice.size in per_size:
            count = int(per_size[advice.size])
            extra += say_fact("size_left" if count else "size_sold_out", language, size=advice.size, count=count)
        elif sizes and advice.size not in sizes:
            sep = "、" if language == "zh" else ", "
            extra += say_fact("size_not_made", language, size=advice.size, sizes=sep.join(sizes))
        if note:
            extra += ("" if extra.endswith(("：", ": ")) else " ") + say_fact("product_note", language, note=note)
        if not extra.endswith(("：", ": ")):
            parts.append(extra)
            sources += (product.id,)
    return ProductAnswer(("" if language == "zh" else " ").join(parts), sources)


def _span(bounds: Sequence[float]) -> str:
    low, high = (f"{b:g}" for b in bounds)
    return low if low == high else f"{low}-{high}"


def _size_note(product: Hit) -> str:
    """The product description's sentences about its size ("Runs half a size small.")."""
    description = description_of(product)
    sentences = (s.strip() for s in _SENTENCE.findall(description))
    return " ".join(s for s in sentences if _SIZE_NOTE.search(s))


def product_answer(
    question: str,
    passages: Sequence[Hit],
    language: str,
    catalogue: Catalogue,
    *,
    intent: str | None = None,
    role: Role | None = None,
) -> ProductAnswer | None:
    """The answer from the catalogue's structure for ``question`` when it asks one, from the first of ``passages``:
    size advice (for its product, or the product the question names, else from the chart holding the measures
    given), the size or colour asked, or an attribute; None for the passage to be said as it is.

    Only a turn whose ``intent`` has the role ``product_info`` (or a turn not classified: no ``intent``) gets one: a
    return or an order question naming a size ("can I return the coat in size M") keeps its passage."""
    if not passages or (intent is not None and role is not Role.PRODUCT_INFO):
        return None
    best = passages[0]
    product = best if best.metadata.get("kind") == "product" else None
    advice = size_advice(question, product or named_product(question, passages), language, catalogue)
    if advice is not None or product is None:
        return advice
    return size_and_colour(question, product, language, catalogue) or attribute(question, product, language)


def ordered_passages(request: GenerationRequest) -> list[Hit]:
    """The request's passages as the answer considers them: the reply's language first (the retriever's order
    within each), product passages reordered by how well they hold the attributes asked (colours left out), and the
    product the question names first unless another holds more of what it asks."""
    ranked = sorted(request.passages, key=lambda hit: hit.metadata.get("language") not in (None, request.language))
    vocabulary = request.catalogue.colours
    colours = asked_colours(request.question, vocabulary, colour_matcher(vocabulary))
    words = [w for c in colours for w in (c, vocabulary.get(c, ""), vocabulary.get(c, "x")[:1] + "的") if w]
    ranked = rank_products(request.question, ranked, ignore=words)
    named = request.product
    if named is None:
        return ranked
    others = [hit for hit in ranked[:8] if hit.metadata.get("kind") == "product" and hit.id != named.id]
    scores = attribute_scores(request.question, [named, *others], ignore=words, single_han=False)
    if others and max(scores[1:]) > scores[0]:  # "a bag for a 16 inch laptop" names the laptop sleeve, wants a bag
        return ranked
    return [named, *(hit for hit in ranked if hit.id != named.id)]


def product_data(hit: Hit, language: str, catalogue: Catalogue) -> str:
    """One line of a product passage's fields for a prompt: name, price with currency, stock per size, colours in
    ``language``."""
    fields = hit.metadata
    parts = [f"[{hit.id}] {hit.title}"]
    if fields.get("price_text"):
        parts.append(f"price {fields['price_text']}")
    per_size: Mapping[str, int] = fields.get("size_stock") or {}
    if per_size:
        parts.append("stock by size " + ", ".join(f"{size}: {count}" for size, count in per_size.items()))
    elif fields.get("stock") is not None:
        parts.append(f"stock {fields['stock']}")
    if fields.get("sizes") and not per_size:
        parts.append("sizes " + ", ".join(str(size) for size in fields["sizes"]))
    colours = [str(c) for c in fields.get("colours") or ()]
    if colours:
        same = fields.get("language") == language and fields.get("colour_names")
        shown = (
            fields["colour_names"]
            if same
            else [catalogue.colours.get(c.lower(), c) if language == "zh" else c for c in colours]
        )
        parts.append("colours " + listing([str(c) for c in shown], language))
    return "; ".join(parts)
