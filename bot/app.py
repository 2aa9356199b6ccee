"""The composition root: the only module that picks concrete engines and adapters, from ``Settings``.

    settings = load_settings()
    components = load_components(settings)          # heavy: models and indexes (run it in a thread)
    bot = Kefu(settings, components)
    await bot.start()                               # one HTTP server, every configured channel
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.base import Adapter, load_adapter_factory
from bot.config import Settings
from bot.dialogue import Dialogue, open_dialogue
from bot.engines import Engines
from bot.errors import ConfigError
from bot.generation.base import Generator
from bot.generation.factory import build_generator
from bot.metrics import Metrics
from bot.middleware import CountTurns, ShowTyping
from bot.outbound import Channels
from bot.pipeline import Pipeline, PipelineLimits, Shop
from bot.policy import Policy
from bot.protocols import Describer, Encoder, IntentClassifier, Retriever, Transcriber
from bot.runtime import Runtime
from bot.server import HttpServer, build_http_app

if TYPE_CHECKING:
    from kb.search import KnowledgeBase
    from vision.labels import Labeller
    from vision.similar import PhotoIndex

log = logging.getLogger(__name__)

DEMO_STORE_PACKAGE = "bot.demo.store"
PHOTO_INDEX = "photos"
"""The folder inside a knowledge-base index that holds its catalogue photos' index (find by photo)."""
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


@dataclass(frozen=True, slots=True)
class KbLocation:
    """Where the knowledge base comes from: a built index folder, or sources and the folder caching their index."""

    index: Path
    """The index folder: opened as it is when ``sources`` is empty, else (re)built there when the sources change."""
    sources: tuple[Path, ...] = ()
    """The source files (folders expanded); empty for an index built elsewhere (``kefu kb build --out``)."""

    def open(self, *, encoder: Encoder, device: str) -> KnowledgeBase:
        """The ``kb.search.KnowledgeBase``: only ever builds into ``index``, and only from ``sources``."""
        from kb.build import load_index, open_or_build

        if not self.sources:
            return load_index(self.index, encoder=encoder, device=device)
        return open_or_build(self.sources, cache_dir=self.index, encoder=encoder)


def locate_knowledge_base(settings: Settings, *, paths: Sequence[Path] = ()) -> KbLocation:
    """The one place that decides which knowledge base to use (``kefu run/ask/chat``, ``kefu kb``, benchmarks).

    ``paths`` (``kefu kb search --kb``, ``kefu kb build SRC...``), else ``KEFU_KB__PATH``, else the demo store. One
    folder holding a built index is used as it is; files or folders of sources are indexed into a folder of the data
    dir named after them, so two knowledge bases never overwrite each other's index. ``ConfigError`` when a path is
    neither an index nor sources.
    """
    from kb.build import is_index
    from kb.errors import SourceError
    from kb.sources import SUPPORTED_SUFFIXES, collect

    named = list(paths) or ([settings.kb.path] if settings.kb.path is not None else [demo_store_dir()])
    if len(named) == 1 and is_index(named[0]):
        return KbLocation(index=named[0])
    neither = "neither a knowledge-base index (`kefu kb build --out`) nor sources to index"
    for path in named:
        if path.is_file() and path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise ConfigError(f"{path} is {neither}: kb loads {', '.join(sorted(SUPPORTED_SUFFIXES))} files")
    try:
        sources = collect(named)
    except SourceError as error:
        raise ConfigError(f"{', '.join(map(str, named))} is {neither}: {error}") from None
    key = hashlib.sha256("\n".join(sorted(str(path.resolve()) for path in named)).encode()).hexdigest()[:12]
    folder = f"{named[0].resolve().name or 'sources'}-{key}"
    return KbLocation(index=settings.data_dir / "kb" / folder, sources=tuple(sources))


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


def load_components(settings: Settings, *, speech: bool = True, vision: bool = True) -> Components:
    """Load the encoder, the knowledge base (built and cached on first use), intents, lazy speech and vision."""
    from kb.encoders import load_encoder

    device = resolve_device(settings)
    encoder = load_encoder(settings.kb.encoder, device=device)
    location = locate_knowledge_base(settings)
    knowledge_base = location.open(encoder=encoder, device=device)
    intents = load_intent_classifier(settings, encoder, device=device)
    min_relevance = settings.kb.min_score or float(getattr(knowledge_base, "recommended_min_relevance", 0.5))
    return Components(
        encoder=encoder,
        knowledge_base=knowledge_base,
        intents=intents,
        generator=build_generator(settings, device=device),
        min_relevance=min_relevance,
        transcriber=build_transcriber(settings) if speech else None,
        describer=build_describer(settings, location) if vision else None,
    )


def build_describer(settings: Settings, location: KbLocation | None = None) -> Describer | None:
    """The configured photo describer (its models load on the first photo); None when vision is off or its
    packages are missing (photos then get the "not enabled" answer), with a log line saying why. With the
    knowledge base's ``location``, the catalogue's photos (if any) are searched for look-alikes."""
    options = settings.vision
    if options.backend == "off":
        return None
    try:
        import vision
    except ImportError as error:
        log.warning("photos are off: the vision engine cannot be imported (%s)", error)
        return None
    try:
        describer = vision.load_describer(
            backend=options.backend,
            model=options.model,
            device=resolve_device(settings, options.device),
            labels=options.labels,
            ocr=options.ocr,
            limits=vision.ImageLimits(
                max_bytes=options.max_bytes, max_pixels=options.max_pixels, max_side=options.max_side
            ),
            base_url=options.base_url,
            api_key=options.api_key.get_secret_value() if options.api_key else None,
            timeout_s=options.timeout_s,
        )
    except ImportError as error:
        log.warning("photos are off: %s", error)
        return None
    except ValueError as error:
        raise ConfigError(f"vision: {error}") from None
    if location is not None and describer.labeller is not None:
        try:
            describer.catalogue = open_photo_index(location, describer.labeller)
        except (OSError, ValueError) as error:
            log.warning("find by photo is off: the catalogue's photos could not be indexed: %s", error)
    return describer


def catalogue_photos(sources: Sequence[Path]) -> list[tuple[str, Path]]:
    """``(sku, image file)`` for each photo a product record names: ``"images": ["shoe.jpg", …]`` (``;`` between
    names in CSV), relative to the catalogue file."""
    from kb.errors import KbError
    from kb.records import parse_records, record_kind

    pairs = []
    for path in sources:
        if path.suffix.lower() not in (".json", ".yaml", ".yml", ".csv"):
            continue
        try:
            records = parse_records(path, path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, KbError):
            continue  # the text index reports a bad source
        if record_kind(records) != "product":
            continue
        for record in records:
            images = record.get("images") or []
            names = [part.strip() for part in images.split(";")] if isinstance(images, str) else list(images)
            pairs += [(str(record["sku"]), path.parent / str(name)) for name in names if str(name).strip()]
    return pairs


def open_photo_index(location: KbLocation, labeller: Labeller) -> PhotoIndex | None:
    """The index of the catalogue's photos in ``location.index/photos``: rebuilt when the photos changed, None when
    the catalogue names none. A missing photo is skipped with a log line; an unreadable one raises ``ValueError``."""
    from vision.similar import PhotoIndex

    folder = location.index / PHOTO_INDEX
    if not location.sources:
        return PhotoIndex.load(folder) if (folder / "photos.faiss").is_file() else None
    pairs = []
    for sku, path in catalogue_photos(location.sources):
        if path.is_file():
            pairs.append((sku, path))
        else:
            log.warning("catalogue photo %s of %s is missing; it is left out of find by photo", path, sku)
    if not pairs:
        return None
    stamp = hashlib.sha256(
        "\n".join(f"{sku}\t{path.resolve()}\t{path.stat().st_size}\t{path.stat().st_mtime_ns}" for sku, path in pairs)
        .encode()
    ).hexdigest()
    if (folder / "fingerprint").is_file() and (folder / "fingerprint").read_text(encoding="utf-8") == stamp:
        return PhotoIndex.load(folder)
    index = PhotoIndex.build(labeller, [(sku, path.read_bytes()) for sku, path in pairs])
    index.save(folder)
    (folder / "fingerprint").write_text(stamp, encoding="utf-8")
    log.info("indexed %d catalogue photos of %d products for find by photo", len(index), len(set(index.ids)))
    return index


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
    settings: Settings,
    names: Sequence[str],
    *,
    speech: bool = False,
    vision: bool = False,
    metrics: Metrics | None = None,
) -> list[Adapter]:
    """The channels ``names``, built and their settings checked (nothing connects yet); a channel that cannot be
    built is a ``ConfigError`` naming it. ``speech``/``vision``: the engines that take voice notes and photos."""
    adapters: list[Adapter] = []
    for name in names:
        try:
            adapters.append(_build_adapter(settings, name, speech=speech, vision=vision, metrics=metrics))
        except (ConfigError, LookupError, TypeError, ValueError) as error:
            raise ConfigError(f"channel {name!r}: {getattr(error, 'user_message', None) or error}") from error
    return adapters


def check_channels(settings: Settings) -> list[str]:
    """The configured channels' names, once each was built with its settings (before any model loads)."""
    return [adapter.name for adapter in build_adapters(settings, configured_channels(settings))]


def _build_adapter(
    settings: Settings, name: str, *, speech: bool, vision: bool, metrics: Metrics | None
) -> Adapter:
    if name == "web":
        from adapters.web import WebChatAdapter

        return WebChatAdapter(
            max_text_chars=settings.pipeline.max_text_chars,
            max_upload_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
            speech_enabled=speech,
            vision_enabled=vision,
            title=settings.shop.name,
        )
    if name == "telegram":
        from adapters.telegram import TelegramAdapter

        options = settings.telegram
        if options.token is None:
            raise ConfigError("the telegram channel needs KEFU_TELEGRAM__TOKEN (or TELEGRAM_BOT_TOKEN)")
        return TelegramAdapter(
            token=options.token.get_secret_value(),
            api_base=options.api_base,
            mode=options.mode,
            webhook_secret=options.webhook_secret.get_secret_value() if options.webhook_secret else None,
            webhook_url=options.webhook_url,
            on_feedback=metrics.record_feedback if metrics else None,
            max_download_bytes=max(settings.speech.max_bytes, settings.vision.max_bytes),
        )
    if name == "console":
        from adapters.console import ConsoleAdapter

        return ConsoleAdapter()
    return load_adapter_factory(name)(settings=dict(settings.adapters.get(name, {})))


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
            settings,
            channels or configured_channels(settings),
            speech=components.transcriber is not None,
            vision=components.describer is not None,
            metrics=self.metrics,
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

    async def start(self) -> None:
        """Open the store, desk and order backend, take up what the last run left unanswered, then the server
        and every channel."""
        dialogue = self.dialogue = await open_dialogue(self.settings, pipeline=self.pipeline)
        channels = Channels()
        for adapter in self.adapters:
            channels.add(adapter, live=False)
        options = self.settings.pipeline
        self._runtime = Runtime(
            dialogue.conversations.handle,
            outbound=channels,
            inbox=dialogue.inbox,
            middlewares=[CountTurns(self.metrics), ShowTyping(channels, quiet=dialogue.conversations.operator_owns)],
            concurrency=options.concurrency,
            queue_size=options.queue_size,
            turn_timeout_s=options.turn_timeout_s,
        )
        await self._runtime.resume()
        dialogue.start_outbox(self._runtime.deliver)
        if self.http is not None:
            await self.http.start()
        for adapter in self.adapters:
            await adapter.start(self._runtime.dispatch)
            channels.go_live(adapter.name)
        where = f" on {self.http.url}" if self.http else ""
        log.info("kefu is serving %s%s", ", ".join(a.name for a in self.adapters), where)

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
