"""What both Whisper backends share: decoding clips, short-window batching, language choice, results.

A backend implements four steps on its own library: ``_encode`` (log-mel to encoder states over a
window cut to the note's length plus a margin), ``_detect`` (language probabilities), ``_generate``
(batched decoding) and ``_transcribe_long`` (the library's own sliding-window ``transcribe()`` for
notes over 30 s). Everything else lives here, so both backends behave the same.

Work can be cancelled: ``transcribe_batch`` takes a ``threading.Event`` that the caller sets when nobody
waits for the result any more (a turn timed out, the bot is stopping); the engine checks it before each
note and between the segments of a long note, and puts ``TranscriptionCancelled`` in the unfinished places.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypedDict

import numpy as np

from speech.audio import DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_S, SAMPLE_RATE, DecodedAudio, decode_audio
from speech.errors import NoSpeech, TranscriptionCancelled
from speech.transcript import Segment, Transcript, compression_ratio, split_segments
from speech.vad import has_speech

WINDOW_S = 30.0
"""Whisper's encoder window; longer notes go through the library's sliding-window ``transcribe()``."""
FRAMES_PER_S = 100
DEFAULT_MARGIN_S = 2.0
"""Seconds of padding encoded after the note (chosen from the WER-vs-window table in docs/speech.md)."""
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION = 2.4

log = logging.getLogger(__name__)


class TranscriberOptions(TypedDict, total=False):
    """The keyword options every backend passes on to ``WhisperTranscriber.__init__`` (which has the defaults)."""

    max_bytes: int
    max_duration_s: float
    audio_ctx_margin_s: float | None
    beam_size: int
    languages: Sequence[str] | None
    batch_size: int | None


@dataclass(frozen=True, slots=True)
class Decoded:
    """One clip's decoding as a backend returns it."""

    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float


def window_frames(duration_s: float, margin_s: float | None) -> int:
    """Mel frames to encode for a note: its length plus ``margin_s``, even, at most 30 s; None means 30 s."""
    if margin_s is None:
        return int(WINDOW_S * FRAMES_PER_S)
    frames = math.ceil((duration_s + margin_s) * FRAMES_PER_S / 2) * 2
    return max(2, min(int(WINDOW_S * FRAMES_PER_S), frames))


class WhisperTranscriber(ABC):
    """Voice notes to ``Transcript``s; satisfies ``bot.protocols.Transcriber``.

    ``transcribe_batch`` returns one result per clip, in order; a clip that cannot be decoded or holds no
    words gets its ``AudioError`` instance in its place, so one bad clip fails only itself.
    """

    backend: str
    device: str
    model_name: str

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_duration_s: float = DEFAULT_MAX_DURATION_S,
        audio_ctx_margin_s: float | None = DEFAULT_MARGIN_S,
        beam_size: int = 5,
        languages: Sequence[str] | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_duration_s = max_duration_s
        self.audio_ctx_margin_s = audio_ctx_margin_s
        """None encodes the full 30 s window (the libraries' behaviour)."""
        self.beam_size = beam_size
        self.languages = tuple(languages) if languages else None
        """Restrict language detection to these codes (e.g. ``("en", "zh")``); None allows all."""
        self.batch_size = batch_size or (16 if self.batching_pays else 1)

    @property
    def batching_pays(self) -> bool:
        """Whether several notes in one call beat one at a time: on CUDA yes, on CPU no (see docs/speech.md)."""
        return self.device == "cuda"

    @property
    def parallel_calls(self) -> int:
        """How many ``transcribe_batch`` calls may usefully run at once from different threads."""
        return 1

    def transcribe(self, data: bytes, *, name: str | None = None) -> Transcript:
        """Transcribe one clip's bytes; raises its ``AudioError``."""
        started = time.perf_counter()
        audio = decode_audio(data, name=name, max_bytes=self.max_bytes, max_duration_s=self.max_duration_s)
        return self._finish(self.transcribe_arrays([audio])[0], started, name)

    def decode_batch(self, clips: Sequence[bytes]) -> list[DecodedAudio | Exception]:
        """Decode raw clips (OGG/Opus, WebM, M4A, MP3, WAV) within the byte and duration limits; errors in place.

        Cheap next to transcription, so the core decodes first and then picks a lane by ``duration_s``.
        """
        results: list[DecodedAudio | Exception] = []
        for data in clips:
            started = time.perf_counter()
            try:
                samples = decode_audio(data, max_bytes=self.max_bytes, max_duration_s=self.max_duration_s)
            except ValueError as error:
                results.append(error)
                continue
            results.append(DecodedAudio(samples, decode_ms=(time.perf_counter() - started) * 1000))
        return results

    def transcribe_batch(
        self, clips: Sequence[bytes | DecodedAudio], *, cancel: threading.Event | None = None
    ) -> list[Transcript | Exception]:
        """Transcribe raw clips or ``decode_batch``'s results; per-clip errors in place.

        ``cancel``: when set, unfinished clips get ``TranscriptionCancelled`` (see the module's docstring).
        """
        decoded = iter(self.decode_batch([c for c in clips if isinstance(c, bytes)]))
        notes = [next(decoded) if isinstance(c, bytes) else c for c in clips]
        audios = [note.samples for note in notes if isinstance(note, DecodedAudio)]
        transcripts = iter(self.transcribe_arrays(audios, cancel=cancel))
        return [_with_decoding(next(transcripts), note) if isinstance(note, DecodedAudio) else note for note in notes]

    def transcribe_arrays(
        self, audios: Sequence[np.ndarray], *, cancel: threading.Event | None = None
    ) -> list[Transcript | Exception]:
        """Transcribe 16 kHz mono float32 arrays; notes up to 30 s in batches of ``batch_size``.

        A note in which voice activity detection finds no speech gets ``NoSpeech`` without reaching Whisper.
        ``cancel`` is checked before each batch and note, and between the segments of a long note.
        """
        results: list[Transcript | Exception | None] = [
            None if has_speech(audio) else NoSpeech("voice activity detection found no speech") for audio in audios
        ]
        short = sorted(
            (i for i, a in enumerate(audios) if results[i] is None and a.size <= WINDOW_S * SAMPLE_RATE),
            key=lambda i: audios[i].size,
        )
        for start in range(0, len(short), self.batch_size):
            chunk = short[start : start + self.batch_size]
            for index, result in zip(chunk, self._transcribe_short([audios[i] for i in chunk], cancel), strict=True):
                results[index] = result
        for index, audio in enumerate(audios):
            if results[index] is None:
                started = time.perf_counter()
                try:
                    check_cancelled(cancel, done_s=0.0, audio=audio)
                    language, probability = self.detect_language(audio)
                    text, segments = self._transcribe_long(audio, language, cancel=cancel)
                except TranscriptionCancelled as stopped:
                    log.info("%s", stopped)
                    results[index] = stopped
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                results[index] = self._result(text, segments, language, probability, audio, elapsed)
        return [r for r in results if r is not None]

    def detect_language(self, audio: np.ndarray) -> tuple[str, float]:
        """The language of a note (from its first 30 s, among ``languages`` when set) and its probability."""
        window = audio[: int(WINDOW_S * SAMPLE_RATE)]
        return self._languages_of(self._encode([window], margin_s=self.audio_ctx_margin_s))[0]

    def _transcribe_short(
        self, audios: list[np.ndarray], cancel: threading.Event | None
    ) -> list[Transcript | Exception]:
        if cancel is not None and cancel.is_set():
            return [TranscriptionCancelled(done_s=0.0, duration_s=a.size / SAMPLE_RATE) for a in audios]
        started = time.perf_counter()
        features = self._encode(audios, margin_s=self.audio_ctx_margin_s)
        languages = self._languages_of(features)
        decoded = self._generate(features, [lang for lang, _ in languages], [a.size / SAMPLE_RATE for a in audios])
        elapsed = (time.perf_counter() - started) * 1000
        results: list[Transcript | Exception] = []
        for audio, (language, probability), out in zip(audios, languages, decoded, strict=True):
            duration_s = audio.size / SAMPLE_RATE
            if out.no_speech_prob > NO_SPEECH_PROB and out.avg_logprob < LOW_LOGPROB:
                results.append(self._result("", [], language, probability, audio, elapsed))
                continue
            text, segments = split_segments(out.tokens, self._tokenizer, duration_s=duration_s)
            if compression_ratio(text) > MAX_COMPRESSION:  # a decoding loop: redo with the library's own path
                again = time.perf_counter()
                try:
                    text, segments = self._transcribe_long(audio, language, cancel=cancel)
                except TranscriptionCancelled as stopped:
                    results.append(stopped)
                    continue
                elapsed += (time.perf_counter() - again) * 1000
            results.append(self._result(text, segments, language, probability, audio, elapsed))
        return results

    def _languages_of(self, features: Any) -> list[tuple[str, float]]:
        """The most likely language of each clip (among ``languages`` when set) and its probability."""
        chosen = []
        for probs in self._detect(features):
            if self.languages:
                allowed = {code: p for code, p in probs.items() if code in self.languages} or probs
                total = sum(allowed.values()) or 1.0
                probs = {code: p / total for code, p in allowed.items()}
            code = max(probs, key=probs.__getitem__)
            chosen.append((code, float(probs[code])))
        return chosen

    def _result(
        self, text: str, segments: list[Segment], language: str, probability: float, audio: np.ndarray, ms: float
    ) -> Transcript | Exception:
        if not text:
            return NoSpeech("no words were recognised in the recording")
        return Transcript(
            text=text,
            language=language,
            language_probability=round(probability, 4),
            segments=tuple(segments),
            duration_s=round(audio.size / SAMPLE_RATE, 3),
            timings_ms={"model": round(ms, 2), "total": round(ms, 2)},
        )

    def _finish(self, result: Transcript | Exception, started: float, name: str | None) -> Transcript:
        if isinstance(result, Exception):
            if name and getattr(result, "name", None) is None:
                result.name = name  # type: ignore[attr-defined]
            raise result
        total = (time.perf_counter() - started) * 1000
        audio_ms = total - result.timings_ms["total"]
        return replace(
            result,
            timings_ms={"audio": round(audio_ms, 2), "model": result.timings_ms["model"], "total": round(total, 2)},
        )

    @property
    @abstractmethod
    def _tokenizer(self) -> Any:
        """A tokenizer with ``eot``, ``timestamp_begin`` and ``decode``."""

    @abstractmethod
    def _encode(self, audios: list[np.ndarray], *, margin_s: float | None) -> Any:
        """Encoder states for a batch: each window is the note plus ``margin_s``, padded to the batch's longest."""

    @abstractmethod
    def _detect(self, features: Any) -> list[dict[str, float]]:
        """Language code to probability for each clip of an encoded batch."""

    @abstractmethod
    def _generate(self, features: Any, languages: list[str], durations_s: list[float]) -> list[Decoded]:
        """Decode an encoded batch with timestamps, each clip in its language, beam ``beam_size``."""

    @abstractmethod
    def _transcribe_long(
        self, audio: np.ndarray, language: str, *, cancel: threading.Event | None = None
    ) -> tuple[str, list[Segment]]:
        """Transcribe with the library's own sliding-window ``transcribe()`` (notes over 30 s, decoding loops).

        Raises ``TranscriptionCancelled`` (``check_cancelled``) when ``cancel`` is set, as early as the library allows.
        """

    @abstractmethod
    def library_transcribe(self, audio: np.ndarray) -> str:
        """The library's own ``transcribe()`` on the same weights and beam size: the benchmark's baseline."""


def _with_decoding(result: Transcript | Exception, note: DecodedAudio) -> Transcript | Exception:
    """``result`` with the time spent decoding its note added to its timings."""
    if not isinstance(result, Transcript):
        return result
    timings = {"audio": round(note.decode_ms, 2), "model": result.timings_ms["model"]}
    timings["total"] = round(timings["audio"] + result.timings_ms["total"], 2)
    return replace(result, timings_ms=timings)


def check_cancelled(cancel: threading.Event | None, *, done_s: float, audio: np.ndarray) -> None:
    """Raise ``TranscriptionCancelled`` if ``cancel`` is set; ``done_s``: how far into ``audio`` the work got."""
    if cancel is not None and cancel.is_set():
        raise TranscriptionCancelled(done_s=done_s, duration_s=audio.size / SAMPLE_RATE)


def max_new_tokens(duration_s: float) -> int:
    """A cap on generated tokens for a note, generous for fast speech, that stops a decoding loop early."""
    return min(440, int(20 * duration_s) + 24)
