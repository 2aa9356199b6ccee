"""How the engines' batchers treat speech: batched in one call where that pays, side by side where it does not."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

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


async def test_cpu_whisper_runs_one_note_per_call_side_by_side() -> None:
    whisper = FakeWhisper(batching_pays=False, parallel_calls=2)
    engines = engines_with(whisper)
    texts = await asyncio.gather(*(engines.transcribe(f"note {n}".encode()) for n in range(6)))
    await engines.aclose()
    assert texts == [f"note {n}" for n in range(6)]
    assert whisper.sizes == [1] * 6
    assert whisper.most_at_once == 2


async def test_gpu_whisper_gets_the_notes_in_one_batched_call() -> None:
    whisper = FakeWhisper(batching_pays=True, parallel_calls=1)
    engines = engines_with(whisper)
    texts = await asyncio.gather(*(engines.transcribe(f"note {n}".encode()) for n in range(6)))
    await engines.aclose()
    assert texts == [f"note {n}" for n in range(6)]
    assert max(whisper.sizes) > 1 and whisper.most_at_once == 1
