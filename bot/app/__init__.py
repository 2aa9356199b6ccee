"""The composition root: the only package that picks concrete engines, stores, desks, actions and adapters, from
``Settings``. The command line, the benchmarks and ``kefu doctor`` build everything through it.

    settings = load_settings()
    components = load_components(settings)          # heavy: models and indexes (run it in a thread)
    bot = Kefu(settings, components)
    await bot.start()                               # one HTTP server, every configured channel

``knowledge`` decides which knowledge base and intents; ``components`` loads the engines; ``pipeline`` builds the
pipeline and its actions; ``stores`` opens the SQLite store, desk, inbox and orders; ``channels`` builds the
adapters; ``kefu`` runs them together.
"""

from bot.app.channels import BUILTIN_CHANNELS, build_adapters, check_channels, configured_channels
from bot.app.components import (
    Components,
    LazyTranscriber,
    build_generator,
    build_transcriber,
    catalogue_of,
    load_components,
)
from bot.app.device import resolve_device
from bot.app.kefu import Kefu
from bot.app.knowledge import KbLocation, demo_store_dir, intents_file, load_intent_classifier, locate_knowledge_base
from bot.app.photos import PHOTO_INDEX, build_describer, catalogue_photos, load_describer, open_photo_index
from bot.app.pipeline import build_actions, build_pipeline
from bot.app.stores import Dialogue, open_dialogue, open_inbox, open_orders, open_store, probe_store

__all__ = [
    "BUILTIN_CHANNELS",
    "PHOTO_INDEX",
    "Components",
    "Dialogue",
    "KbLocation",
    "Kefu",
    "LazyTranscriber",
    "build_actions",
    "build_adapters",
    "build_describer",
    "build_generator",
    "build_pipeline",
    "build_transcriber",
    "catalogue_of",
    "catalogue_photos",
    "check_channels",
    "configured_channels",
    "demo_store_dir",
    "intents_file",
    "load_components",
    "load_describer",
    "load_intent_classifier",
    "locate_knowledge_base",
    "open_dialogue",
    "open_inbox",
    "open_orders",
    "open_photo_index",
    "open_store",
    "probe_store",
    "resolve_device",
]
