"""Policy rules on plain facts (the conversation tests exercise them through the real engines)."""

from __future__ import annotations

import pytest

from bot.intents.roles import default_role
from bot.memory import is_follow_up
from bot.messages import HUMAN_PAYLOAD
from bot.policy import (
    CANCEL_ORDER,
    ORDER_STATUS,
    START_RETURN,
    Move,
    Policy,
    TurnFacts,
    asks_if_sold,
    asks_to_cancel,
    asks_to_return,
    escalation_kind,
    money_dispute,
    passage_rules_out,
    strongly_negative,
)
from kb.chunks import Hit

POLICY = Policy(min_relevance=0.4, min_confidence=0.5)
GOOD = Hit("faq-1", "Returns", "30 days.", 0.03, {"dense_score": 0.6, "language": "en"})
WEAK = Hit("faq-2", "Gift cards", "Gift cards never expire.", 0.03, {"dense_score": 0.15, "language": "en"})


def facts(text: str = "x", intent: str | None = None, confidence: float = 0.9, **more: object) -> TurnFacts:
    """Facts of a turn whose intent has the role of its name (the demo store's intents), unless ``role`` is given."""
    role = default_role(intent) if intent is not None else None
    defaults: dict[str, object] = {"out_of_scope": intent == "other", "hits": (WEAK,), "role": role}
    return TurnFacts(text=text, language="en", intent=intent, confidence=confidence, **(defaults | more))  # type: ignore[arg-type]


def test_the_human_button_and_the_human_agent_intent_escalate() -> None:
    assert POLICY.decide(facts(payload=HUMAN_PAYLOAD, hits=(GOOD,))).action is Move.ESCALATE
    decision = POLICY.decide(facts("a person please", "human_agent", 0.8, hits=(GOOD,)))
    assert decision.action is Move.ESCALATE and "human_agent (0.80)" in decision.reason


def test_low_confidence_twice_in_a_row_escalates() -> None:
    first = POLICY.decide(facts("hmm", "greeting", 0.3))
    assert first.action is Move.CLARIFY and first.unsure
    second = POLICY.decide(facts("hmm", "greeting", 0.3, low_confidence_streak=1))
    assert second.action is Move.ESCALATE and "2 turns in a row" in second.reason


def test_a_complaint_escalates_only_with_strong_negative_wording() -> None:
    calm = POLICY.decide(facts("my parcel arrived late", "complaint", 0.9, hits=(GOOD,)))
    assert calm.action is Move.ANSWER
    angry = POLICY.decide(facts("this is unacceptable, worst shop ever", "complaint", 0.9, hits=(GOOD,)))
    assert angry.action is Move.ESCALATE and "strong negative" in angry.reason


def test_nothing_good_enough_never_becomes_an_answer() -> None:
    in_scope = POLICY.decide(facts("how long is the warranty on laptops", "product_info", 0.9))
    assert in_scope.action is Move.ESCALATE and "no passage good enough" in in_scope.reason
    off_topic = POLICY.decide(facts("weather in Paris", "other", 0.9))
    assert off_topic.action is Move.DECLINE
    assert POLICY.decide(facts("returns?", "return_refund", 0.9, hits=(GOOD,))).action is Move.ANSWER


def test_actions_and_pending_slots() -> None:
    asked = POLICY.decide(facts("where is my order", "order_status", 0.9))
    assert (asked.action, asked.task) == (Move.ACT, ORDER_STATUS)
    answered = POLICY.decide(facts("100234", "greeting", 0.3, slots={"order_id": "100234"}, pending=START_RETURN))
    assert (answered.action, answered.task) == (Move.ACT, START_RETURN)
    wants = POLICY.decide(facts("I want to return my shoes", "return_refund", 0.9, hits=(GOOD,)))
    assert wants.task == START_RETURN
    how = POLICY.decide(facts("how do returns work?", "return_refund", 0.9, hits=(GOOD,)))
    assert how.action is Move.ANSWER
    talking_only = POLICY.decide(facts("where is my order", "order_status", 0.9), tasks=())
    assert talking_only.action is Move.ESCALATE


@pytest.mark.parametrize(
    ("text", "angry"),
    [("you are scammers!!!", True), ("垃圾客服，气死我了", True), ("the parcel is late", False), ("还没收到货", False)],
)
def test_strong_negative_wording(text: str, angry: bool) -> None:
    assert strongly_negative(text) is angry


@pytest.mark.parametrize(
    ("text", "wants"),
    [
        ("I'd like to return this dress", True),
        ("我要退货", True),
        ("What is your return policy?", False),
        ("退货政策是什么", False),
    ],
)
def test_return_requests(text: str, wants: bool) -> None:
    assert asks_to_return(text) is wants


@pytest.mark.parametrize(
    ("text", "language", "follow"),
    [
        ("and for shoes?", "en", True),
        ("what about gift cards?", "en", True),
        ("thanks", "en", False),
        ("and then I waited for two weeks and nobody called me back", "en", False),
        ("那鞋子呢？", "zh", True),
        ("谢谢", "zh", False),
    ],
)
def test_follow_up_detection(text: str, language: str, follow: bool) -> None:
    assert is_follow_up(text, language) is follow


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice for order 100344!! fix this",
        "there's a charge on my card I don't recognise",
        "it's been 3 weeks and still no refund for my return",
        "I'll file a chargeback with my bank",
        "the order was cancelled but the money was still taken",
        "订单被重复扣款了",
        "信用卡上有一笔扣款我不认识",
        "退货三周了钱还没退",
        "再不退款我就去银行拒付",
    ],
)
def test_money_disputes_escalate_with_the_order_number(text: str) -> None:
    assert money_dispute(text)
    decision = POLICY.decide(facts(text, "payment", 0.9, hits=(GOOD,)))
    assert decision.action is Move.ESCALATE and decision.reason.startswith("money dispute")
    if "100344" in text:
        assert decision.order_id == "100344" and "order 100344" in decision.reason


@pytest.mark.parametrize(
    "text",
    [
        "When will I get my refund?",
        "退款多久能到账？",
        "how do i cancel and when do i get the money",
        "my payment failed",
    ],
)
def test_questions_about_how_money_works_are_not_disputes(text: str) -> None:
    assert not money_dispute(text)


def test_a_bare_order_number_counts_under_an_order_intent_only() -> None:
    status = POLICY.decide(facts("did my return for 100289 go through", "return_refund", 0.9, hits=(GOOD,)))
    assert (status.action, status.task) == (Move.ACT, ORDER_STATUS)
    assert POLICY.decide(facts("is 100289 a lucky number", "other", 0.9)).action is Move.DECLINE


def _product(score: float) -> Hit:
    return Hit("SKU-1#en", "Rain Shell", "Waterproof.", 0.03, {"dense_score": score, "kind": "product"})


def test_asking_for_something_no_product_matches_is_told_we_do_not_sell_it() -> None:
    assert asks_if_sold("do you sell iphones?") and asks_if_sold("你们卖手机吗") and asks_if_sold("有狗粮吗")
    assert not asks_if_sold("how long do returns take")
    unsold = POLICY.decide(facts("do you sell iphones?", "product_info", 0.9, hits=(WEAK, _product(0.1))))
    assert unsold.action is Move.DECLINE and unsold.template == "not_sold" and "not sold" in unsold.reason
    sold = POLICY.decide(facts("do you have a rain jacket?", "product_info", 0.9, hits=(_product(0.5),)))
    assert sold.action is Move.ANSWER
    strong_faq = Hit("faq-3", "Do you sell gift cards?", "Yes.", 0.03, {"dense_score": 0.75, "kind": "faq"})
    assert (
        POLICY.decide(facts("do you sell gift cards?", "product_info", 0.9, hits=(strong_faq,))).action is Move.ANSWER
    )


def test_a_passage_rules_out_a_return_only_for_what_it_refuses() -> None:
    final_sale = "Clearance items and pierced earrings cannot be returned. Defective items are covered."
    assert passage_rules_out("bought a top on clearance, can i send it back?", final_sale)
    assert not passage_rules_out("I want to return my shoes", final_sale)
    assert passage_rules_out("我要退耳钉", "耳钉出于卫生原因不支持退货。")
    assert not passage_rules_out("I want to return my shoes", "Shoes can be returned within 30 days if unworn.")


@pytest.mark.parametrize(
    ("text", "intent", "allowed"),
    [
        ("my order already shipped, can i still cancel it?", "order_status", True),
        ("已经发货了还能取消订单吗", "order_status", True),
        ("is it too late to send it back?", "return_refund", True),
        ("where is my order", "order_status", False),
        ("能帮我查一下订单吗", "order_status", False),
        ("I want to return it, can I?", "return_refund", False),
    ],
)
def test_a_question_whether_something_is_allowed_is_answered_from_the_policy(
    text: str, intent: str, allowed: bool
) -> None:
    """ "Can I still cancel it?" asks what the policy allows: a good passage answers it instead of the action."""
    decision = POLICY.decide(facts(text, intent, 0.9, hits=(GOOD,)))
    assert (decision.action is Move.ANSWER) is allowed, decision.reason


def test_an_allowed_question_keeps_the_action_with_an_order_number_or_without_a_good_passage() -> None:
    with_number = POLICY.decide(
        facts("order 100234 shipped, can i still cancel it?", "order_status", 0.9, hits=(GOOD,))
    )
    assert with_number.action is Move.ACT and with_number.task == CANCEL_ORDER  # the order says whether it can
    no_passage = POLICY.decide(facts("my order already shipped, can i still cancel it?", "order_status", 0.9))
    assert no_passage.action is Move.ACT
    pending = POLICY.decide(
        facts("can i still cancel it?", "order_status", 0.9, hits=(GOOD,), pending=ORDER_STATUS, slots={})
    )
    assert pending.action is Move.ACT


@pytest.mark.parametrize(
    ("text", "answered"),
    [
        ("人工客服几点上班？电话多少？", True),
        ("what's your customer service phone number", True),
        ("I want to talk to a real person", False),
        ("转人工", False),
    ],
)
def test_asking_how_to_reach_a_person_is_answered_asking_for_one_escalates(text: str, answered: bool) -> None:
    decision = POLICY.decide(facts(text, "human_agent", 0.95, hits=(GOOD,)))
    assert (decision.action is Move.ANSWER) is answered, decision.reason
    assert POLICY.decide(facts(text, "human_agent", 0.95)).action is Move.ESCALATE  # no passage: a person


def test_every_escalation_has_its_own_metrics_kind() -> None:
    """``kefu_escalations_total{reason}`` needs a short, bounded label: each escalating rule maps to its own kind."""
    escalations = {
        "button": facts(payload=HUMAN_PAYLOAD, hits=(GOOD,)),
        "asked_for_person": facts("a person please", "human_agent", 0.8, hits=(GOOD,)),
        "money_dispute": facts("I was charged twice for order 100258", "payment", 0.9, hits=(GOOD,)),
        "complaint": facts("this is unacceptable, worst shop ever", "complaint", 0.9, hits=(GOOD,)),
        "no_answer": facts("how long is the warranty on laptops", "product_info", 0.9),
        "unsure": facts("hmm", "greeting", 0.3, low_confidence_streak=1),
    }
    for kind, turn in escalations.items():
        decision = POLICY.decide(turn)
        assert decision.action is Move.ESCALATE, (kind, decision)
        assert escalation_kind(f"escalate: {decision.reason}; follow-up: query rewritten") == kind
    assert escalation_kind("escalate: a rule added later") == "other"
    assert escalation_kind("") == "other"


@pytest.mark.parametrize(
    ("text", "cancel"),
    [
        ("I want to cancel order 100258", True),
        ("please cancel my order", True),
        ("can you cancel it for me", True),
        ("order 100241 - cancel it please", True),
        ("取消订单100258", True),
        ("帮我把100258这单取消了", True),
        ("我想取消", True),
        ("why was my order cancelled?", False),
        ("is there a cancellation fee?", False),
        ("订单被取消了，为什么", False),
        ("where is my order", False),
    ],
)
def test_cancel_requests(text: str, cancel: bool) -> None:
    assert asks_to_cancel(text) is cancel


def test_a_cancel_request_acts_and_a_question_whether_it_is_allowed_is_answered() -> None:
    wants = POLICY.decide(facts("I want to cancel order 100258", "return_refund", 0.6, slots={"order_id": "100258"}))
    assert (wants.action, wants.task) == (Move.ACT, CANCEL_ORDER) and "cancel" in wants.reason
    allowed = POLICY.decide(facts("it already shipped, can i still cancel it?", "order_status", 0.6, hits=(GOOD,)))
    assert allowed.action is Move.ANSWER
    how = POLICY.decide(facts("怎么取消订单？", "order_status", 0.9, hits=(GOOD,)))
    assert how.action is Move.ANSWER
    how_with_number = POLICY.decide(facts("how do i cancel order 100258?", "order_status", 0.9, hits=(GOOD,)))
    assert how_with_number.task == CANCEL_ORDER
    status_only = POLICY.decide(facts("cancel order 100258", "order_status", 0.9), tasks=(ORDER_STATUS,))
    assert status_only.task != CANCEL_ORDER


def test_can_i_get_under_a_service_intent_is_not_a_product_question() -> None:
    express = POLICY.decide(facts("i need it by friday, can i get express?", "shipping", 0.7, hits=(GOOD,)))
    assert express.action is Move.ANSWER
    product = Hit("faq-1", "Returns", "30 days.", 0.03, {"dense_score": 0.41, "language": "en"})
    phone = POLICY.decide(facts("can i get a phone here?", "product_info", 0.9, hits=(product,)))
    assert phone.action is Move.DECLINE and phone.template == "not_sold"


def test_a_question_naming_a_product_under_the_floor_is_answered_from_it() -> None:
    beanie = Hit("P-1#en", "Rib Knit Beanie", "Warm beanie.", 0.6, {"dense_score": 0.3, "kind": "product"})
    named = POLICY.decide(facts("is the grey beanie available?", "product_info", hits=(beanie,)))
    assert named.action is Move.ANSWER and "names the product 'Rib Knit Beanie'" in named.reason
    unnamed = POLICY.decide(facts("is the grey hat available?", "product_info", hits=(beanie,)))
    assert unnamed.action is not Move.ANSWER
    faint = Hit("P-1#en", "Rib Knit Beanie", "Warm beanie.", 0.6, {"dense_score": 0.1, "kind": "product"})
    assert (
        POLICY.decide(facts("is the grey beanie available?", "product_info", hits=(faint,))).action is not Move.ANSWER
    )
    chitchat = POLICY.decide(facts("beanie beanie", "other", hits=(beanie,)))
    assert chitchat.action is Move.DECLINE
