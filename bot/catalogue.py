"""The shop's catalogue as the dialogue needs it: product names by SKU and language, the categories sold, the
colour vocabulary (English → Chinese) and the size charts.

Built by the composition root from the knowledge base's product and size-chart passages, so the core never reads
a catalogue file itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.protocols import Hit

_CATEGORY_ZH = {
    "shoes": "鞋履",
    "tops": "上衣",
    "trousers": "裤装",
    "dresses": "连衣裙",
    "outerwear": "外套",
    "bags": "包袋",
    "accessories": "配饰",
    "home": "家居用品",
    "electronics": "数码配件",
}
"""Common category names in Chinese; a category not listed is shown as the catalogue spells it."""


@dataclass(frozen=True, slots=True)
class Catalogue:
    names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """SKU → language → product name."""
    categories: tuple[str, ...] = ()
    colours: Mapping[str, str] = field(default_factory=dict)
    """Colour names as catalogues write them in English → the Chinese name, to recognise a colour a shopper asks
    for in either language."""
    charts: tuple[Hit, ...] = ()
    """Size-chart passages (metadata ``categories``, ``rows``, ``language``), one per chart and language."""
    products: tuple[Hit, ...] = ()
    """Product passages (metadata ``sku``, ``language``), one per product and language: a product the shopper names
    is found here even when retrieval ranked it low."""

    @classmethod
    def from_products(
        cls,
        products: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        colours: Mapping[str, str] | None = None,
        charts: Iterable[Hit] = (),
        passages: Iterable[Hit] = (),
    ) -> Catalogue:
        """From ``(name, metadata)`` pairs of product passages (metadata with ``sku``, ``language``, ``category``);
        ``passages``: the product passages themselves."""
        names: dict[str, dict[str, str]] = {}
        categories: dict[str, None] = {}
        for name, metadata in products:
            sku = str(metadata.get("sku") or "")
            if not sku or not name:
                continue
            names.setdefault(sku, {})[str(metadata.get("language") or "")] = name
            if metadata.get("category"):
                categories[str(metadata["category"])] = None
        return cls(
            names=names,
            categories=tuple(categories),
            colours=dict(colours or {}),
            charts=tuple(charts),
            products=tuple(passages),
        )

    def name(self, sku: str, language: str) -> str:
        """The product's name in ``language`` (else in any language the catalogue has, else the SKU)."""
        names = self.names.get(sku, {})
        return names.get(language) or next(iter(names.values()), sku)

    def category_names(self, language: str) -> list[str]:
        """The categories sold, named in ``language``."""
        return [self.category_name(c, language) for c in self.categories]

    def category_name(self, category: str, language: str) -> str:
        """One category named in ``language``."""
        return _CATEGORY_ZH.get(category.lower(), category) if language == "zh" else category

    def charts_for(self, category: str | None, language: str) -> list[Hit]:
        """The size charts for ``category`` (all charts when None), in ``language`` first."""
        found = [c for c in self.charts if category is None or category in c.metadata.get("categories", ())]
        return sorted(found, key=lambda chart: chart.metadata.get("language") != language)
