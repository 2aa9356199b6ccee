"""The engines one bot uses, loaded from ``Settings``: encoder, knowledge base, intents, generator, speech."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.app.device import resolve_device
from bot.app.knowledge import (
    load_intent_classifier,
    load_intent_roles,
    load_rerank_encoder,
    locate_knowledge_base,
    locate_named_knowledge_bases,
)
from bot.app.photos import build_describer
from bot.catalogue import Catalogue
from bot.config import Settings
from bot.errors import ConfigError
from bot.generation.base import Generator
from bot.generation.grounded import GroundedGenerator
from bot.generation.products import name_index
from bot.intents.roles import IntentRoles
from bot.protocols import Describer, Encoder, IntentClassifier, Retriever, Transcriber

if TYPE_CHECKING:
    from kb.search import KnowledgeBase

log = logging.getLogger(__name__)


class LazyTranscriber:
    """Loads the Whisper model on the first voice note, in a worker thread, so start-up stays fast."""

    def __init__(self, load: Callable[[], Transcriber], *, batching_pays: bool, parallel_calls: int = 1) -> None:
        self._load = load
        self._engine: Transcriber | None = None
        self._loading = threading.Lock()
        self._batching_pays = batching_pays
        self._parallel_calls = parallel_calls

    @property
    def batching_pays(self) -> bool:
        return self._batching_pays

    @property
    def parallel_calls(self) -> int:
        return self._parallel_calls

    def decode_batch(self, clips: Sequence[bytes]) -> Sequence[Any]:
        return self._loaded().decode_batch(clips)

    def transcribe_batch(self, clips: Sequence[Any], *, cancel: threading.Event | None = None) -> Sequence[Any]:
        return self._loaded().transcribe_batch(clips, cancel=cancel)

    def _loaded(self) -> Transcriber:
        with self._loading:
            if self._engine is None:
                self._engine = self._load()
        return self._engine


@dataclass
class Components:
    """The loaded engines one bot (or one ``kefu ask``) uses."""

    encoder: Encoder
    knowledge_base: Retriever
    intents: IntentClassifier
    generator: Generator
    min_relevance: float
    transcriber: Transcriber | None = None
    describer: Describer | None = None
    catalogue: Catalogue = field(default_factory=Catalogue)
    """Product names and categories, from the knowledge base's product passages (empty for a KB without any)."""
    knowledge_bases: dict[str, Retriever] = field(default_factory=dict)
    """Further knowledge bases by name, that some channels answer from (``[slack.channels.C…] knowledge_base``)."""
    roles: IntentRoles = field(default_factory=IntentRoles)
    """Each intent's role, from the intents file (what the policy does with it)."""


def load_components(
    settings: Settings, *, speech: bool = True, vision: bool = True, progress: bool = False
) -> Components:
    """Load the encoder, the knowledge base (built and cached on first use, with a progress bar on stderr when
    ``progress``), intents, lazy speech and vision."""
    from kb.encoders import load_encoder

    device = resolve_device(settings)
    encoder = load_encoder(settings.kb.encoder, device=device)
    location = locate_knowledge_base(settings)
    rerank = load_rerank_encoder(settings.kb.rerank, device=device)
    evidence = settings.kb.evidence
    knowledge_base = location.open(encoder=encoder, device=device, progress=progress, rerank=rerank, evidence=evidence)
    named: dict[str, Retriever] = {
        name: where.open(encoder=encoder, device=device, progress=progress, rerank=rerank, evidence=evidence)
        for name, where in locate_named_knowledge_bases(settings).items()
    }
    intents = load_intent_classifier(settings, encoder, device=device)
    roles = load_intent_roles(settings)
    min_relevance = settings.kb.min_score or knowledge_base.recommended_min_relevance
    catalogue = catalogue_of(knowledge_base)
    return Components(
        encoder=encoder,
        knowledge_base=knowledge_base,
        intents=intents,
        generator=build_generator(settings, device=device),
        min_relevance=min_relevance,
        transcriber=build_transcriber(settings) if speech else None,
        describer=build_describer(settings, location) if vision else None,
        catalogue=catalogue,
        knowledge_bases=named,
        roles=roles,
    )


def catalogue_of(knowledge_base: KnowledgeBase) -> Catalogue:
    """The catalogue held by a knowledge base's product and size-chart passages, with kb's colour vocabulary."""
    from kb.chunks import Hit
    from kb.colours import COLOURS_ZH

    charts = [
        Hit(id=c.id, title=c.title, text=c.text, score=1.0, metadata=c.metadata)
        for c in knowledge_base.chunks
        if c.kind == "size_chart"
    ]
    passages = [  # score 0: found by name, not by retrieval
        Hit(id=c.id, title=c.title, text=c.text, score=0.0, metadata=c.metadata)
        for c in knowledge_base.chunks
        if c.kind == "product"
    ]
    products = ((hit.title, hit.metadata) for hit in passages)
    catalogue = Catalogue.from_products(products, colours=COLOURS_ZH, charts=charts, passages=passages)
    name_index(catalogue.products)  # built here, at start, not in the first turn (a large catalogue takes a while)
    return catalogue


def build_transcriber(settings: Settings) -> Transcriber | None:
    """The configured Whisper backend, loaded lazily; None when the speech extra is not installed."""
    try:
        import speech
    except ImportError:
        return None
    if not hasattr(speech, "load_transcriber"):
        return None
    device = resolve_device(settings, settings.speech.device)
    options = settings.speech

    def load() -> Transcriber:
        return speech.load_transcriber(
            backend=options.backend,
            model=options.model,
            device=device,
            max_bytes=options.max_bytes,
            max_duration_s=options.max_duration_s,
            languages=options.languages or None,
            beam_size=options.beam_size,
            batch_size=settings.pipeline.batch_max_size if batching else 1,
        )

    batching = options.batch if options.batch is not None else device == "cuda"
    parallel = 1 if batching else speech.parallel_calls(backend=options.backend, device=device)
    return LazyTranscriber(load, batching_pays=batching, parallel_calls=parallel)


def build_generator(settings: Settings, *, device: str = "auto") -> Generator:
    """``grounded`` (offline default), ``openai`` (any OpenAI-compatible server) or ``transformers`` (a local model).

    The LLM backends fall back to the grounded generator when their answer is rejected or they fail.
    """
    options = settings.generation
    grounded = GroundedGenerator()
    if options.backend == "grounded":
        return grounded
    if not options.model:
        raise ConfigError(f"generation backend {options.backend!r} needs KEFU_GENERATION__MODEL")
    if options.backend == "openai":
        if not options.base_url:
            raise ConfigError(
                "generation backend 'openai' needs KEFU_GENERATION__BASE_URL (e.g. http://127.0.0.1:8000/v1)"
            )
        from bot.generation.openai_compat import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(
            base_url=options.base_url,
            model=options.model,
            fallback=grounded,
            api_key=options.api_key.get_secret_value() if options.api_key else None,
            timeout_s=options.timeout_s,
            retries=options.retries,
            stream=options.stream,
            max_tokens=options.max_tokens,
            shop=settings.shop.name,
        )
    from bot.generation.local import TransformersGenerator

    return TransformersGenerator(
        options.model, fallback=grounded, device=device, max_new_tokens=options.max_tokens, shop=settings.shop.name
    )
