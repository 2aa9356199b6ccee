"""Voice activity detection: is there speech at all? Whisper writes words into pure noise otherwise."""

from __future__ import annotations

import numpy as np


def has_speech(audio: np.ndarray) -> bool:
    """Whether Silero VAD (the ONNX model faster-whisper ships) finds any speech in 16 kHz mono ``audio``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    return bool(get_speech_timestamps(audio, VadOptions()))
