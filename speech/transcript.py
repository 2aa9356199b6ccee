"""The result of transcribing one voice note, the same from every backend."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

TIME_PRECISION_S = 0.02
"""Whisper's timestamp tokens step in 20 ms."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech with its times in seconds from the start of the note."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """What a transcriber returns for one clip (satisfies ``bot.protocols.Transcript``)."""

    text: str
    language: str
    """ISO 639-1 code Whisper detected, e.g. ``"en"`` or ``"zh"``; it sets the reply language."""
    language_probability: float
    segments: tuple[Segment, ...]
    duration_s: float
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Where the time went: ``audio`` (decoding), ``model`` (the batch's model call), ``total``."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


class _Tokenizer:
    """What ``split_segments`` needs of a Whisper tokenizer (faster-whisper's and openai-whisper's both fit)."""

    eot: int
    timestamp_begin: int
    decode: Callable[[list[int]], str]


def split_segments(tokens: Sequence[int], tokenizer: _Tokenizer, *, duration_s: float) -> tuple[str, list[Segment]]:
    """The text and the timed segments of a token sequence that carries Whisper's timestamp tokens."""
    text_tokens = [t for t in tokens if t < tokenizer.eot]
    segments: list[Segment] = []
    start = 0.0
    current: list[int] = []
    for token in tokens:
        if token >= tokenizer.timestamp_begin:
            time = round(min((token - tokenizer.timestamp_begin) * TIME_PRECISION_S, duration_s), 2)
            if current:
                segments.append(Segment(start, time, tokenizer.decode(current).strip()))
                current = []
            start = time
        elif token < tokenizer.eot:
            current.append(token)
    if current:
        segments.append(Segment(start, round(duration_s, 2), tokenizer.decode(current).strip()))
    return tokenizer.decode(text_tokens).strip(), [s for s in segments if s.text]


def compression_ratio(text: str) -> float:
    """How well ``text`` compresses; above about 2.4 Whisper is repeating itself (a decoding loop)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0
