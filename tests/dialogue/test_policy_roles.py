"""The policy decides on intent roles: a shop whose intents file uses its own names gets the demo store's decisions,
an intent without a role is a plain knowledge-base question, and an intent's name alone changes nothing."""

from __future__ import annotations

import pytest

from bot.intents import parse_intents
from bot.intents.roles import IntentRoles
from bot.policy import CANCEL_ORDER, ORDER_STATUS, START_RETURN, Decision, Move, Policy, TurnFacts
from kb.chunks import Hit

POLICY = Policy(min_relevance=0.4, min_confidence=0.5)
GOOD = Hit("faq-1", "Returns", "30 days.", 0.03, {"dense_score": 0.6, "language": "en"})
WEAK = Hit("faq-2", "Gift cards", "Gift cards never expire.", 0.03, {"dense_score": 0.15, "language": "en"})
CONTACT = Hit("faq-3", "Contact", "Call 400-820-1234.", 0.03, {"dense_score": 0.6, "language": "en"})

SHOP_INTENTS = """
version: 1
intents:
  say_hello: {role: greeting, examples: [hello, 你好]}
  where_is_my_order: {role: order_status, examples: [where is my parcel, 我的快递到哪了]}
  delivery: {role: shipping, examples: [do you ship to Macau, 能寄到澳门吗]}
  returns: {role: return_refund, examples: [how do returns work, 怎么退货]}
  item_question: {role: product_info, examples: [is this jacket waterproof, 这件有M码吗]}
  not_happy: {role: complaint, examples: [my parcel came broken, 东西坏了]}
  talk_to_person: {role: human_agent, examples: [a real person please, 转人工]}
  see_you: {role: goodbye, examples: [bye, 再见]}
  payment: [can I pay with alipay, 可以用花呗吗]
  chitchat: {role: other, examples: [tell me a joke, 今天天气怎么样]}
"""
SHOP_NAME = {
    "greeting": "say_hello",
    "order_status": "where_is_my_order",
    "shipping": "delivery",
    "return_refund": "returns",
    "product_info": "item_question",
    "complaint": "not_happy",
    "human_agent": "talk_to_person",
    "goodbye": "see_you",
    "payment": "payment",
    "other": "chitchat",
}
"""The demo store's intent and the shop's intent with its role."""

SHOP_ROLES = parse_intents(SHOP_INTENTS).roles
DEMO_ROLES = IntentRoles()


def facts(text: str, intent: str, roles: IntentRoles, **more: object) -> TurnFacts:
    values: dict[str, object] = {"confidence": 0.9, "out_of_scope": roles.of(intent) == "other", "hits": (WEAK,)}
    values |= more
    return TurnFacts(text=text, language="en", intent=intent, role=roles.of(intent), **values)  # type: ignore[arg-type]


def outcome(decision: Decision) -> tuple[object, ...]:
    """What a decision does, leaving out its reason (which names the intent)."""
    return decision.action, decision.task, decision.template, decision.unsure, decision.order_id


CASES = [
    ("a real person please", "human_agent", {"hits": (GOOD,)}, (Move.ESCALATE, None)),
    ("what's your hotline number?", "human_agent", {"hits": (CONTACT,)}, (Move.ANSWER, None)),
    ("this is unacceptable, worst shop ever", "complaint", {"hits": (GOOD,)}, (Move.ESCALATE, None)),
    ("my parcel arrived late", "complaint", {"hits": (GOOD,)}, (Move.ANSWER, None)),
    ("where is my order", "order_status", {}, (Move.ACT, ORDER_STATUS)),
    ("did my return for 100289 go through", "return_refund", {}, (Move.ACT, ORDER_STATUS)),
    ("when will 100289 arrive", "shipping", {}, (Move.ACT, ORDER_STATUS)),
    ("please cancel my order", "order_status", {}, (Move.ACT, CANCEL_ORDER)),
    ("please cancel my order, this is a joke", "complaint", {}, (Move.ACT, CANCEL_ORDER)),
    ("I want to return my shoes", "return_refund", {"hits": (GOOD,)}, (Move.ACT, START_RETURN)),
    ("I want to return my shoes", "complaint", {"hits": (GOOD,)}, (Move.ACT, START_RETURN)),
    ("how do returns work?", "return_refund", {"hits": (GOOD,)}, (Move.ANSWER, None)),
    ("hello", "greeting", {}, (Move.GREET, None)),
    ("bye", "goodbye", {}, (Move.GOODBYE, None)),
    ("do you sell laptops?", "product_info", {}, (Move.DECLINE, None)),
    ("can I get express delivery?", "shipping", {}, (Move.ESCALATE, None)),
    ("do you take cards?", "payment", {}, (Move.ESCALATE, None)),
    ("what's the weather in Paris", "other", {}, (Move.DECLINE, None)),
    ("hmm", "greeting", {"confidence": 0.3}, (Move.CLARIFY, None)),
    ("100289", "payment", {"pending": START_RETURN, "slots": {"order_id": "100289"}}, (Move.ACT, START_RETURN)),
    ("charged twice for 100344!!", "payment", {}, (Move.ESCALATE, None)),
]


@pytest.mark.parametrize(("text", "demo_intent", "more", "expected"), CASES)
def test_a_shop_with_its_own_intent_names_gets_the_demo_stores_decisions(
    text: str, demo_intent: str, more: dict[str, object], expected: tuple[object, ...]
) -> None:
    demo = POLICY.decide(facts(text, demo_intent, DEMO_ROLES, **more))
    shop_intent = SHOP_NAME[demo_intent]
    shop = POLICY.decide(facts(text, shop_intent, SHOP_ROLES, **more))
    assert (demo.action, demo.task) == expected
    assert outcome(shop) == outcome(demo)
    if "intent" in demo.reason:  # the reason names the shop's intent and its role
        role = f"role {demo_intent}, " if shop_intent != demo_intent else ""
        assert f"intent {shop_intent} ({role}" in shop.reason
        assert shop.reason.replace(f"intent {shop_intent} ({role}", f"intent {demo_intent} (") == demo.reason


def test_the_not_sold_decline_keeps_its_template() -> None:
    decision = POLICY.decide(facts("do you sell laptops?", "item_question", SHOP_ROLES))
    assert decision.template == "not_sold" and "item_question (role product_info, 0.90)" in decision.reason


NO_ROLES = parse_intents(
    "intents:\n  where_is_my_order: [where is my parcel, 到哪了]\n  order_status: {role: none, examples: [a, b]}\n"
    "  talk_to_person: [a real person please, 转人工]\n  human_agent: {role: none, examples: [c, d]}\n"
).roles


@pytest.mark.parametrize("intent", ["where_is_my_order", "order_status"])
def test_an_intent_without_a_role_is_a_plain_knowledge_base_question(intent: str) -> None:
    answered = POLICY.decide(facts("where is my order", intent, NO_ROLES, hits=(GOOD,)))
    assert answered.action is Move.ANSWER and f"intent {intent} (0.90)" in answered.reason
    unanswered = POLICY.decide(facts("where is my order", intent, NO_ROLES))
    assert unanswered.action is Move.ESCALATE and "no passage good enough" in unanswered.reason


@pytest.mark.parametrize("intent", ["talk_to_person", "human_agent"])
def test_asking_for_a_person_under_an_intent_without_a_role_is_answered_from_the_knowledge_base(intent: str) -> None:
    decision = POLICY.decide(facts("a real person please", intent, NO_ROLES, hits=(GOOD,)))
    assert decision.action is Move.ANSWER
    assert (
        POLICY.decide(facts("a real person please", "talk_to_person", SHOP_ROLES, hits=(GOOD,))).action is Move.ESCALATE
    )


def test_the_name_alone_decides_nothing() -> None:
    nameless = TurnFacts(
        text="a real person please", language="en", intent="human_agent", confidence=0.9, out_of_scope=False,
        hits=(GOOD,),
    )  # fmt: skip
    assert nameless.role is None and POLICY.decide(nameless).action is Move.ANSWER
