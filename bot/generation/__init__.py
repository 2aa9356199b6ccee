"""Answer generation: the ``Generator`` protocol and its backends (grounded extractive by default)."""

from bot.generation.base import Generation, GenerationRequest, Generator

__all__ = ["Generation", "GenerationRequest", "Generator"]
