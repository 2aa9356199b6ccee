"""Which device a model runs on: the one place that asks torch whether a GPU is there."""

from __future__ import annotations

from bot.config import Settings


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
