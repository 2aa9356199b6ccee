"""Policy rules on plain facts (the conversation tests exercise them through the real engines)."""

from __future__ import annotations

import pytest

from bot.memory import is_follow_up
from bot.messages import HUMAN_PAYLOAD
from bot.policy import ORDER_STATUS, START_RETURN, Move, Policy, TurnFacts, asks_to_return, strongly_negative
from kb.chunks import Hit

POLICY = Policy(min_relevance=0.4, min_confidence=0.5)
GOOD = Hit("faq-1", "Returns", "30 days.", 0.03, {"dense_score": 0.6, "language": "en"})
WEAK = Hit("faq-2", "Gift cards", "Gift cards never expire.", 0.03, {"dense_score": 0.15, "language": "en"})


def facts(text: str = "x", intent: str | None = None, confidence: float = 0.9, **more: object) -> TurnFacts:
    defaults: dict[str, object] = {"out_of_scope": intent == "other", "hits": (WEAK,)}
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
    in_scope = POLICY.decide(facts("do you sell laptops", "product_info", 0.9))
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
