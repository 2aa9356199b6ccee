"""Decode voice notes (OGG/Opus, WebM/Opus, M4A/AAC, MP3, WAV) to 16 kHz mono float32 with PyAV.

    samples = decode_audio(data, name="voice.ogg")      # np.ndarray, float32, 16 kHz mono

Limits are checked as early as the container allows: the byte size first, then the duration the
container declares (read from its header, or for OGG its last page), then a running count of decoded
samples, so a long recording is refused without decoding it all and never more than the limit (plus one
frame) is held in memory, even when the header understates the length. Each failure is a typed
``speech.errors.AudioError`` whose ``user_message`` can be shown to the shopper.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from speech.errors import (
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    SilentAudio,
)

if TYPE_CHECKING:
    import av.container

SAMPLE_RATE = 16_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_DURATION_S = 120.0
"""Longer notes are refused: a 115 s note took 20-28 s on two CPU cores with Whisper base, near the
pipeline's 30 s stage timeout."""
SILENCE_DBFS = -50.0
"""A note whose loudest 20 ms is quieter than this is treated as silence (a muted microphone)."""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """A voice note decoded within the limits; its length tells the core which lane transcribes it."""

    samples: np.ndarray
    """16 kHz mono float32."""
    decode_ms: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.samples.size / SAMPLE_RATE


def decode_audio(
    data: bytes,
    *,
    name: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
) -> np.ndarray:
    """Decode ``data`` to 16 kHz mono float32 samples; ``name`` only labels errors.

    Raises ``EmptyAudio``, ``AudioTooLarge``, ``CorruptAudio``, ``NotAudio``, ``NoAudioStream``,
    ``AudioTooLong`` or ``SilentAudio`` (all ``AudioError``, a ``ValueError``).
    """
    import av

    if not data:
        raise EmptyAudio("the file is empty (0 bytes)", name=name)
    if len(data) > max_bytes:
        raise AudioTooLarge(
            f"the file is {len(data)} bytes, over the {max_bytes}-byte limit",
            size=len(data),
            limit=max_bytes,
            name=name,
        )
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise CorruptAudio(f"not a readable audio file ({error})", name=name) from error
    with container:
        stream = _audio_stream(container, name)
        declared = _declared_duration_s(container, stream)
        if declared is not None and declared > max_duration_s:
            raise AudioTooLong(
                f"the recording lasts {declared:.1f} s, over the {max_duration_s:g} s limit",
                duration_s=declared,
                limit_s=max_duration_s,
                name=name,
            )
        samples = _decode_stream(container, stream, max_duration_s=max_duration_s, name=name)
        _check_complete(data, container.format.name, declared, samples.size / SAMPLE_RATE, name)
    if samples.size == 0:
        raise EmptyAudio("the audio stream holds no sound samples", name=name)
    if loudest_dbfs(samples) < SILENCE_DBFS:
        raise SilentAudio(f"the recording is silent (loudest part below {SILENCE_DBFS:g} dBFS)", name=name)
    return samples


def loudest_dbfs(samples: np.ndarray, *, frame: int = SAMPLE_RATE // 50) -> float:
    """The level of the loudest 20 ms frame in dBFS (full scale 1.0); -inf for digital silence."""
    usable = samples[: samples.size - samples.size % frame] if samples.size >= frame else samples
    frames = usable.reshape(-1, frame) if samples.size >= frame else usable.reshape(1, -1)
    rms = float(np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1)).max())
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def _audio_stream(container: av.container.InputContainer, name: str | None) -> Any:
    import av

    pictures = [s for s in container.streams.video if s.disposition & av.stream.Disposition.attached_pic]
    moving = [s for s in container.streams.video if s not in pictures]
    if moving:
        kind = "an image" if container.format.name.endswith("_pipe") or "image" in container.format.name else "a video"
        raise NotAudio(f"the file is {kind} ({container.format.name}), not audio", name=name)
    if not container.streams.audio:
        raise NoAudioStream(f"the file ({container.format.name}) has no audio track", name=name)
    return container.streams.audio[0]


def _declared_duration_s(container: av.container.InputContainer, stream: Any) -> float | None:
    """The duration the container or stream header declares, or None when it declares none."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _check_complete(
    data: bytes, format_name: str, declared_s: float | None, decoded_s: float, name: str | None
) -> None:
    """Refuse a file that decodes to clearly less than it declares, or an OGG file cut before its last page.

    FFmpeg skips damaged packets and stops quietly at a cut, so these are the signs of a damaged upload.
    """
    if declared_s is not None and declared_s - decoded_s > max(0.5, 0.05 * declared_s):
        raise CorruptAudio(
            f"the file is truncated or damaged: it declares {declared_s:.1f} s but only {decoded_s:.1f} s decode",
            name=name,
        )
    if format_name == "ogg" and not _ogg_ends_cleanly(data):
        raise CorruptAudio("the OGG file is truncated: its last page is cut or missing", name=name)


def _ogg_ends_cleanly(data: bytes) -> bool:
    """Whether the last OGG page is complete and carries the end-of-stream flag."""
    start = data.rfind(b"OggS")
    if start < 0 or len(data) < start + 27:
        return False
    segments = data[start + 26]
    table = data[start + 27 : start + 27 + segments]
    complete = len(table) == segments and start + 27 + segments + sum(table) == len(data)
    return complete and bool(data[start + 5] & 0x04)


def _decode_stream(
    container: av.container.InputContainer, stream: Any, *, max_duration_s: float, name: str | None
) -> np.ndarray:
    """Decode and resample, counting samples as they come so an undeclared long stream stops early."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    limit = int(max_duration_s * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    count = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    count += chunk.size
                    if count > limit:
                        raise AudioTooLong(
                            f"the recording is longer than the {max_duration_s:g} s limit",
                            duration_s=count / SAMPLE_RATE,
                            limit_s=max_duration_s,
                            complete=False,
                            name=name,
                        )
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as error:
        raise CorruptAudio(f"the audio data is damaged or truncated ({error})", name=name) from error
    return np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
