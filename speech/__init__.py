"""speech engine: voice notes to text with Whisper; a plain synchronous library (docs/architecture.md §2-3).

    transcriber = load_transcriber(backend="faster-whisper", model="base", device="auto")
    results = transcriber.transcribe_batch([ogg_bytes, webm_bytes])   # Transcript | AudioError, in order
    results[0].text, results[0].language                             # "where is my parcel?", "en"
    notes = transcriber.decode_batch([ogg_bytes])                    # DecodedAudio | AudioError: length known
    transcriber.transcribe_batch(notes, cancel=event)                # stops between segments once event is set

It imports nothing from ``bot`` or ``adapters``; ``WhisperTranscriber`` satisfies
``bot.protocols.Transcriber`` structurally. Heavy libraries load inside ``load_transcriber``.
"""

from __future__ import annotations

from typing import Unpack

from speech.audio import DecodedAudio, decode_audio
from speech.errors import AudioError
from speech.transcriber import TranscriberOptions, WhisperTranscriber
from speech.transcript import Segment, Transcript

BACKENDS = ("faster-whisper", "openai-whisper")

__all__ = [
    "BACKENDS",
    "AudioError",
    "DecodedAudio",
    "Segment",
    "TranscriberOptions",
    "Transcript",
    "WhisperTranscriber",
    "decode_audio",
    "load_transcriber",
    "parallel_calls",
    "resolve_device",
]


def parallel_calls(*, backend: str, device: str) -> int:
    """How many calls a transcriber of ``backend`` on ``device`` runs side by side (before loading it)."""
    if backend != "faster-whisper":
        return 1
    from speech import faster

    return faster.parallel_calls(device)


def resolve_device(device: str, *, backend: str) -> str:
    """``auto`` becomes ``cuda`` when the backend's library sees a GPU, else ``cpu``; others pass through."""
    if device != "auto":
        return device
    if backend == "faster-whisper":
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_transcriber(
    *,
    backend: str = "faster-whisper",
    model: str = "base",
    device: str = "auto",
    **options: Unpack[TranscriberOptions],
) -> WhisperTranscriber:
    """Build a transcriber; ``model``: a path, ``base`` / ``tiny.en`` (packaged) or a name the library downloads.

    ``options`` (see ``WhisperTranscriber`` for the defaults): ``max_bytes`` and ``max_duration_s``, the limits
    on a note; ``audio_ctx_margin_s``: seconds encoded beyond each note (default: the measured
    ``DEFAULT_MARGIN_S``; None encodes Whisper's full 30 s window); ``beam_size``; ``languages``: restrict
    language detection, e.g. ``("en", "zh")``; ``batch_size``: notes per model call (default 16 on CUDA, 1 on
    CPU, where batching does not pay). Raises ``ValueError`` for an unknown backend.
    """
    from speech.models import resolve_model

    if backend not in BACKENDS:
        raise ValueError(f"unknown speech backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    device = resolve_device(device, backend=backend)
    source = resolve_model(model)
    if backend == "faster-whisper":
        from speech.faster import FasterWhisperTranscriber

        return FasterWhisperTranscriber(source, device=device, **options)
    from speech.torch_whisper import OpenAIWhisperTranscriber

    return OpenAIWhisperTranscriber(source, device=device, **options)
