"""A shop whose intents file names its intents its own way (each with the role it plays) gets the demo store's replies,
through the composition root and the real classifier trained on that file; the trace keeps the shop's names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from bot.actions.backends import SqliteOrderBackend, demo_orders_file
from bot.app import Components, build_pipeline, demo_store_dir, load_intent_classifier
from bot.app.knowledge import load_intent_roles
from bot.config import Settings, load_settings
from bot.messages import ConversationRef, Message
from bot.pipeline import Pipeline
from bot.sessions.base import Session
from bot.sessions.sqlite import Database

SHOP_NAME = {
    "greeting": "say_hello",
    "order_status": "where_is_my_order",
    "return_refund": "returns",
    "shipping": "delivery",
    "product_info": "item_question",
    "complaint": "not_happy",
    "human_agent": "talk_to_person",
    "goodbye": "see_you",
    "other": "chitchat",
}
"""The demo store's intents renamed, each keeping its role; ``payment`` keeps its name (it has no role)."""

MESSAGES = [
    "hello",
    "where is my order?",
    "订单100234到哪了",
    "I want to talk to a real person",
    "我要转人工",
    "please cancel my order 100258",
    "I want to return my shoes",
    "this is a scam, worst shop ever!!!",
    "do you sell laptops?",
    "is the chelsea boot waterproof?",
    "what's the weather like in Paris tomorrow?",
    "how long does delivery to Shanghai take?",
    "bye, thanks",
]


def renamed_intents(path: Path) -> Path:
    """The demo store's intents file with the shop's names and roles (examples unchanged)."""
    doc = yaml.safe_load((demo_store_dir() / "intents.yaml").read_text(encoding="utf-8"))
    intents = {}
    for name, body in doc["intents"].items():
        if name in SHOP_NAME:
            body = {"role": name, **body}
        intents[SHOP_NAME.get(name, name)] = body
    path.write_text(yaml.safe_dump({**doc, "intents": intents}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def orders(tmp_path: Path) -> AsyncIterator[list[SqliteOrderBackend]]:
    """Two copies of the demo orders: one for each pipeline (a cancellation changes an order)."""
    backends = []
    for copy in ("demo", "shop"):
        backend = SqliteOrderBackend(await Database.open(tmp_path / f"{copy}-orders.sqlite3"))
        await backend.setup(seed=demo_orders_file())
        backends.append(backend)
    yield backends
    for backend in backends:
        await backend.close()


@pytest.mark.slow
async def test_a_shop_with_its_own_intent_names_answers_as_the_demo_store(
    demo_settings: Settings, demo_components: Components, orders: list[SqliteOrderBackend], tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path / "data", intents={"model": renamed_intents(tmp_path / "shop.yaml")})
    classifier = load_intent_classifier(settings, demo_components.encoder, device="cpu")
    shop_components = replace(demo_components, intents=classifier, roles=load_intent_roles(settings))
    demo: Pipeline = build_pipeline(demo_settings, demo_components, orders=orders[0])
    shop: Pipeline = build_pipeline(settings, shop_components, orders=orders[1])
    moves = set()
    for number, text in enumerate(MESSAGES):
        message = Message(ConversationRef("web", str(number)), user_id="shopper", text=text)
        expected = await demo.run(message, Session(conversation=f"web:{number}"))
        got = await shop.run(message, Session(conversation=f"web:{number}"))
        assert expected.decision is not None and got.decision is not None
        assert (got.decision.action, got.decision.task, got.reply.text) == (
            expected.decision.action,
            expected.decision.task,
            expected.reply.text,
        ), text
        moves.add((got.decision.action.value, got.decision.task))
        demo_intent = expected.reply.intent
        assert demo_intent is not None and got.reply.intent == SHOP_NAME.get(demo_intent, demo_intent), text
        if got.reply.intent != demo_intent and "intent" in expected.decision.reason:
            assert f"intent {got.reply.intent} (role {demo_intent}, " in (got.reply.reason or ""), text
    assert moves == {
        ("greet", None), ("goodbye", None), ("escalate", None), ("decline", None), ("answer", None),
        ("act", "order_status"), ("act", "cancel_order"), ("act", "start_return"),
    }  # fmt: skip
