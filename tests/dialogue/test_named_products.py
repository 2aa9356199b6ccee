"""A product the shopper names by a word of its name no other product has: found over the whole catalogue (even when
retrieval ranks it low), answered from its fields when the question asks for them, never declined as "not sold".

The passages are real kb chunks of a small made-up catalogue (a tea and bag shop, not the demo store's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import Catalogue
from bot.generation.base import GenerationRequest
from bot.generation.grounded import GroundedGenerator
from bot.generation.product_answers import ordered_passages
from bot.generation.products import asked_sizes, catalogue_product
from bot.intents.roles import Role
from bot.policy import Move, Policy, TurnFacts
from kb.chunks import Hit
from kb.colours import COLOURS_ZH
from kb.sources import load_source

PRODUCTS = [
    {
        "sku": "T-OOLONG",
        "category": "tea",
        "price": 128,
        "currency": "CNY",
        "stock": 0,
        "sizes": ["50 g", "100 g"],
        "colours": [],
        "en": {"name": "Misty Peak Oolong", "description": "Rolled oolong with an orchid aroma."},
        "zh": {"name": "雾峰乌龙茶", "description": "颗粒型乌龙，兰花香。"},
    },
    {
        "sku": "T-GIFT",
        "category": "gifts",
        "price": 300,
        "currency": "CNY",
        "stock": 5,
        "sizes": [],
        "colours": [],
        "en": {"name": "Harbour Gift Box", "description": "Three 25 g tins: Misty Peak Oolong, jasmine and black tea."},
        "zh": {"name": "港湾礼盒", "description": "三罐25克：雾峰乌龙、茉莉花茶、红茶。"},
    },
    {
        "sku": "B-SLEEVE",
        "category": "bags",
        "price": 150,
        "currency": "CNY",
        "stock": 7,
        "sizes": [],
        "colours": ["grey"],
        "en": {"name": "Trail Laptop Sleeve", "description": "Felt sleeve for 13-inch laptops."},
        "zh": {"name": "行者电脑内胆包", "description": "毛毡内胆包，适合13英寸电脑。"},
    },
    {
        "sku": "B-PACK",
        "category": "bags",
        "price": 420,
        "currency": "CNY",
        "stock": 12,
        "sizes": [],
        "colours": ["black", "white"],
        "en": {"name": "Metro Pack 18L", "description": "Backpack with a padded 15-inch laptop sleeve."},
        "zh": {"name": "城际双肩包18升", "description": "双肩包，带15英寸电脑软垫隔层。"},
    },
]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Hit], Catalogue]:
    path: Path = tmp_path_factory.mktemp("shop") / "products.json"
    path.write_text(json.dumps(PRODUCTS, ensure_ascii=False), encoding="utf-8")
    hits = {c.id: Hit(id=c.id, title=c.title, text=c.text, score=0.0, metadata=c.metadata) for c in load_source(path)}
    products = list(hits.values())
    return hits, Catalogue.from_products(
        ((h.title, h.metadata) for h in products), colours=COLOURS_ZH, passages=products
    )


def test_a_word_of_one_products_name_names_it_in_the_reply_language(shop: Any) -> None:
    hits, catalogue = shop
    assert catalogue_product("is the oolong in stock", catalogue.products, "en") is hits["T-OOLONG#en"]
    assert catalogue_product("雾峰还有货吗", catalogue.products, "zh") is hits["T-OOLONG#zh"]
    assert catalogue_product("do you have the misty peak?", catalogue.products, "zh") is hits["T-OOLONG#zh"]
    assert catalogue_product("电脑内胆包有灰色吗", catalogue.products, "zh") is hits["B-SLEEVE#zh"]


def test_no_name_or_two_names_alike_name_no_product(shop: Any) -> None:
    hits, catalogue = shop
    assert catalogue_product("how long does delivery take?", catalogue.products, "en") is None
    assert catalogue_product("the tea", catalogue.products, "en") is None  # in no name; and short words never count
    assert catalogue_product("oolong or the laptop?", catalogue.products, "en") is None  # one word each
    assert catalogue_product("oolong or the laptop sleeve?", catalogue.products, "en") is hits["B-SLEEVE#en"]


def test_a_size_written_with_its_unit_is_the_size_asked(shop: Any) -> None:
    hits, _ = shop
    oolong = hits["T-OOLONG#en"]
    assert asked_sizes("can i get it in a 100 g bag?", oolong) == ["100 g"]
    assert asked_sizes("100G please", oolong) == ["100 g"]
    assert asked_sizes("有100克装的吗", hits["T-OOLONG#zh"]) == ["100 g"]
    assert asked_sizes("I paid 1100 g... no, 50 yuan", oolong) == []


async def _answer(shop: Any, question: str, language: str, retrieved: list[str], named: str) -> Any:
    hits, catalogue = shop
    product = hits[named]
    passages = [product, *(hits[i] for i in retrieved if i != named)]
    request = GenerationRequest(
        question=question, language=language, passages=passages, catalogue=catalogue, product=product
    )
    return await GroundedGenerator().generate(request), [hit.id for hit in ordered_passages(request)]


async def test_the_named_product_answers_from_its_fields_even_when_retrieval_put_another_first(shop: Any) -> None:
    answer, order = await _answer(shop, "is the oolong in stock?", "en", ["T-GIFT#en"], "T-OOLONG#en")
    assert order[0] == "T-OOLONG#en"
    assert answer.text == "Misty Peak Oolong: It is sold out right now. Price: 128 CNY."
    answer, _ = await _answer(shop, "雾峰乌龙有100克装的吗", "zh", ["T-GIFT#zh"], "T-OOLONG#zh")
    assert answer.text == "雾峰乌龙茶：有100 g码。目前缺货。价格：128元。" and answer.source_ids == ("T-OOLONG#zh",)


async def test_a_product_holding_more_of_the_question_keeps_its_place(shop: Any) -> None:
    """ "a pack for a 15 inch laptop" names the laptop sleeve by its name; the backpack holds "pack", "15in" and
    "laptop" and stays first."""
    _, order = await _answer(shop, "a pack that fits a 15 inch laptop?", "en", ["B-PACK#en"], "B-SLEEVE#en")
    assert order[0] == "B-PACK#en"


POLICY = Policy(min_relevance=0.4, min_confidence=0.5, min_product_relevance=0.3)


def _facts(shop: Any, text: str, named: str | None) -> TurnFacts:
    hits, _ = shop
    weak = Hit(id="faq-1", title="Delivery", text="We deliver in 3 days.", score=0.1, metadata={"dense_score": 0.1})
    return TurnFacts(
        text=text,
        language="en",
        intent="product_info",
        confidence=0.9,
        out_of_scope=False,
        hits=(weak,),
        role=Role.PRODUCT_INFO,
        named_product=hits[named] if named else None,
    )


def test_a_named_product_is_never_declined_as_not_sold_nor_escalated(shop: Any) -> None:
    named = POLICY.decide(_facts(shop, "can i get the oolong in 100 g?", "T-OOLONG#en"))
    assert named.action is Move.ANSWER and "Misty Peak Oolong" in named.reason
    unnamed = POLICY.decide(_facts(shop, "can i get coffee beans?", None))
    assert unnamed.action is Move.DECLINE and unnamed.template == "not_sold"
    asked = POLICY.decide(_facts(shop, "is the oolong good?", "T-OOLONG#en"))
    assert asked.action is Move.ANSWER
    assert POLICY.decide(_facts(shop, "is it good?", None)).action is Move.ESCALATE


@pytest.mark.slow  # the demo store's real engines (loaded once per session)
async def test_through_the_pipeline_a_product_named_by_one_word_is_answered_from_its_fields(
    demo_settings: Any, demo_components: Any
) -> None:
    from bot.app import build_pipeline
    from bot.messages import ConversationRef, Message
    from bot.sessions.base import Session

    pipeline = build_pipeline(demo_settings, demo_components)

    async def ask(text: str) -> Any:
        message = Message(ConversationRef("web", text), user_id="shopper", text=text)
        return await pipeline.run(message, Session(conversation=f"web:{text}"))

    stock = await ask("is the commuter backpack in stock?")
    assert stock.reply.text.startswith("Commuter Backpack 20L: In stock: ")


def test_each_catalogue_has_its_own_name_index(shop: Any) -> None:
    """The name index is built once per catalogue (at start, by the composition root), never shared with another."""
    hits, catalogue = shop
    teas = tuple(hit for hit in catalogue.products if hit.metadata.get("category") == "tea")
    assert catalogue_product("oolong or the laptop sleeve?", catalogue.products, "en") is hits["B-SLEEVE#en"]
    assert catalogue_product("oolong or the laptop sleeve?", teas, "en") is hits["T-OOLONG#en"]
    assert catalogue_product("the laptop sleeve", teas, "en") is None
