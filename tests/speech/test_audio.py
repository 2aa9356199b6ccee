"""Decoding voice notes: every format platforms send, the limits, and each kind of bad input."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from speech.audio import SAMPLE_RATE, decode_audio, loudest_dbfs
from speech.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    SilentAudio,
)
from speech.testing import FORMATS, encode_audio, restamp_ogg
from tests.speech.conftest import Clip


def _assert_user_safe(error: AudioError, name: str) -> None:
    assert error.user_message and "Errno" not in error.user_message and "{" not in error.user_message
    assert name in str(error)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_platform_format_decodes_to_16k_mono_float(english: list[Clip], fmt: str) -> None:
    source = english[0].audio
    samples = decode_audio(encode_audio(source, fmt=fmt), name=f"note.{fmt}")
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - source.size) / SAMPLE_RATE < 0.1  # codec priming/padding only
    assert abs(loudest_dbfs(samples) - loudest_dbfs(source)) < 3.0


def test_empty_file() -> None:
    with pytest.raises(EmptyAudio) as caught:
        decode_audio(b"", name="voice.ogg")
    _assert_user_safe(caught.value, "voice.ogg")


def test_wav_with_an_empty_stream() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
    with pytest.raises(EmptyAudio, match="no sound samples"):
        decode_audio(buffer.getvalue(), name="empty.wav")


def test_corrupt_ogg(english: list[Clip]) -> None:
    ogg = english[0].ogg
    middle = len(ogg) // 2
    damaged = ogg[:middle] + bytes(range(256)) * 4 + ogg[middle + 1024 :]
    with pytest.raises(CorruptAudio, match="damaged") as caught:
        decode_audio(damaged, name="corrupt.ogg")
    _assert_user_safe(caught.value, "corrupt.ogg")


def test_ogg_with_a_garbled_header(english: list[Clip]) -> None:
    ogg = english[0].ogg
    with pytest.raises(CorruptAudio, match="not a readable audio file"):
        decode_audio(ogg[:40] + bytes(200) + ogg[240:], name="header.ogg")


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_ogg(english: list[Clip], cut: float) -> None:
    ogg = english[1].ogg
    with pytest.raises(CorruptAudio, match="truncated"):
        decode_audio(ogg[: int(len(ogg) * cut)], name="cut.ogg")


def test_two_hour_file_is_refused_from_its_header(english: list[Clip]) -> None:
    two_hours = restamp_ogg(english[0].ogg, duration_s=7200)
    assert len(two_hours) < 100_000  # small file, long claim: only the header can tell
    with pytest.raises(AudioTooLong) as caught:
        decode_audio(two_hours, name="long.ogg")
    assert caught.value.duration_s == pytest.approx(7200, abs=1)  # read from the container, not decoded
    assert caught.value.complete and "is 2 h long; the limit is 2 min" in caught.value.user_message
    _assert_user_safe(caught.value, "long.ogg")


def test_duration_is_counted_while_decoding_when_the_header_understates_it(english: list[Clip]) -> None:
    lying = restamp_ogg(english[0].ogg, duration_s=1.0)  # claims 1 s, holds about 4 s
    with pytest.raises(AudioTooLong) as caught:
        decode_audio(lying, name="lying.ogg", max_duration_s=2.0)
    assert 2.0 < caught.value.duration_s < 2.2  # stopped by the running count just past the limit
    assert not caught.value.complete and "over the 2 s limit" in caught.value.user_message


def test_too_large(english: list[Clip]) -> None:
    with pytest.raises(AudioTooLarge) as caught:
        decode_audio(english[0].ogg, name="big.ogg", max_bytes=1000)
    assert caught.value.size == len(english[0].ogg) and caught.value.limit == 1000
    _assert_user_safe(caught.value, "big.ogg")


def test_jpeg_renamed_ogg() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    with pytest.raises(NotAudio, match="image") as caught:
        decode_audio(buffer.getvalue(), name="photo.ogg")
    assert isinstance(caught.value, NoAudioStream)
    _assert_user_safe(caught.value, "photo.ogg")


def test_video_is_not_a_voice_note() -> None:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    with pytest.raises(NotAudio, match="video"):
        decode_audio(buffer.getvalue(), name="clip.mp4")


def test_pure_silence() -> None:
    silence = encode_audio(np.zeros(3 * SAMPLE_RATE, np.float32), fmt="ogg")
    with pytest.raises(SilentAudio) as caught:
        decode_audio(silence, name="muted.ogg")
    _assert_user_safe(caught.value, "muted.ogg")


def test_quiet_speech_is_not_silence(english: list[Clip]) -> None:
    quiet = english[0].audio * 0.05  # about -30 dBFS: a distant microphone
    assert decode_audio(encode_audio(quiet, fmt="ogg")).size > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=4096))
def test_random_bytes_fail_only_with_audio_errors(data: bytes) -> None:
    try:
        samples = decode_audio(data, name="fuzz.ogg")
    except AudioError as error:
        assert error.user_message
    else:
        assert samples.dtype == np.float32


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_voice_notes_fail_only_with_audio_errors(english: list[Clip], edits: list[tuple[float, int]]) -> None:
    data = bytearray(english[2].ogg)
    for position, value in edits:
        data[int(position * len(data))] = value
    try:
        decode_audio(bytes(data), name="damaged.ogg")
    except AudioError as error:
        assert error.user_message
