"""The speech engine as the core uses it: through the micro-batcher, in a worker thread, errors per note."""

from __future__ import annotations

import asyncio

import pytest

from bot.batching import MicroBatcher
from bot.errors import user_message
from speech.errors import EmptyAudio, SilentAudio
from speech.testing import encode_audio
from speech.transcriber import WhisperTranscriber
from speech.transcript import Transcript
from speech.wer import word_error_rate
from tests.speech.conftest import Clip


@pytest.mark.parametrize("max_batch_size", [1, 4])
async def test_concurrent_voice_notes_through_the_micro_batcher(
    tiny: WhisperTranscriber, english: list[Clip], max_batch_size: int
) -> None:
    batcher: MicroBatcher[bytes, Transcript] = MicroBatcher(
        tiny.transcribe_batch, name="transcribe", max_batch_size=max_batch_size
    )
    silence = encode_audio(english[0].audio * 0, fmt="ogg")
    try:
        results = await asyncio.gather(
            batcher.submit(english[0].ogg),
            batcher.submit(b""),
            batcher.submit(english[2].ogg),
            batcher.submit(silence),
            return_exceptions=True,
        )
    finally:
        await batcher.aclose()
    good, empty, other, silent = results
    assert isinstance(good, Transcript) and good.language == "en"
    assert word_error_rate(english[0].text, good.text) <= 0.3
    assert isinstance(other, Transcript) and word_error_rate(english[2].text, other.text) <= 0.3
    assert isinstance(empty, EmptyAudio) and user_message(empty) == empty.user_message
    assert isinstance(silent, SilentAudio) and "muted" in (user_message(silent) or "")
    assert batcher.stats.largest <= max_batch_size


def test_satisfies_the_core_protocol(tiny: WhisperTranscriber) -> None:
    from bot.protocols import Transcriber

    transcriber: Transcriber = tiny  # checked by mypy; at run time the method and fields must exist
    assert callable(transcriber.transcribe_batch) and callable(transcriber.decode_batch)
    assert {"text", "language", "duration_s"} <= set(Transcript.__dataclass_fields__)
    assert tiny.batching_pays is False and tiny.batch_size == 1


def test_the_configured_beam_width_reaches_the_engine(english: list[Clip]) -> None:
    from bot.app import build_transcriber
    from bot.config import Settings

    lazy = build_transcriber(Settings(speech={"model": "tiny.en", "device": "cpu", "beam_size": 1}))
    assert lazy is not None
    [result] = lazy.transcribe_batch([english[0].ogg])
    assert isinstance(result, Transcript) and word_error_rate(english[0].text, result.text) <= 0.3
    assert lazy._engine.beam_size == 1
    with pytest.raises(ValueError, match="beam_size"):
        Settings(speech={"beam_size": 0})
