"""Product answers from the catalogue's structure, through the grounded generator and the LLM prompt: the size asked,
the colour asked, size advice from a chart, an attribute's sentence, product candidates by attribute.

The passages are real kb chunks of a small made-up catalogue (not the demo store's), loaded by kb's own loaders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import Catalogue
from bot.generation.base import GenerationRequest
from bot.generation.grounded import GroundedGenerator
from bot.generation.products import asked_sizes, attribute_scores, named_product
from bot.generation.prompting import build_messages, check_answer
from bot.generation.sizing import body_measures
from bot.intents.roles import Role
from bot.protocols import Hit
from kb.chunks import Hit as KbHit
from kb.colours import COLOURS_ZH
from kb.sources import load_source

PRODUCTS = [
    {
        "sku": "P-BOOT",
        "category": "shoes",
        "price": 650,
        "currency": "CNY",
        "sizes": ["38", "39", "40", "41"],
        "stock": {"38": 0, "39": 2, "40": 0, "41": 1},
        "colours": ["brown"],
        "en": {"name": "Fell Boot", "description": "Water-resistant nubuck boot with a grippy sole. Runs small."},
        "zh": {"name": "山岭短靴", "description": "防泼水磨砂皮短靴，防滑大底。尺码偏小。"},
    },
    {
        "sku": "P-SHELL",
        "category": "outerwear",
        "price": 480,
        "currency": "CNY",
        "sizes": ["S", "M", "L"],
        "stock": 9,
        "colours": ["heather grey", "navy"],
        "en": {"name": "Ridge Shell", "description": "Waterproof packable shell with taped seams."},
        "zh": {"name": "山脊冲锋衣", "description": "防水可收纳外套，压胶接缝。"},
    },
    {
        "sku": "P-COAT",
        "category": "outerwear",
        "price": 990,
        "currency": "CNY",
        "sizes": ["S", "M", "L"],
        "colours": ["camel"],
        "en": {"name": "Town Coat Jacket", "description": "Wool jacket, knee length."},
        "zh": {"name": "城市羊毛外套", "description": "羊毛外套，及膝长度。"},
    },
    {
        "sku": "P-PUFF",
        "category": "outerwear",
        "price": 890,
        "currency": "CNY",
        "sizes": ["S", "M", "L"],
        "colours": ["black"],
        "en": {"name": "Down Puffer Jacket", "description": "Light down jacket."},
        "zh": {"name": "轻羽绒服", "description": "轻薄羽绒外套。"},
    },
    {
        "sku": "P-HAT",
        "category": "accessories",
        "price": 80,
        "currency": "CNY",
        "stock": 0,
        "sizes": [],
        "colours": ["black", "oat"],
        "en": {"name": "Knit Hat", "description": "Ribbed knit hat; one size."},
        "zh": {"name": "针织帽", "description": "罗纹针织帽，均码。"},
    },
]
CHARTS = [
    {
        "id": "chart-shoes",
        "categories": ["shoes"],
        "rows": [{"size": str(s), "foot_cm": 24 + (s - 38) * 0.5} for s in range(38, 42)],
        "en": {"name": "Shoe chart"},
        "zh": {"name": "鞋码表"},
    },
    {
        "id": "chart-coats",
        "categories": ["outerwear"],
        "rows": [
            {"size": "S", "chest_cm": [84, 88], "height_cm": [155, 165], "weight_kg": [45, 56]},
            {"size": "M", "chest_cm": [88, 92], "height_cm": [163, 172], "weight_kg": [55, 65]},
            {"size": "L", "chest_cm": [92, 96], "height_cm": [170, 180], "weight_kg": [64, 75]},
        ],
        "en": {"name": "Coat chart"},
        "zh": {"name": "外套尺码表"},
    },
]


def _hits(path: Path, records: list[dict[str, Any]]) -> dict[str, KbHit]:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return {c.id: KbHit(id=c.id, title=c.title, text=c.text, score=0.6, metadata=c.metadata) for c in load_source(path)}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, KbHit], Catalogue]:
    folder = tmp_path_factory.mktemp("shop")
    hits = _hits(folder / "products.json", PRODUCTS)
    charts = list(_hits(folder / "charts.json", CHARTS).values())
    products = [(h.title, h.metadata) for h in hits.values()]
    return hits, Catalogue.from_products(products, colours=COLOURS_ZH, charts=charts)


async def _answer(shop: tuple[dict[str, KbHit], Catalogue], question: str, language: str, ids: Sequence[str]) -> Any:
    hits, catalogue = shop
    passages: list[Hit] = [hits[i] for i in ids]
    request = GenerationRequest(question=question, language=language, passages=passages, catalogue=catalogue)
    return await GroundedGenerator().generate(request)


async def test_one_size_asked_gets_that_sizes_stock_only(shop: Any) -> None:
    answer = await _answer(shop, "do you have the fell boot in 39?", "en", ["P-BOOT#en"])
    assert answer.text == "Fell Boot: Size 39: 2 left. Price: 650 CNY."
    assert answer.source_ids == ("P-BOOT#en",)


async def test_a_sold_out_size_is_said_with_the_sizes_in_stock(shop: Any) -> None:
    answer = await _answer(shop, "山岭短靴40码还有吗", "zh", ["P-BOOT#zh"])
    assert answer.text == "山岭短靴：40码已售罄。有货尺码：39、41。价格：650元。"


async def test_a_size_the_product_is_not_made_in_is_said_with_the_sizes_it_is(shop: Any) -> None:
    answer = await _answer(shop, "is the ridge shell available in XXL", "en", ["P-SHELL#en"])
    assert answer.text.startswith("Ridge Shell: It comes in sizes S, M, L, not XXL.")
    answer = await _answer(shop, "山脊冲锋衣有XXL码吗", "zh", ["P-SHELL#zh"])
    assert "没有XXL码，只有S、M、L码" in answer.text


async def test_a_size_with_only_a_total_stock_says_the_total_is_across_sizes(shop: Any) -> None:
    answer = await _answer(shop, "ridge shell in size M?", "en", ["P-SHELL#en"])
    assert "It comes in size M. 9 in stock across all sizes." in answer.text


async def test_a_size_asked_of_a_product_without_sizes_and_without_stock(shop: Any) -> None:
    answer = await _answer(shop, "do you have the knit hat in size M", "en", ["P-HAT#en"])
    assert "It has no sizes to choose from." in answer.text and "sold out" in answer.text
    answer = await _answer(shop, "town coat jacket in L?", "en", ["P-COAT#en"])
    assert "It comes in size L." in answer.text and "stock" not in answer.text.lower()


async def test_a_colour_not_made_is_said_plainly_in_the_reply_language(shop: Any) -> None:
    answer = await _answer(shop, "is the knit hat available in grey?", "en", ["P-HAT#en"])
    assert answer.text.startswith("Knit Hat: It comes in black and oat, not grey.")
    answer = await _answer(shop, "那个灰色的针织帽还有货吗", "zh", ["P-HAT#zh"])
    assert "没有灰色，只有黑色和燕麦色" in answer.text and "目前缺货" in answer.text
    assert not any(word in answer.text for word in ("black", "oat", "grey"))


async def test_a_shade_of_the_colour_asked_is_named_as_the_catalogue_names_it(shop: Any) -> None:
    answer = await _answer(shop, "do you have the ridge shell in grey", "en", ["P-SHELL#en"])
    assert answer.text.startswith("Ridge Shell: It comes in heather grey.")
    answer = await _answer(shop, "山脊冲锋衣有灰的吗", "zh", ["P-SHELL#zh"])
    assert "有麻灰色" in answer.text


async def test_a_colour_word_the_shop_never_heard_of_falls_back_to_the_passage(shop: Any) -> None:
    answer = await _answer(shop, "do you have the ridge shell in fuchsia-ish", "en", ["P-SHELL#en"])
    assert answer.text.startswith("Ridge Shell: Waterproof packable shell")


async def test_size_and_colour_together(shop: Any) -> None:
    answer = await _answer(shop, "fell boot in brown, size 41?", "en", ["P-BOOT#en"])
    assert answer.text == "Fell Boot: It comes in brown. Size 41: 1 left. Price: 650 CNY."


async def test_an_attribute_question_gets_the_sentence_stating_it_never_a_bare_yes(shop: Any) -> None:
    answer = await _answer(shop, "is the fell boot waterproof?", "en", ["P-BOOT#en"])
    assert answer.text.startswith("Fell Boot: The product description says: Water-resistant nubuck boot")
    assert "Yes" not in answer.text
    answer = await _answer(shop, "山岭短靴防水吗", "zh", ["P-BOOT#zh"])
    assert answer.text.startswith("山岭短靴：商品说明中写道：防泼水磨砂皮短靴")


async def test_products_are_reordered_by_the_attributes_asked(shop: Any) -> None:
    hits, _ = shop
    candidates = [hits["P-COAT#en"], hits["P-PUFF#en"], hits["P-SHELL#en"]]
    scores = attribute_scores("waterproof jacket for hiking", candidates)
    assert scores[2] > scores[0] == scores[1] > 0  # "waterproof" is rarer among the candidates than "jacket"
    answer = await _answer(shop, "got a waterproof jacket for hiking", "en", ["P-COAT#en", "P-PUFF#en", "P-SHELL#en"])
    assert answer.text.startswith("Ridge Shell:") and answer.source_ids[0] == "P-SHELL#en"


async def test_size_advice_from_the_chart_for_the_products_category_cites_the_chart(shop: Any) -> None:
    answer = await _answer(shop, "I'm 175 cm and 70 kg, which size of the ridge shell?", "en", ["P-SHELL#en"])
    assert answer.text.startswith("By our Coat chart: for height 175 cm and weight 70 kg, size L")
    assert answer.source_ids == ("chart-coats#en",)
    answer = await _answer(shop, "chest 86cm, which size of the fell boot", "en", ["P-BOOT#en"])
    assert answer.text.startswith("Fell Boot: Water-resistant")  # the shoe chart has no chest: the passage as it is


async def test_size_advice_between_sizes_takes_the_larger_and_adds_the_products_note(shop: Any) -> None:
    answer = await _answer(shop, "脚长24.7厘米，山岭短靴穿多大", "zh", ["P-BOOT#zh"])
    assert answer.text.startswith("按鞋码表，脚长24.7厘米建议选40码")
    assert "40码已售罄" in answer.text and "尺码偏小" in answer.text


async def test_size_advice_says_when_the_measures_point_to_two_sizes(shop: Any) -> None:
    answer = await _answer(shop, "我身高168体重50公斤，山脊冲锋衣穿什么码", "zh", ["P-SHELL#zh"])
    assert "建议选M码" in answer.text and "介于S码和M码之间：想宽松选M码，想合身选S码" in answer.text
    agreeing = await _answer(shop, "I'm 175 cm and 70 kg, which size of the ridge shell?", "en", ["P-SHELL#en"])
    assert "fall between" not in agreeing.text


async def test_size_advice_beyond_the_chart_says_so(shop: Any) -> None:
    answer = await _answer(shop, "chest 110 cm, what size ridge shell", "en", ["P-SHELL#en"])
    assert "is above our largest size, L" in answer.text


async def test_no_chart_for_the_category_is_said_with_the_products_size_note(shop: Any) -> None:
    answer = await _answer(shop, "head 57 cm tall 180cm, which size knit hat", "en", ["P-HAT#en"])
    assert answer.text.startswith("We have no size chart for accessories;")
    assert "one size" in answer.text and answer.source_ids == ("P-HAT#en",)
    answer = await _answer(shop, "我身高180，针织帽选哪个", "zh", ["P-HAT#zh"])
    assert answer.text.startswith("配饰没有尺码表，商品说明如下：针织帽：罗纹针织帽，均码。")


async def test_size_advice_without_a_product_picks_the_chart_holding_the_measures(shop: Any) -> None:
    _, catalogue = shop
    faq = KbHit(id="faq-sizes", title="How do sizes run?", text="See the charts.", score=0.7, metadata={"kind": "faq"})
    request = GenerationRequest(
        question="my foot is 25 cm, what size", language="en", passages=[faq], catalogue=catalogue
    )
    answer = await GroundedGenerator().generate(request)
    assert answer.text.startswith("By our Shoe chart: for foot length 25 cm, size 40")
    assert answer.source_ids == ("chart-shoes#en",)


@pytest.mark.parametrize(
    ("question", "measures"),
    [
        ("I'm 1.75m and 140斤", {"height_cm": 175.0, "weight_kg": 70.0}),
        ("我胸围90穿什么码", {"chest_cm": 90.0}),
        ("腰围 85 厘米", {"waist_cm": 85.0}),
        ("size for a 24cm foot", {"foot_cm": 24.0}),
        ("a bag that fits a 16 inch laptop", {}),
        ("order 100234, 2 shirts", {}),
    ],
)
def test_body_measures_are_read_in_both_languages(question: str, measures: dict[str, float]) -> None:
    assert body_measures(question) == measures


def test_sizes_asked_are_told_from_measures_prices_and_order_numbers(shop: Any) -> None:
    hits, _ = shop
    boot = hits["P-BOOT#en"]
    assert asked_sizes("do you have it in 39 or 40?", boot) == ["39", "40"]
    assert asked_sizes("foot 25 cm, costs 650 yuan, order #100234", boot) == []
    assert asked_sizes("ok at 40 degrees? I bought 2 weeks ago, 39°", boot) == []
    assert asked_sizes("I'm the one who asked", hits["P-SHELL#en"]) == []
    assert asked_sizes("M码还有吗", hits["P-SHELL#zh"]) == ["M"]


def test_a_question_names_a_product_by_a_word_of_its_name(shop: Any) -> None:
    hits, _ = shop
    passages = [hits["P-SHELL#en"], hits["P-HAT#en"]]
    assert named_product("is the grey hat available?", passages) is None  # "hat" has three letters
    assert named_product("is the grey knit thing available?", passages) is hits["P-HAT#en"]
    assert named_product("针织帽有灰色吗", [hits["P-SHELL#zh"], hits["P-HAT#zh"]]) is hits["P-HAT#zh"]


def test_the_llm_prompt_carries_product_data_and_the_selected_sentences(shop: Any) -> None:
    hits, catalogue = shop
    request = GenerationRequest(
        question="山岭短靴40码还有吗", language="zh", passages=[hits["P-BOOT#en"]], catalogue=catalogue
    )
    prompt = build_messages(request, shop="Test Shop")[-1]["content"]
    assert "[P-BOOT#en] Fell Boot; price 650 CNY; stock by size 38: 0, 39: 2, 40: 0, 41: 1; colours 棕色" in prompt
    assert "Selected for this question [P-BOOT#en]:\nFell Boot：40码已售罄。有货尺码：39、41。" in prompt


def test_a_cited_size_chart_passes_the_citation_check(shop: Any) -> None:
    hits, catalogue = shop
    request = GenerationRequest(
        question="I'm 175 cm, which size of the ridge shell?", language="en", passages=[hits["P-SHELL#en"]],
        catalogue=catalogue,
    )  # fmt: skip
    prompt = build_messages(request, shop="Test Shop")[-1]["content"]
    assert "[chart-coats#en] Coat chart" in prompt
    accepted, why = check_answer("Size L fits you [chart-coats#en].", request, backend="x")
    assert accepted is not None and accepted.source_ids == ("chart-coats#en",), why
    rejected, why = check_answer("Size L [chart-made-up#en].", request, backend="x")
    assert rejected is None and "unknown" in why


async def test_through_a_fake_openai_server_the_prompt_has_the_data_and_a_chart_citation_is_kept(shop: Any) -> None:
    from bot.generation.openai_compat import OpenAICompatibleGenerator
    from tests.dialogue.openai_fake import FakeOpenAI

    hits, catalogue = shop
    server = FakeOpenAI()
    await server.start()
    server.then("按外套尺码表，身高175厘米选L码 [chart-coats#zh]。")
    llm = OpenAICompatibleGenerator(base_url=server.base_url, model="fake", fallback=GroundedGenerator(), timeout_s=2.0)
    try:
        request = GenerationRequest(
            question="身高175厘米，山脊冲锋衣穿什么码",
            language="zh",
            passages=[hits["P-SHELL#zh"]],
            catalogue=catalogue,
        )
        generation = await llm.generate(request)
    finally:
        await llm.close()
        await server.stop()
    assert generation.backend == "openai" and generation.source_ids == ("chart-coats#zh",)
    sent = server.requests[-1]["messages"][-1]["content"]
    assert "[P-SHELL#zh] 山脊冲锋衣; price 480元; stock 9; sizes S, M, L; colours 麻灰色和藏青色" in sent
    assert "Selected for this question [chart-coats#zh]:\n按外套尺码表，身高175厘米建议选L码" in sent


async def test_a_return_question_naming_a_size_keeps_its_passage(shop: Any) -> None:
    hits, catalogue = shop
    request = GenerationRequest(
        question="can I return the fell boot in size 39", language="en", passages=[hits["P-BOOT#en"]],
        catalogue=catalogue, intent="return_refund",
    )  # fmt: skip
    answer = await GroundedGenerator().generate(request)
    assert answer.text.startswith("Fell Boot: Water-resistant nubuck boot")
    assert "Selected for this question" not in build_messages(request, shop="Test Shop")[-1]["content"]


@pytest.mark.parametrize(
    ("intent", "role", "structured"),
    [
        ("product_info", Role.PRODUCT_INFO, True),
        ("item_question", Role.PRODUCT_INFO, True),
        (None, None, True),
        ("returns", Role.RETURN_REFUND, False),
        ("product_info", None, False),
        ("sizing", None, False),
    ],
)
async def test_structured_product_answers_follow_the_intents_role_not_its_name(
    shop: Any, intent: str | None, role: Role | None, structured: bool
) -> None:
    hits, catalogue = shop
    request = GenerationRequest(
        question="do you have the fell boot in 39?", language="en", passages=[hits["P-BOOT#en"]],
        catalogue=catalogue, intent=intent, role=role,
    )  # fmt: skip
    answer = await GroundedGenerator().generate(request)
    assert (answer.text == "Fell Boot: Size 39: 2 left. Price: 650 CNY.") is structured
    assert ("Selected for this question" in build_messages(request, shop="Test Shop")[-1]["content"]) is structured
