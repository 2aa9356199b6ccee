"""The async faces of the sync engines: each engine call goes through a micro-batcher in a worker thread.

Voice notes take two steps: decoding (cheap, and bounded by the duration cap) and then transcription in
one of two lanes chosen by the decoded length, so a short note never queues behind a long one. Both
lanes cancel their work when its caller gives up or the engines close (``MicroBatcher(cancellable=True)``).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from bot.batching import MicroBatcher
from bot.protocols import (
    AudioClip,
    Describer,
    Description,
    Encoder,
    Hit,
    IntentClassifier,
    IntentPrediction,
    Retriever,
    Transcriber,
    Transcript,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
StageObserver = Callable[[str, float], None]
"""Told each stage's name and seconds (the metrics' latency histograms)."""

RetrievalQuery = tuple[str, np.ndarray, Mapping[str, Any] | None]
IntentQuery = tuple[str, np.ndarray]

LONG_NOTE_S = 30.0
"""Notes longer than Whisper's 30 s window go through its sliding-window path: many times the work."""


class Engines:
    """Batched async access to the encoder, retriever, intent classifier, transcriber and describer.

    One query vector serves intent and retrieval. ``transcriber_batch_size`` is separate because batching
    Whisper pays on a GPU and not on a CPU (speech engines say which through ``batching_pays``); on a CPU
    notes run side by side instead, one per core (``parallel_calls``). Photos likewise are batched only where
    the describer says batching pays (``batching_pays``: on CUDA). Notes over ``long_note_s`` have
    their own lane of ``long_note_workers`` threads, so short notes keep ``parallel_calls`` threads to
    themselves however many long notes are waiting.
    """

    def __init__(
        self,
        *,
        encoder: Encoder,
        retriever: Retriever,
        intents: IntentClassifier,
        transcriber: Transcriber | None = None,
        describer: Describer | None = None,
        max_batch_size: int = 32,
        transcriber_batch_size: int | None = None,
        long_note_s: float = LONG_NOTE_S,
        long_note_workers: int = 1,
        k: int = 5,
        retrievers: Mapping[str, Retriever] | None = None,
        observer: StageObserver | None = None,
    ) -> None:
        self.encoder = encoder
        self.retriever = retriever
        self.retrievers = dict(retrievers or {})
        """Further knowledge bases by name (a Slack channel's own), chosen per message by ``Message.knowledge_base``."""
        self.intent_classifier = intents
        self.transcriber = transcriber
        self.describer = describer
        self.k = k
        self.observer = observer
        """Told the seconds of each voice note (``speech``: decoding and transcription) and photo (``vision``)."""
        self._encode: MicroBatcher[str, np.ndarray] = MicroBatcher(
            self._encode_batch, name="encode", max_batch_size=max_batch_size
        )
        self._intents: MicroBatcher[IntentQuery, IntentPrediction] = MicroBatcher(
            self._intent_batch, name="intent", max_batch_size=max_batch_size
        )
        self._retrieve: MicroBatcher[RetrievalQuery, Sequence[Hit]] = MicroBatcher(
            functools.partial(self._retrieve_batch, retriever), name="retrieve", max_batch_size=max_batch_size
        )
        self._retrieve_named: dict[str, MicroBatcher[RetrievalQuery, Sequence[Hit]]] = {
            name: MicroBatcher(
                functools.partial(self._retrieve_batch, named), name=f"retrieve-{name}", max_batch_size=max_batch_size
            )
            for name, named in self.retrievers.items()
        }
        self.long_note_s = long_note_s
        self._decode_audio: MicroBatcher[bytes, AudioClip] | None = None
        self._transcribe: MicroBatcher[AudioClip, Transcript] | None = None
        self._transcribe_long: MicroBatcher[AudioClip, Transcript] | None = None
        self._describe: MicroBatcher[bytes, Description] | None = None
        if transcriber is not None:
            if transcriber_batch_size is None:
                transcriber_batch_size = max_batch_size if transcriber.batching_pays else 1
            parallel = transcriber.parallel_calls
            self._decode_audio = MicroBatcher(
                transcriber.decode_batch, name="decode-audio", max_batch_size=1, workers=parallel
            )
            self._transcribe = MicroBatcher(
                transcriber.transcribe_batch,
                name="transcribe",
                max_batch_size=transcriber_batch_size,
                workers=parallel,
                cancellable=True,
            )
            self._transcribe_long = MicroBatcher(
                transcriber.transcribe_batch,
                name="transcribe-long",
                max_batch_size=1,
                workers=long_note_workers,
                cancellable=True,
            )
        if describer is not None:
            describe_batch_size = max_batch_size if getattr(describer, "batching_pays", False) else 1
            self._describe = MicroBatcher(describer.describe_batch, name="describe", max_batch_size=describe_batch_size)

    @property
    def batchers(self) -> list[MicroBatcher[Any, Any]]:
        every = (self._encode, self._intents, self._retrieve, self._decode_audio, self._transcribe)
        return [b for b in (*every, self._transcribe_long, self._describe, *self._retrieve_named.values()) if b]

    async def encode(self, text: str) -> np.ndarray:
        return await self._encode.submit(text)

    async def intent(self, text: str, vector: np.ndarray) -> IntentPrediction:
        return await self._intents.submit((text, vector))

    async def retrieve(
        self, text: str, vector: np.ndarray, filters: Mapping[str, Any] | None, *, knowledge_base: str | None = None
    ) -> list[Hit]:
        """Passages from the knowledge base named ``knowledge_base`` (None: the default one); a name not configured
        (a message kept over a restart whose configuration changed) is logged and answered from the default."""
        batcher = self._retrieve
        if knowledge_base is not None:
            named = self._retrieve_named.get(knowledge_base)
            if named is None:
                log.warning("no knowledge base is named %r; answering from the default one", knowledge_base)
            else:
                batcher = named
        return list(await batcher.submit((text, vector, filters)))

    async def transcribe(self, clip: bytes) -> Transcript:
        """Decode ``clip``, then transcribe it in the lane its length calls for; an over-long note fails decoding."""
        if self._decode_audio is None or self._transcribe is None or self._transcribe_long is None:
            raise LookupError("no transcriber is configured")
        decode, short, long = self._decode_audio, self._transcribe, self._transcribe_long

        async def hear() -> Transcript:
            audio = await decode.submit(clip)
            return await (long if audio.duration_s > self.long_note_s else short).submit(audio)

        return await self._observed("speech", hear())

    async def describe(self, image: bytes) -> Description:
        if self._describe is None:
            raise LookupError("no describer is configured")
        return await self._observed("vision", self._describe.submit(image))

    async def aclose(self) -> None:
        for batcher in self.batchers:
            await batcher.aclose()

    async def _observed(self, stage: str, work: Awaitable[T]) -> T:
        """Await ``work`` and tell the observer how long it took (failed work too: it cost the time)."""
        started = time.perf_counter()
        try:
            return await work
        finally:
            if self.observer is not None:
                self.observer(stage, time.perf_counter() - started)

    def _encode_batch(self, texts: list[str]) -> Sequence[np.ndarray]:
        return list(self.encoder.encode(texts))

    def _intent_batch(self, queries: list[IntentQuery]) -> Sequence[IntentPrediction]:
        texts = [text for text, _ in queries]
        vectors = np.stack([vector for _, vector in queries])
        return self.intent_classifier.predict(texts, vectors)

    def _retrieve_batch(self, retriever: Retriever, queries: list[RetrievalQuery]) -> Sequence[Sequence[Hit]]:
        texts = [text for text, _, _ in queries]
        vectors = np.stack([vector for _, vector, _ in queries])
        return retriever.search(texts, vectors, k=self.k, filters=[f for _, _, f in queries])
