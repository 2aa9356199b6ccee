"""Real speech for tests and benchmarks: espeak-ng synthesis, encoded like the voice notes platforms send.

    wav = synthesize("Where is my parcel?", voice="en-us", speed=160)   # 16 kHz mono float32
    note = encode_audio(wav, fmt="ogg")                                   # Telegram-style OGG/Opus bytes

Needs the ``espeak-ng`` program (Debian package ``espeak-ng``). For Mandarin use the ``cmn-latn-pinyin``
voice with pinyin text: the ``cmn`` voice reads Han characters as English.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np

from speech.audio import SAMPLE_RATE

# format -> (container format, codec, codec sample rate, bit rate)
FORMATS: dict[str, tuple[str, str, int, int]] = {
    "ogg": ("ogg", "libopus", 48_000, 32_000),  # a Telegram voice note
    "webm": ("webm", "libopus", 48_000, 32_000),  # a browser's MediaRecorder
    "mp3": ("mp3", "libmp3lame", 16_000, 32_000),
    "m4a": ("ipod", "aac", 16_000, 48_000),
    "wav": ("wav", "pcm_s16le", 16_000, 0),
}


def espeak_available() -> bool:
    """Whether the espeak-ng program is on PATH."""
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, *, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """Speak ``text`` with espeak-ng and return 16 kHz mono float32 samples."""
    result = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    from speech.audio import decode_audio

    return decode_audio(result.stdout, name=f"espeak {voice}")


def encode_audio(samples: np.ndarray, *, fmt: str = "ogg", sample_rate: int = SAMPLE_RATE) -> bytes:
    """Encode mono float32 ``samples`` into ``fmt`` (one of ``FORMATS``) with PyAV; returns the file's bytes."""
    import av
    from av.audio.stream import AudioStream

    container_format, codec, codec_rate, bit_rate = FORMATS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=codec_rate, layout="mono")
        if not isinstance(stream, AudioStream):
            raise TypeError(f"{codec} is not an audio codec")
        if bit_rate:
            stream.bit_rate = bit_rate
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def join(clips: list[np.ndarray], *, gap_s: float = 0.35) -> np.ndarray:
    """Concatenate clips with a short pause between them, as a speaker would leave between sentences."""
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts.extend([clip, gap])
    return np.concatenate(parts[:-1]) if parts else np.zeros(0, np.float32)


def _ogg_crc(page: bytes) -> int:
    """The OGG page checksum (CRC-32, polynomial 0x04C11DB7, not reflected), computed with the field zeroed."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def restamp_ogg(data: bytes, *, duration_s: float) -> bytes:
    """Rewrite the last page's granule position so the OGG/Opus file declares ``duration_s``.

    Makes a small file whose header claims hours (or less than its real length), to test that limits
    are checked before decoding and by a running count while decoding.
    """
    start = data.rfind(b"OggS")
    pre_skip = int.from_bytes(data[data.find(b"OpusHead") + 10 : data.find(b"OpusHead") + 12], "little")
    page = bytearray(data[start:])
    page[6:14] = int(duration_s * 48_000 + pre_skip).to_bytes(8, "little")
    page[22:26] = bytes(4)
    page[22:26] = _ogg_crc(bytes(page)).to_bytes(4, "little")
    return data[:start] + bytes(page)
