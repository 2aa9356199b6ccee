"""How the engines' batchers treat speech: batched where that pays, side by side where it does not, long notes
in a lane of their own, and work that stops when nobody waits for it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from bot.engines import Engines
from bot.errors import Overloaded
from tests.conftest import wait_until


@dataclass(frozen=True)
class Clip:
    """A decoded note: ``b"note 3"`` lasts 3 s, ``b"long 90"`` 90 s."""

    text: str
    duration_s: float


class FakeWhisper:
    """Records how many calls ran at once and how many clips each call got; long notes run until released."""

    def __init__(self, *, batching_pays: bool = False, parallel_calls: int = 1) -> None:
        self.batching_pays = batching_pays
        self.parallel_calls = parallel_calls
        self.sizes: list[int] = []
        self.running = 0
        self.most_at_once = 0
        self.finished: list[str] = []
        self.cancelled: list[str] = []
        self.long_started = threading.Event()
        self.release_long = threading.Event()
        self._lock = threading.Lock()

    def decode_batch(self, clips: Sequence[bytes]) -> list[Clip]:
        return [Clip(clip.decode(), float(clip.split()[-1])) for clip in clips]

    def transcribe_batch(self, clips: Sequence[Clip], *, cancel: threading.Event | None = None) -> list[str]:
        with self._lock:
            self.sizes.append(len(clips))
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        if any(clip.duration_s > 30 for clip in clips):
            self.long_started.set()
            while not self.release_long.wait(0.01):  # "between segments"
                if cancel is not None and cancel.is_set():
                    self.cancelled.extend(clip.text for clip in clips)
                    break
        else:
            time.sleep(0.05)
        with self._lock:
            self.running -= 1
            self.finished.extend(clip.text for clip in clips)
        return [clip.text for clip in clips]


def engines_with(transcriber: FakeWhisper) -> Engines:
    unused = object()
    return Engines(encoder=unused, retriever=unused, intents=unused, transcriber=transcriber)  # type: ignore[arg-type]


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


@pytest.mark.parametrize("parallel_calls", [1, 2])
async def test_short_notes_do_not_queue_behind_long_ones(parallel_calls: int) -> None:
    whisper = FakeWhisper(parallel_calls=parallel_calls)
    engines = engines_with(whisper)
    longs = [asyncio.create_task(engines.transcribe(f"long {90 + n}".encode())) for n in range(3)]
    await asyncio.to_thread(whisper.long_started.wait, 5)
    shorts = await asyncio.gather(*(engines.transcribe(f"note {n}".encode()) for n in range(3)))
    whisper.release_long.set()
    assert await asyncio.gather(*longs) == ["long 90", "long 91", "long 92"]
    await engines.aclose()
    assert shorts == ["note 0", "note 1", "note 2"]
    assert sorted(whisper.finished[:3]) == shorts  # answered (in any order) while the first long note still ran
    assert whisper.most_at_once <= parallel_calls + 1  # long notes take one lane; they never crowd out the short


async def test_a_timed_out_long_note_stops_and_closing_stops_the_rest() -> None:
    whisper = FakeWhisper(parallel_calls=2)
    engines = engines_with(whisper)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(engines.transcribe(b"long 100"), 0.3)
    await asyncio.to_thread(wait_until, lambda: whisper.cancelled == ["long 100"])
    pending = asyncio.ensure_future(engines.transcribe(b"long 110"))
    await asyncio.to_thread(wait_until, lambda: whisper.running == 1)
    await engines.aclose()  # returns without waiting for the long note
    with pytest.raises(Overloaded):
        await pending
    await asyncio.to_thread(wait_until, lambda: whisper.running == 0)
    assert whisper.cancelled == ["long 100", "long 110"]


class LabelReader:
    """A describer that names the bytes it is shown; ``b"bad"`` is not an image."""

    def describe_batch(self, images: Sequence[bytes]) -> list[str]:
        if b"bad" in images:
            raise ValueError("not an image")
        return [image.decode() for image in images]


async def test_speech_and_vision_times_go_to_the_observer_failed_work_included() -> None:
    """The metrics' ``speech`` and ``vision`` stages: one observation per note or photo, a failed one too."""
    seen: list[tuple[str, float]] = []
    unused = object()
    engines = Engines(
        encoder=unused,  # type: ignore[arg-type]
        retriever=unused,  # type: ignore[arg-type]
        intents=unused,  # type: ignore[arg-type]
        transcriber=FakeWhisper(),  # type: ignore[arg-type]
        describer=LabelReader(),  # type: ignore[arg-type]
        observer=lambda stage, seconds: seen.append((stage, seconds)),
    )
    assert await engines.transcribe(b"note 2") == "note 2"
    assert await engines.describe(b"a shoe") == "a shoe"
    with pytest.raises(ValueError, match="not an image"):
        await engines.describe(b"bad")
    with pytest.raises(ValueError):
        await engines.transcribe(b"not a number")
    await engines.aclose()
    assert [stage for stage, _ in seen] == ["speech", "vision", "vision", "speech"]
    assert seen[0][1] >= 0.05  # the fake transcriber works 50 ms: the decode and the transcription are both timed
    assert all(seconds >= 0 for _, seconds in seen)
