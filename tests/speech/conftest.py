"""Speech fixtures: real speech synthesised once per session, and each Whisper model loaded once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import speech
from speech.testing import encode_audio, join, synthesize
from speech.transcriber import WhisperTranscriber
from tests.conftest import require_tool

ENGLISH = (
    ("Hello, I would like to return the shoes because they are too small.", "en-us", 160),
    ("Can you tell me where my parcel is right now?", "en-gb", 150),
    ("Thank you very much, that solves my problem.", "en-us+f3", 170),
)
MANDARIN_PINYIN = "wo3 xiang3 tui4 huo4, zhe4 shuang1 xie2 tai4 xiao3 le5. xie4 xie4 ni3 de bang1 zhu4."
MANDARIN_HAN = "我想退货，这双鞋太小了。谢谢你的帮助。"


@dataclass(frozen=True)
class Clip:
    """A synthetic voice note: what it says, its samples, and its bytes as a Telegram-style OGG/Opus file."""

    text: str
    audio: np.ndarray
    ogg: bytes


@pytest.fixture(scope="session")
def english() -> list[Clip]:
    require_tool("espeak-ng")
    clips = []
    for text, voice, speed in ENGLISH:
        audio = synthesize(text, voice=voice, speed=speed)
        clips.append(Clip(text, audio, encode_audio(audio, fmt="ogg")))
    return clips


@pytest.fixture(scope="session")
def mandarin() -> Clip:
    require_tool("espeak-ng")
    audio = synthesize(MANDARIN_PINYIN, voice="cmn-latn-pinyin", speed=150)
    return Clip(MANDARIN_HAN, audio, encode_audio(audio, fmt="ogg"))


LONG_NOTE = (
    "I ordered a winter coat and a pair of boots last Monday.",
    "The coat arrived yesterday, but the boots are still missing.",
    "The tracking page has not changed for four days.",
    "Could you check with the courier and tell me when they will come?",
    "If they are lost, I would prefer a refund to my credit card.",
    "I also want to exchange the coat for a larger size.",
    "Please send me the return label by email.",
    "Thank you for your help, and have a nice weekend.",
)


@pytest.fixture(scope="session")
def long_note(english: list[Clip]) -> Clip:
    """A note over Whisper's 30 s window of distinct sentences, so the library's sliding-window path runs.

    Distinct sentences matter: Whisper conditioned on its previous window skips text that repeats itself.
    """
    audio = join([synthesize(text, voice="en-us", speed=150) for text in LONG_NOTE], gap_s=0.8)
    return Clip(" ".join(LONG_NOTE), audio, encode_audio(audio, fmt="ogg"))


@pytest.fixture(scope="session")
def faster() -> WhisperTranscriber:
    """faster-whisper on the packaged multilingual base model (the CPU default)."""
    return speech.load_transcriber(backend="faster-whisper", model="base", device="cpu")


@pytest.fixture(scope="session")
def torch_whisper() -> WhisperTranscriber:
    """openai-whisper on the same base weights, converted in memory; greedy to keep the CPU run short."""
    return speech.load_transcriber(backend="openai-whisper", model="base", device="cpu", beam_size=1)


@pytest.fixture(scope="session")
def tiny() -> WhisperTranscriber:
    """faster-whisper on the packaged English tiny model: the quickest real model, for plumbing tests."""
    return speech.load_transcriber(backend="faster-whisper", model="tiny.en", device="cpu", beam_size=1)


@pytest.fixture(scope="session")
def rambling_audio(english: list[Clip]) -> np.ndarray:
    """277 s of real speech (the reliability report's note): the long note read eight times in four voices."""
    voices = ("en-us", "en-gb", "en-us+f3", "en-gb+m3")
    parts = [synthesize(text, voice=voices[round_ % 4], speed=150) for round_ in range(8) for text in LONG_NOTE]
    audio = join(parts, gap_s=0.8)
    assert audio.size >= 277 * 16_000
    return audio[: 277 * 16_000]


@pytest.fixture(scope="session")
def rambling_note(rambling_audio: np.ndarray) -> bytes:
    """The 277 s note as a Telegram voice note (OGG/Opus, whose last page tells its length)."""
    return encode_audio(rambling_audio, fmt="ogg")


@pytest.fixture(scope="session")
def long_allowed_note(rambling_audio: np.ndarray) -> bytes:
    """110 s of speech: under the default 2 min cap, four of Whisper's 30 s windows to transcribe."""
    return encode_audio(rambling_audio[: 110 * 16_000], fmt="ogg")
