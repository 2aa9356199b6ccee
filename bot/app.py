"""The composition root: the only module that picks concrete engines and adapters, from ``Settings``.

    settings = load_settings()
    components = load_components(settings)          # heavy: models and indexes (run it in a thread)
    bot = Kefu(settings, components)
    await bot.start()                               # one HTTP server, every configured channel
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from adapters.base import Adapter, load_adapter_factory
from bot.config import Settings
from bot.dialogue import Dialogue, open_dialogue
from bot.engines import Engines
from bot.errors import ConfigError
from bot.generation.base import Generator
from bot.generation.factory import build_generator
from bot.messages import Message, Reply
from bot.metrics import Metrics
from bot.pipeline import Pipeline, PipelineLimits, Shop
from bot.policy import Policy
from bot.protocols import Describer, Encoder, IntentClassifier, Retriever, Transcriber
from bot.runtime import Runtime
from bot.server import HttpServer, build_http_app

log = logging.getLogger(__name__)

DEMO_STORE_PACKAGE = "bot.demo.store"
DEMO_KB_FILES = ("faq.en.json", "faq.zh.json", "policies.md", "products.json")
BUILTIN_CHANNELS = ("web", "telegram", "console")


def demo_store_dir() -> Path:
    """The bundled demo store's folder (installed with the package)."""
    return Path(str(files(DEMO_STORE_PACKAGE)))


def resolve_device(settings: Settings, requested: str | None = None) -> str:
    """``cuda`` when asked for or when ``auto`` finds a GPU, else ``cpu``."""
    wanted = requested if requested and requested != "auto" else settings.device
    if wanted != "auto":
        return wanted
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


class LazyTranscriber:
    """Loads the Whisper model on the first voice note, in a worker thread, so start-up stays fast."""

    def __init__(self, load: Callable[[], Transcriber], *, batching_pays: bool, parallel_calls: int = 1) -> None:
        self._load = load
        self._engine: Transcriber | None = None
        self._loading = threading.Lock()
        self.batching_pays = batching_pays
        self.parallel_calls = parallel_calls

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


def kb_sources(settings: Settings) -> list[Path]:
    """The knowledge-base sources: ``KEFU_KB__PATH`` when set, else the demo store's documents."""
    if settings.kb.path is not None:
        return [settings.kb.path]
    return [demo_store_dir() / name for name in DEMO_KB_FILES]


def intents_file(settings: Settings) -> Path:
    return settings.intents.model or demo_store_dir() / "intents.yaml"


def load_intent_classifier(settings: Settings, encoder: Encoder, *, device: str) -> IntentClassifier:
    """The configured intents: a model folder from ``kefu intents train`` (with the extra encoders its manifest
    names), else an intents file trained on first use and cached under the data dir."""
    from bot.intents import load_model, load_or_train
    from bot.intents.features import extras_from_names
    from bot.intents.persist import read_manifest
    from kb.encoders import load_encoder

    source = intents_file(settings)
    if not source.is_dir():
        return load_or_train(source, encoder=encoder, cache_dir=settings.data_dir / "intents")
    names = read_manifest(source).get("encoders", {})
    extras = extras_from_names(names, lambda name: load_encoder(name, device=device))
    return load_model(source, encoder=encoder, extras=extras, device=device)


def load_components(settings: Settings, *, speech: bool = True) -> Components:
    """Load the encoder, the knowledge base (built and cached on first use), intents, and lazy speech."""
    from kb.build import open_or_build
    from kb.encoders import load_encoder
    from kb.sources import collect

    device = resolve_device(settings)
    encoder = load_encoder(settings.kb.encoder, device=device)
    knowledge_base = open_or_build(collect(kb_sources(settings)), cache_dir=settings.data_dir / "kb", encoder=encoder)
    intents = load_intent_classifier(settings, encoder, device=device)
    min_relevance = settings.kb.min_score or float(getattr(knowledge_base, "recommended_min_relevance", 0.5))
    return Components(
        encoder=encoder,
        knowledge_base=knowledge_base,
        intents=intents,
        generator=build_generator(settings, device=device),
        min_relevance=min_relevance,
        transcriber=build_transcriber(settings) if speech else None,
    )


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


def build_pipeline(
    settings: Settings, components: Components, *, metrics: Metrics | None = None, batch_size: int | None = None
) -> Pipeline:
    """The pipeline over batched engines; ``batch_size=1`` turns micro-batching off (for benchmarks)."""
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
    )
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
        shop=Shop(name=settings.shop.name, hours=settings.shop.hours),
        observer=metrics.observe_stage if metrics else None,
    )


def configured_channels(settings: Settings) -> list[str]:
    """Channels to start: the explicit list, else those with credentials, else the web chat."""
    if settings.channels:
        return list(settings.channels)
    channels = ["telegram"] if settings.telegram.token else []
    return channels or ["web"]


def build_adapters(
    settings: Settings, components: Components, names: Sequence[str], *, metrics: Metrics | None = None
) -> list[Adapter]:
    adapters: list[Adapter] = []
    for name in names:
        if name == "web":
            from adapters.web import WebChatAdapter

            adapters.append(
                WebChatAdapter(
                    max_text_chars=settings.pipeline.max_text_chars,
                    max_upload_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
                    speech_enabled=components.transcriber is not None,
                    vision_enabled=components.describer is not None,
                    title=settings.shop.name,
                )
            )
        elif name == "telegram":
            from adapters.telegram import TelegramAdapter

            options = settings.telegram
            if options.token is None:
                raise ConfigError("the telegram channel needs KEFU_TELEGRAM__TOKEN (or TELEGRAM_BOT_TOKEN)")
            adapters.append(
                TelegramAdapter(
                    token=options.token.get_secret_value(),
                    api_base=options.api_base,
                    mode=options.mode,
                    webhook_secret=options.webhook_secret.get_secret_value() if options.webhook_secret else None,
                    webhook_url=options.webhook_url,
                    on_feedback=metrics.record_feedback if metrics else None,
                    max_download_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
                )
            )
        elif name == "console":
            from adapters.console import ConsoleAdapter

            adapters.append(ConsoleAdapter())
        else:
            adapters.append(load_adapter_factory(name)(settings=getattr(settings, name, None)))
    return adapters


class Kefu:
    """A running bot: the runtime, the pipeline, the channels and the one HTTP server."""

    def __init__(
        self,
        settings: Settings,
        components: Components,
        *,
        channels: Sequence[str] | None = None,
        serve_http: bool = True,
    ) -> None:
        self.settings = settings
        self.components = components
        self.metrics = Metrics()
        self.pipeline = build_pipeline(settings, components, metrics=self.metrics)
        self.dialogue: Dialogue | None = None
        self._runtime: Runtime | None = None
        self.adapters = build_adapters(
            settings, components, channels or configured_channels(settings), metrics=self.metrics
        )
        routes = [route for adapter in self.adapters for route in adapter.routes()]
        self.http: HttpServer | None = None
        if serve_http:
            self.http = HttpServer(
                build_http_app(routes, metrics=self.metrics, health=self.health),
                host=settings.http.host,
                port=settings.http.port,
            )

    @property
    def runtime(self) -> Runtime:
        """The runtime, built by ``start`` over the store's durable inbox."""
        if self._runtime is None:
            raise RuntimeError("the bot is not started")
        return self._runtime

    async def health(self) -> dict[str, object]:
        runtime = self._runtime
        return {
            "ok": True,
            "channels": [adapter.name for adapter in self.adapters],
            "turns": runtime.turns_done if runtime else 0,
            "failed_turns": runtime.turns_failed if runtime else 0,
            "failed_deliveries": runtime.deliveries_failed if runtime else 0,
        }

    async def _handle(self, message: Message) -> Reply | None:
        if self.dialogue is None:
            raise RuntimeError("the bot is not started")
        reply = await self.dialogue.conversations.handle(message)
        move = "relayed to a human" if reply is None else (reply.reason or "unknown").split(":", 1)[0]
        self.metrics.replies.labels(channel=message.conversation.channel, action=move).inc()
        return reply

    async def start(self) -> None:
        """Open the store, desk and order backend, take up what the last run left unanswered, then the server
        and every channel."""
        self.dialogue = await open_dialogue(self.settings, pipeline=self.pipeline)
        options = self.settings.pipeline
        self._runtime = Runtime(
            self._handle,
            inbox=self.dialogue.inbox,
            concurrency=options.concurrency,
            queue_size=options.queue_size,
            turn_timeout_s=options.turn_timeout_s,
            show_working=False,
        )
        self.dialogue.conversations.working = self._runtime.working
        await self._runtime.resume()
        self.dialogue.start_outbox(self._runtime.deliver)
        if self.http is not None:
            await self.http.start()
        for adapter in self.adapters:
            await adapter.start(self._dispatcher(adapter.name))
            self._runtime.register(adapter.name, adapter)
        where = f" on {self.http.url}" if self.http else ""
        log.info("kefu is serving %s%s", ", ".join(a.name for a in self.adapters), where)

    def _dispatcher(self, channel: str) -> Callable[[Any], Any]:
        counter = self.metrics.messages.labels(channel=channel)

        async def dispatch(message: Message) -> bool:
            counter.inc()
            return await self.runtime.dispatch(message)

        return dispatch

    async def stop(self) -> None:
        """Answer what is queued, then close the channels, the engines' threads and the server."""
        if self._runtime is not None:
            await self._runtime.stop()
        for adapter in self.adapters:
            await adapter.stop()
        if self.dialogue is not None:
            await self.dialogue.aclose()
        await self.pipeline.engines.aclose()
        close = getattr(self.components.generator, "close", None)
        if close is not None:
            await close()
        if self.http is not None:
            await self.http.stop()
        log.info("kefu stopped after %d turns", self._runtime.turns_done if self._runtime else 0)
