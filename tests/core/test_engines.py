"""How the engines' batchers treat speech: batched in one call where that pays, side by side where it does not."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from bot.engines import Engines


class FakeWhisper:
    """Records how many calls ran at once and how many clips each call got."""

    def __init__(self, *, batching_pays: bool, parallel_calls: int) -> None:
        self.batching_pays = batching_pays
        self.parallel_calls = parallel_calls
        self.sizes: list[int] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def transcribe_batch(self, clips: Sequence[bytes]) -> list[str]:
        with self._lock:
            self.sizes.append(len(clips))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.05)
        with self._lock:
            self.running -= 1
        return [clip.decode() for clip in clips]


def engines_with(transcriber: FakeWhisper) -> Engines:
    unused = object()
    return Engines(encoder=unused, retriever=unused, intents=unused, transcriber=transcriber, max_wait_ms=20)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("batching_pays", "parallel_calls", "one_note_per_call", "most_at_once"),
    [(False, 2, True, 2), (True, 1, False, 1)],
    ids=["cpu: one note per call, side by side", "gpu: notes batched into one call"],
)
async def test_speech_batching_follows_the_engine(
    batching_pays: bool, parallel_calls: int, one_note_per_call: bool, most_at_once: int
) -> None:
    whisper = FakeWhisper(batching_pays=batching_pays, parallel_calls=parallel_calls)
    engines = engines_with(whisper)
    texts = await asyncio.gather(*(engines.transcribe(f"note {n}".encode()) for n in range(6)))
    await engines.aclose()
    assert texts == [f"note {n}" for n in range(6)]
    assert (whisper.sizes == [1] * 6) is one_note_per_call
    assert whisper.most_at_once == most_at_once
