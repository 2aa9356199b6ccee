"""Long notes must not hold the bot hostage: their work stops when nobody waits for it, short notes pass them,
and the engines close (and the process exits) while one is being transcribed. Real model, real speech."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.engines import Engines
from bot.errors import Overloaded
from speech.audio import decode_audio
from speech.errors import TranscriptionCancelled
from speech.transcriber import WhisperTranscriber
from speech.transcript import Transcript
from speech.wer import word_error_rate
from tests.conftest import wait_until
from tests.speech.conftest import Clip

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


class CancelAfter(threading.Event):
    """A cancel token that turns set after the engine has looked at it ``checks`` times."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.left = checks

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0 or super().is_set()


def test_a_long_transcription_stops_between_segments(faster: WhisperTranscriber, long_allowed_note: bytes) -> None:
    audio = decode_audio(long_allowed_note)
    (stopped,) = faster.transcribe_arrays([audio], cancel=CancelAfter(2))  # stops at the second segment's check
    assert isinstance(stopped, TranscriptionCancelled)
    assert 0 < stopped.done_s <= 30 < stopped.duration_s  # the first window's segment, then no more windows
    (never,) = faster.transcribe_batch([long_allowed_note], cancel=CancelAfter(0))
    assert isinstance(never, TranscriptionCancelled) and never.done_s == 0


def engines_for(transcriber: WhisperTranscriber) -> Engines:
    unused = object()
    return Engines(encoder=unused, retriever=unused, intents=unused, transcriber=transcriber)  # type: ignore[arg-type]


def lane(engines: Engines, name: str) -> int:
    """How many batches the batcher called ``name`` has started."""
    return next(b for b in engines.batchers if b.name == name).stats.batches


async def test_a_short_note_is_answered_while_long_ones_are_transcribed(
    faster: WhisperTranscriber, long_allowed_note: bytes, english: list[Clip]
) -> None:
    engines = engines_for(faster)
    longs = [asyncio.create_task(engines.transcribe(long_allowed_note)) for _ in range(faster.parallel_calls + 1)]
    await asyncio.to_thread(wait_until, lambda: lane(engines, "transcribe-long") >= 1)
    short = await engines.transcribe(english[1].ogg)
    still_running = [not task.done() for task in longs]
    for task in longs:
        task.cancel()
    await asyncio.gather(*longs, return_exceptions=True)
    await engines.aclose()
    assert isinstance(short, Transcript) and word_error_rate(english[1].text, short.text) <= 0.15
    assert all(still_running)  # the short note did not wait for any of them


async def test_closing_the_engines_stops_a_long_transcription(
    faster: WhisperTranscriber, long_allowed_note: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="speech.transcriber")
    engines = engines_for(faster)
    pending = asyncio.ensure_future(engines.transcribe(long_allowed_note))
    await asyncio.to_thread(wait_until, lambda: lane(engines, "transcribe-long") >= 1)
    await engines.aclose()
    assert _threads("kefu-transcribe-long")  # aclose returned while the note was still being transcribed
    with pytest.raises(Overloaded):
        await pending
    await asyncio.to_thread(wait_until, lambda: not _threads("kefu-transcribe-long"))
    assert "transcription cancelled after" in caplog.text  # the thread ended early, not at the note's end


def _threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_sigterm_during_a_long_transcription_exits_cleanly(long_allowed_note: bytes, tmp_path: Path) -> None:
    note = tmp_path / "long.ogg"
    note.write_bytes(long_allowed_note)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.speech.stop_child", str(note)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "transcribing"
        child.send_signal(signal.SIGTERM)
        _, errors = child.communicate(timeout=120)  # a hang guard: the note alone takes longer on two cores
    finally:
        child.kill()
    assert child.returncode == 0, errors
    assert "transcription cancelled after" in errors
