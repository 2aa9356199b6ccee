"""Transcription on the packaged base weights, both backends, real synthetic speech."""

from __future__ import annotations

import numpy as np
import pytest

from speech.errors import CorruptAudio, EmptyAudio, NoAudioStream, NoSpeech, SilentAudio
from speech.testing import encode_audio
from speech.transcriber import WhisperTranscriber
from speech.transcript import Transcript
from speech.wer import corpus_wer, word_error_rate
from tests.speech.conftest import Clip

pytestmark = pytest.mark.slow


def _texts(results: list[Transcript | Exception]) -> list[str]:
    assert all(isinstance(r, Transcript) for r in results), results
    return [r.text for r in results if isinstance(r, Transcript)]


def test_english_voice_notes_faster_whisper(faster: WhisperTranscriber, english: list[Clip]) -> None:
    results = faster.transcribe_batch([clip.ogg for clip in english])
    texts = _texts(results)
    assert corpus_wer(zip((c.text for c in english), texts, strict=True)) <= 0.15, texts
    for result, clip in zip(results, english, strict=True):
        assert isinstance(result, Transcript)
        assert result.language == "en" and result.language_probability > 0.5
        assert result.duration_s == pytest.approx(clip.audio.size / 16_000, abs=0.1)
        assert result.segments and 0 <= result.segments[0].start < result.segments[-1].end <= result.duration_s
        assert set(result.timings_ms) == {"audio", "model", "total"}


def test_same_audio_through_openai_whisper_in_one_batched_pass(
    torch_whisper: WhisperTranscriber, faster: WhisperTranscriber, english: list[Clip]
) -> None:
    torch_whisper.batch_size = len(english)  # all notes in one encoder pass and one batched decoding
    try:
        torch_texts = _texts(torch_whisper.transcribe_batch([clip.ogg for clip in english]))
    finally:
        torch_whisper.batch_size = 1
    assert corpus_wer(zip((c.text for c in english), torch_texts, strict=True)) <= 0.15, torch_texts
    faster_texts = _texts(faster.transcribe_batch([clip.ogg for clip in english]))
    assert corpus_wer(zip(faster_texts, torch_texts, strict=True)) <= 0.15  # the converted weights agree


def test_openai_whisper_batched_beam_search(torch_whisper: WhisperTranscriber, english: list[Clip]) -> None:
    torch_whisper.batch_size, torch_whisper.beam_size = 2, 2
    try:
        results = torch_whisper.transcribe_arrays([clip.audio for clip in english[1:]])
    finally:
        torch_whisper.batch_size, torch_whisper.beam_size = 1, 1
    for result, clip in zip(results, english[1:], strict=True):
        assert isinstance(result, Transcript) and word_error_rate(clip.text, result.text) <= 0.15, result


@pytest.mark.parametrize("backend", ["faster", "torch_whisper"])
def test_mandarin_is_detected_as_zh(backend: str, mandarin: Clip, request: pytest.FixtureRequest) -> None:
    transcriber: WhisperTranscriber = request.getfixturevalue(backend)
    (result,) = transcriber.transcribe_batch([mandarin.ogg])
    assert isinstance(result, Transcript), result
    assert result.language == "zh" and result.language_probability > 0.5
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.text)
    assert word_error_rate(mandarin.text, result.text) < 0.6  # pinyin TTS is rough; the characters mostly match


def test_bad_clips_fail_alone_in_a_batch(faster: WhisperTranscriber, english: list[Clip]) -> None:
    silence = encode_audio(english[0].audio * 0, fmt="ogg")
    results = faster.transcribe_batch(
        [english[0].ogg, b"", b"\xff\xd8\xff\xe0 not really a jpeg", silence, english[1].ogg]
    )
    assert isinstance(results[0], Transcript) and isinstance(results[4], Transcript)
    assert isinstance(results[1], EmptyAudio)
    assert isinstance(results[2], CorruptAudio | NoAudioStream)
    assert isinstance(results[3], SilentAudio)
    assert word_error_rate(english[1].text, results[4].text) <= 0.15


@pytest.mark.parametrize("fmt", ["webm", "m4a", "mp3", "wav"])
def test_browser_and_upload_formats(faster: WhisperTranscriber, english: list[Clip], fmt: str) -> None:
    result = faster.transcribe(encode_audio(english[1].audio, fmt=fmt), name=f"note.{fmt}")
    assert word_error_rate(english[1].text, result.text) <= 0.15, result.text


def test_short_window_matches_the_full_window(faster: WhisperTranscriber, english: list[Clip]) -> None:
    audios = [clip.audio for clip in english[:2]]
    short = _texts(faster.transcribe_arrays(audios))
    faster.audio_ctx_margin_s = None
    try:
        full = _texts(faster.transcribe_arrays(audios))
    finally:
        faster.audio_ctx_margin_s = 2.0
    references = [c.text for c in english[:2]]
    assert corpus_wer(zip(references, short, strict=True)) <= corpus_wer(zip(references, full, strict=True)) + 0.05


def test_note_over_thirty_seconds_uses_the_sliding_window(faster: WhisperTranscriber, long_note: Clip) -> None:
    assert long_note.audio.size > 30 * 16_000
    result = faster.transcribe(long_note.ogg, name="long.ogg")
    assert result.duration_s > 30 and result.segments[-1].end > 25
    assert word_error_rate(long_note.text, result.text) <= 0.15, result.text


def test_languages_can_be_restricted(faster: WhisperTranscriber, english: list[Clip], mandarin: Clip) -> None:
    open_en, open_zh = faster.detect_language(english[0].audio), faster.detect_language(mandarin.audio)
    faster.languages = ("en", "zh")
    try:
        bilingual_en, bilingual_zh = faster.detect_language(english[0].audio), faster.detect_language(mandarin.audio)
        faster.languages = ("zh",)
        forced = faster.detect_language(english[0].audio)
    finally:
        faster.languages = None
    assert bilingual_en[0] == "en" and bilingual_en[1] >= open_en[1]  # renormalised over the allowed two
    assert bilingual_zh[0] == "zh" and bilingual_zh[1] >= open_zh[1]
    assert forced == ("zh", 1.0)


def test_batching_pays_only_on_cuda(faster: WhisperTranscriber, torch_whisper: WhisperTranscriber) -> None:
    assert faster.device == "cpu" and faster.batching_pays is False and faster.batch_size == 1
    assert torch_whisper.batching_pays is False


def test_noise_without_words_is_no_speech(faster: WhisperTranscriber) -> None:
    hiss = (np.random.default_rng(7).standard_normal(4 * 16_000) * 0.1).astype(np.float32)  # about -20 dBFS
    (result,) = faster.transcribe_batch([encode_audio(hiss, fmt="ogg")])
    assert isinstance(result, NoSpeech), result
    assert "couldn't make out any words" in result.user_message
