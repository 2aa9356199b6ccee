"""What a photo's text must show for a product to be claimed, and how the offer and the "I can see" line read."""

from __future__ import annotations

import pytest

from bot.photos import ProductMatch, asked_colours, names_product, product_reply, seen_quote
from kb.chunks import Hit
from vision import Description, Label

SNEAKER = Hit(
    id="LL-SH-001#en",
    title="Cloudstep Leather Sneaker",
    text="",
    score=0.9,
    metadata={"sku": "LL-SH-001", "price": 499.0, "currency": "CNY", "stock": 12, "colours": ["black", "white"]},
)


@pytest.mark.parametrize(
    ("text", "name", "named"),
    [
        ("CLOUDSTEP LEATHER SNEAKER\nsize 40", "Cloudstep Leather Sneaker", True),
        ("Cloudstep Leathr Sneaker", "Cloudstep Leather Sneaker", True),  # one letter lost by OCR
        ("云步真皮休闲鞋¥499", "云步真皮休闲鞋", True),
        ("Leather Sneaker", "Cloudstep Leather Sneaker", False),  # a generic phrase is not the product
        ("Cloud Leather Boots", "Cloudstep Leather Sneaker", False),
        ("云步", "云步真皮休闲鞋", False),
        ("", "Cloudstep Leather Sneaker", False),
        ("anything at all", "ab", False),
    ],
)
def test_a_product_is_named_only_when_its_name_is_spelled(text: str, name: str, named: bool) -> None:
    assert names_product(text, name) is named


@pytest.mark.parametrize(
    ("text", "colours"),
    [
        ("does this come in red?", ["red"]),
        ("Do you have it in Grey or navy", ["navy", "grey"]),
        ("有白色吗", ["white"]),
        ("这个有咖啡色的吗", ["brown"]),
        ("is it redundant?", []),
        ("", []),
    ],
)
def test_colours_asked_are_found_in_english_and_chinese(text: str, colours: list[str]) -> None:
    assert sorted(asked_colours(text)) == sorted(colours)


def test_the_offer_states_price_colours_and_stock_and_answers_the_colour_asked() -> None:
    match = ProductMatch(SNEAKER, "sku")
    offer = product_reply([match], "does it come in red or white?", "en")
    assert offer.startswith("This looks like our Cloudstep Leather Sneaker (LL-SH-001): 499 CNY.")
    assert "Colours: black, white." in offer and "In stock: 12." in offer
    assert "Sorry, it doesn't come in red; it comes in black, white." in offer
    assert "Yes, it comes in white." in offer
    chinese = product_reply([match], "有红色吗", "zh")
    assert "颜色：黑色、白色。" in chinese and "抱歉，这款没有红色" in chinese


def test_the_seen_line_names_confident_labels_and_the_text_in_the_shoppers_language() -> None:
    description = Description(
        caption=None,
        labels=(
            Label("running shoe", 0.62, zh="跑鞋"),
            Label("sandal", 0.2, zh="凉鞋"),
            Label("clog", 0.05, zh="木屐"),
        ),
        text=("LL-SH-004", "漂流针织跑鞋"),
    )
    assert seen_quote([description], "en") == "📷 I can see: running shoe, sandal; text “LL-SH-004 / 漂流针织跑鞋”"
    assert seen_quote([description], "zh") == "📷 我看到：跑鞋、凉鞋；文字“LL-SH-004 / 漂流针织跑鞋”"
    kelpie, collie = Label("Kelpie", 0.5, zh="牧羊犬"), Label("Collie", 0.3, zh="牧羊犬")
    breeds = Description(caption=None, labels=(kelpie, collie), text=())
    assert seen_quote([breeds], "zh") == "📷 我看到：牧羊犬"  # two classes, one Chinese name: said once
    untranslated = Description(caption=None, labels=(Label("sandal", 0.5),), text=())
    assert seen_quote([untranslated], "zh") == "📷 我看到：sandal"
    blank = Description(caption=None, labels=(Label("clog", 0.05),), text=())
    assert seen_quote([blank], "en") == "📷 I can see: nothing I can name"
    captioned = Description(caption="a shoe on a table", labels=(), text=())
    assert seen_quote([captioned], "en") == "📷 I can see: a shoe on a table"
