"""The async faces of the sync engines: each engine call goes through a micro-batcher in a worker thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bot.batching import MicroBatcher
from bot.protocols import (
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

RetrievalQuery = tuple[str, np.ndarray, Mapping[str, Any] | None]
IntentQuery = tuple[str, np.ndarray]


class Engines:
    """Batched async access to the encoder, retriever, intent classifier, transcriber and describer.

    One query vector serves intent and retrieval. ``transcriber_batch_size`` is separate because batching
    Whisper pays on a GPU and not on a CPU (speech engines say which through ``batching_pays``); on a CPU
    notes run side by side instead, one per core (``parallel_calls``).
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
        max_wait_ms: float = 4.0,
        transcriber_batch_size: int | None = None,
        k: int = 5,
    ) -> None:
        self.encoder = encoder
        self.retriever = retriever
        self.intent_classifier = intents
        self.transcriber = transcriber
        self.describer = describer
        self.k = k
        options = {"max_batch_size": max_batch_size, "max_wait_ms": max_wait_ms}
        self._encode = MicroBatcher(self._encode_batch, name="encode", **options)
        self._intents = MicroBatcher(self._intent_batch, name="intent", **options)
        self._retrieve = MicroBatcher(self._retrieve_batch, name="retrieve", **options)
        self._transcribe: MicroBatcher[bytes, Transcript] | None = None
        self._describe: MicroBatcher[bytes, Description] | None = None
        if transcriber is not None:
            if transcriber_batch_size is None:
                transcriber_batch_size = max_batch_size if getattr(transcriber, "batching_pays", False) else 1
            self._transcribe = MicroBatcher(
                transcriber.transcribe_batch,
                name="transcribe",
                max_batch_size=transcriber_batch_size,
                max_wait_ms=max_wait_ms if transcriber_batch_size > 1 else 0.0,
                workers=getattr(transcriber, "parallel_calls", 1),
            )
        if describer is not None:
            self._describe = MicroBatcher(describer.describe_batch, name="describe", **options)

    @property
    def batchers(self) -> list[MicroBatcher[Any, Any]]:
        return [b for b in (self._encode, self._intents, self._retrieve, self._transcribe, self._describe) if b]

    async def encode(self, text: str) -> np.ndarray:
        return await self._encode.submit(text)

    async def intent(self, text: str, vector: np.ndarray) -> IntentPrediction:
        return await self._intents.submit((text, vector))

    async def retrieve(self, text: str, vector: np.ndarray, filters: Mapping[str, Any] | None) -> list[Hit]:
        return await self._retrieve.submit((text, vector, filters))

    async def transcribe(self, clip: bytes) -> Transcript:
        if self._transcribe is None:
            raise LookupError("no transcriber is configured")
        return await self._transcribe.submit(clip)

    async def describe(self, image: bytes) -> Description:
        if self._describe is None:
            raise LookupError("no describer is configured")
        return await self._describe.submit(image)

    async def aclose(self) -> None:
        for batcher in self.batchers:
            await batcher.aclose()

    def _encode_batch(self, texts: list[str]) -> Sequence[np.ndarray]:
        return list(self.encoder.encode(texts))

    def _intent_batch(self, queries: list[IntentQuery]) -> Sequence[IntentPrediction]:
        texts = [text for text, _ in queries]
        vectors = np.stack([vector for _, vector in queries])
        return self.intent_classifier.predict(texts, vectors)

    def _retrieve_batch(self, queries: list[RetrievalQuery]) -> Sequence[list[Hit]]:
        texts = [text for text, _, _ in queries]
        vectors = np.stack([vector for _, vector, _ in queries])
        return self.retriever.search(texts, vectors, k=self.k, filters=[f for _, _, f in queries])
