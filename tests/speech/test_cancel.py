"""Long notes must not hold the bot hostage: their work stops when nobody waits for it. Real model, real speech."""

from __future__ import annotations

import threading

import pytest

from speech.audio import decode_audio
from speech.errors import TranscriptionCancelled
from speech.transcriber import WhisperTranscriber

pytestmark = pytest.mark.slow


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
