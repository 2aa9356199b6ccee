"""The pipeline over batched engines, with the order actions: what ``kefu run``, ``ask`` and the benches answer with."""

from __future__ import annotations

from bot.actions.base import Action, OrderBackend
from bot.actions.orders import CancelOrderAction, OrderStatusAction, StartReturnAction
from bot.app.components import Components
from bot.catalogue import Catalogue
from bot.config import Settings
from bot.engines import Engines
from bot.metrics import Metrics
from bot.pipeline import Pipeline, PipelineLimits, Shop
from bot.policy import Policy


def build_pipeline(
    settings: Settings,
    components: Components,
    *,
    orders: OrderBackend | None = None,
    metrics: Metrics | None = None,
    batch_size: int | None = None,
) -> Pipeline:
    """The pipeline over batched engines, with the order actions over ``orders`` (none: it answers from the
    knowledge base only); ``batch_size=1`` turns micro-batching off (for benchmarks)."""
    options = settings.pipeline
    engines = Engines(
        encoder=components.encoder,
        retriever=components.knowledge_base,
        intents=components.intents,
        transcriber=components.transcriber,
        describer=components.describer,
        max_batch_size=batch_size or options.batch_max_size,
        transcriber_batch_size=1 if batch_size == 1 else None,
        k=settings.kb.k,
        retrievers=components.knowledge_bases,
        observer=metrics.observe_stage if metrics else None,
    )
    if metrics is not None:
        metrics.watch_batches(engines.batchers)
    return Pipeline(
        engines=engines,
        policy=Policy(min_relevance=components.min_relevance, unsure_limit=settings.shop.handoff_after_unsure),
        generator=components.generator,
        limits=PipelineLimits(
            max_text_chars=options.max_text_chars,
            max_audio_bytes=settings.speech.max_bytes,
            max_image_bytes=settings.vision.max_bytes,
            stage_timeout_s=options.stage_timeout_s,
        ),
        shop=Shop(name=settings.shop.name, hours=settings.shop.hours, hours_zh=settings.shop.hours_zh),
        observer=metrics.observe_stage if metrics else None,
        actions=build_actions(orders, catalogue=components.catalogue) if orders is not None else None,
        catalogue=components.catalogue,
        roles=components.roles,
    )


def build_actions(backend: OrderBackend, *, catalogue: Catalogue | None = None) -> dict[str, Action]:
    """The built-in actions over one order backend, by name (what the policy's ``Decision.task`` names); products
    are named from ``catalogue``."""
    actions: list[Action] = [
        OrderStatusAction(backend, catalogue=catalogue),
        StartReturnAction(backend, catalogue=catalogue),
        CancelOrderAction(backend, catalogue=catalogue),
    ]
    return {action.name: action for action in actions}
