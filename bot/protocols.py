"""The engine protocols the core depends on (docs/architecture.md §4).

Engines (``speech/``, ``vision/``, ``kb/``) are plain synchronous libraries and never import ``bot``: they
satisfy these protocols structurally. Batch methods take a list and return a list of the same length in
the same order; an element may be an exception instance, which fails that item alone (see
``bot.batching``). Errors safe to show a user carry a ``user_message`` attribute.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np


class Transcript(Protocol):
    """What a transcriber returns for one clip."""

    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def duration_s(self) -> float: ...


class AudioClip(Protocol):
    """A voice note a transcriber decoded; the core reads its length to pick a lane."""

    @property
    def duration_s(self) -> float: ...


class Transcriber(Protocol):
    """Speech to text: raw audio bytes (OGG/Opus, WebM, M4A, MP3, WAV) in, transcripts out.

    ``decode_batch`` refuses what is over the limits before any model work; ``transcribe_batch`` takes
    its results (or raw bytes) and stops early once ``cancel`` is set (nobody waits for the results).
    """

    @property
    def batching_pays(self) -> bool:
        """Whether several notes in one call beat one call per note (a GPU); the core batches only then."""
        ...

    @property
    def parallel_calls(self) -> int:
        """How many calls may run side by side in threads (the CPU's cores) when notes are not batched."""
        ...

    def decode_batch(self, clips: Sequence[bytes]) -> Sequence[AudioClip | BaseException]: ...

    def transcribe_batch(
        self, clips: Sequence[Any], *, cancel: threading.Event | None = None
    ) -> Sequence[Transcript | BaseException]: ...


class Label(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def score(self) -> float: ...
    def name(self, language: str) -> str:
        """The label in the shopper's ``language`` where the describer has it, else in English."""
        ...


class Description(Protocol):
    """What a describer returns for one image: a caption (None without a captioner), labels, lines of text."""

    @property
    def caption(self) -> str | None: ...
    @property
    def labels(self) -> Sequence[Label]: ...
    @property
    def text(self) -> Sequence[str]: ...
    @property
    def timings_ms(self) -> Mapping[str, float]: ...
    @property
    def similar(self) -> Sequence[tuple[str, float]]:
        """Catalogue product ids whose photos look like this one, with cosine similarity, best first (find by
        photo; empty without a photo index)."""
        ...


class Describer(Protocol):
    """Image to words: raw image bytes (JPEG, PNG, WebP, GIF) in, a caption, labels and text read off it out.

    An image over the limits, damaged or not an image fails alone, as an exception with a ``user_message``.
    """

    def describe_batch(self, images: Sequence[bytes]) -> Sequence[Description | BaseException]: ...


@runtime_checkable
class Encoder(Protocol):
    """Texts to L2-normalised vectors, shape ``(len(texts), dim)``; one query vector serves intent and retrieval."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class Hit(Protocol):
    """One retrieved passage. For a FAQ entry ``title`` is the question and ``text`` the answer."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def metadata(self) -> Mapping[str, Any]: ...


class Retriever(Protocol):
    """Hybrid search over the knowledge base, one result list per query.

    ``filters`` has one mapping (or None) per query, e.g. ``{"language": "zh"}``; ``vectors`` are the
    queries' encodings from the same ``Encoder`` the index was built with.
    """

    @property
    def recommended_min_relevance(self) -> float:
        """The relevance under which a hit should not be trusted, as calibrated for this index and encoder."""
        ...

    def search(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        *,
        k: int = 5,
        filters: Sequence[Mapping[str, Any] | None] | None = None,
    ) -> Sequence[Sequence[Hit]]: ...


class IntentPrediction(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def out_of_scope(self) -> bool: ...


class IntentClassifier(Protocol):
    """Texts (and their query vectors) to intents with calibrated confidence and an out-of-scope flag."""

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> Sequence[IntentPrediction]: ...
