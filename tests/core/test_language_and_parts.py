"""Reply language by script share of words, questions split into parts, and catalogue words in Chinese."""

from __future__ import annotations

import pytest

from bot.catalogue import Catalogue
from bot.generation.grounded import without_verdict
from bot.language import detect_language
from bot.questions import split_question
from kb.colours import colour_name, price_text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("can i pay with 花呗 or alipay?", "en"),
        ("is 顺丰 express free if my order is over 199?", "en"),
        ("我的order到哪了", "zh"),
        ("PayPal可以用吗", "zh"),
        ("我想退这双sneaker", "zh"),
        ("where is my parcel", "en"),
        ("我的快递到哪了", "zh"),
    ],
)
def test_the_dominant_script_decides(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_a_tie_goes_to_the_conversation_and_no_letters_to_the_hint_or_default() -> None:
    assert detect_language("退货 return", hint="en") == "en"
    assert detect_language("退货 return") == "zh"
    assert detect_language("100234", hint="zh") == "zh"
    assert detect_language("👍") == "en"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("how much is shipping in china and how long does a refund take", 2),
        ("国内运费多少？退款多久到账？", 2),
        ("怎么注册账号，验证码多久有效", 2),
        ("can I return shoes I already wore outside once?", 1),
        ("我在上海，退货扣多少运费", 1),
        ("i paid yesterday, when will it ship", 1),
        ("can you check on my order? placed it on monday", 1),
        ("hello? is this the shop?", 1),
        ("do you take paypal? and can i pay in installments", 2),
        ("", 1),
    ],
)
def test_questions_are_split_only_where_each_part_asks(text: str, parts: int) -> None:
    assert len(split_question(text)) == parts


def test_a_short_follow_on_question_carries_the_previous_subject() -> None:
    first, second = split_question("do you ship with 京东 to beijing and how long")
    assert second.startswith(first)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes. Shoes can be returned if unworn.", "Shoes can be returned if unworn."),
        ("Yes, SF Express costs ¥25.", "SF Express costs ¥25."),
        ("可以。鞋子签收后30天内可退。", "鞋子签收后30天内可退。"),
        ("Yesterday we shipped it.", "Yesterday we shipped it."),
        ("Yes.", "Yes."),
    ],
)
def test_a_leading_bare_verdict_is_dropped(text: str, expected: str) -> None:
    assert without_verdict(text) == expected


def test_the_catalogue_names_products_and_categories_in_the_language() -> None:
    catalogue = Catalogue.from_products(
        [
            ("Rain Shell", {"sku": "S-1", "language": "en", "category": "outerwear"}),
            ("防水外套", {"sku": "S-1", "language": "zh", "category": "outerwear"}),
            ("", {"sku": "S-2", "language": "en"}),
        ]
    )
    assert catalogue.name("S-1", "zh") == "防水外套" and catalogue.name("S-1", "fr") == "Rain Shell"
    assert catalogue.name("S-9", "en") == "S-9"
    assert catalogue.category_names("zh") == ["外套"] and catalogue.category_names("en") == ["outerwear"]


def test_colours_and_prices_are_written_the_chinese_way() -> None:
    assert colour_name("Navy", "zh") == "藏青色" and colour_name("navy", "en") == "navy"
    assert colour_name("ultraviolet", "zh") == "ultraviolet"
    assert price_text("499", "CNY", "zh") == "499元" and price_text("499", "CNY", "en") == "499 CNY"
    assert price_text("10", "XYZ", "zh") == "10 XYZ"


def test_a_written_answer_may_quote_names_in_the_other_script() -> None:
    from bot.language import written_in

    assert written_in("Cloudstep Leather Sneaker 售价499元，有黑色和白色。", "zh")
    assert written_in("Yes, you can pay with Alipay Huabei (花呗).", "en")
    assert not written_in("Shoes can be returned within 30 days.", "zh")
    assert not written_in("鞋子签收后30天内可退。", "en")
