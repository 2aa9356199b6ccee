"""Dialogue fixtures: the demo store's real engines (once per session) and a fresh store per test (SQLite; Redis
where a test parametrises ``settings`` with ``STORES``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.actions.base import OrderBackend
from bot.app import Dialogue, build_actions, catalogue_of, open_dialogue
from bot.config import Settings, load_settings
from bot.engines import Engines
from bot.generation.base import Generator
from bot.generation.grounded import GroundedGenerator
from bot.messages import ConversationRef, Message, Reply
from bot.pipeline import Pipeline, Shop
from bot.policy import Policy
from tests.dialogue.engines import STORE, InterimIntents


@dataclass
class RealEngines:
    encoder: object
    knowledge_base: object
    intents: object
    min_relevance: float


def _intents_part_installed() -> bool:
    try:
        from bot.intents import load_or_train  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def real_engines(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RealEngines:
    """The app's own components when the intents part is installed; else the same kb with an interim intent model."""
    if _intents_part_installed():
        components = request.getfixturevalue("demo_components")
        return RealEngines(components.encoder, components.knowledge_base, components.intents, components.min_relevance)
    from bot.app import locate_knowledge_base
    from kb.encoders import load_encoder

    encoder = load_encoder("use-multilingual")
    cache = tmp_path_factory.mktemp("dialogue-kb")
    knowledge = locate_knowledge_base(load_settings(data_dir=cache)).open(encoder=encoder, device="cpu")
    relevance = knowledge.recommended_min_relevance
    return RealEngines(encoder, knowledge, InterimIntents(encoder, STORE / "intents.yaml"), relevance)


def make_pipeline(
    engines: RealEngines, *, generator: Generator | None = None, orders: OrderBackend | None = None
) -> Pipeline:
    """The pipeline over the real engines, with the order actions over ``orders`` when given."""
    catalogue = catalogue_of(engines.knowledge_base)  # type: ignore[arg-type]
    return Pipeline(
        engines=Engines(
            encoder=engines.encoder,  # type: ignore[arg-type]
            retriever=engines.knowledge_base,  # type: ignore[arg-type]
            intents=engines.intents,  # type: ignore[arg-type]
        ),
        policy=Policy(min_relevance=engines.min_relevance),
        generator=generator or GroundedGenerator(),
        shop=Shop(name="Lumen & Loom", hours="Mon-Fri 9:00-18:00 (UTC+8)"),
        actions=build_actions(orders, catalogue=catalogue) if orders is not None else None,
        catalogue=catalogue,
    )


STORES = pytest.mark.parametrize("settings", ["sqlite", "redis"], indirect=True)
"""Run a test on both stores: the embedded SQLite file and a private Redis server (the shared store)."""


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings over a fresh data dir; the store is SQLite there, or the private Redis server (``STORES``)."""
    if getattr(request, "param", "sqlite") == "redis":
        return load_settings(data_dir=tmp_path, store={"url": request.getfixturevalue("redis_url")})
    return load_settings(data_dir=tmp_path)


class Delivered:
    """Collects what the desk delivers (``Deliver``), as the runtime's courier would queue it."""

    def __init__(self) -> None:
        self.sent: list[tuple[ConversationRef, Reply]] = []

    async def __call__(self, conversation: ConversationRef, reply: Reply, *, key: str | None = None) -> None:
        self.sent.append((conversation, reply))


@pytest.fixture
def delivered() -> Delivered:
    return Delivered()


@pytest.fixture
async def dialogue(real_engines: RealEngines, settings: Settings, delivered: Delivered) -> AsyncIterator[Dialogue]:
    """Conversations over the real engines, a fresh SQLite store and the demo orders; operator replies go to
    ``delivered``."""
    opened = await open_dialogue(
        settings, pipeline=lambda orders: make_pipeline(real_engines, orders=orders), deliver=delivered
    )
    yield opened
    await opened.aclose()
    await opened.pipeline.engines.aclose()


class Shopper:
    """One shopper in one conversation: ``say`` sends a message through ``Conversations.handle``."""

    def __init__(self, dialogue: Dialogue, *, user: str = "u1", channel: str = "web", conversation: str = "c1") -> None:
        self.dialogue = dialogue
        self.user = user
        self.ref = ConversationRef(channel, conversation)
        self.count = 0

    async def say(self, text: str = "", *, payload: str | None = None) -> Reply | None:
        self.count += 1
        message = Message(self.ref, self.user, text=text, payload=payload, message_id=str(self.count))
        return await self.dialogue.conversations.handle(message)


@pytest.fixture
def shopper(dialogue: Dialogue) -> Shopper:
    return Shopper(dialogue)
