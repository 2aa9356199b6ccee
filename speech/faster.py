"""The faster-whisper (CTranslate2) backend: the CPU default, int8 on CPU, float16 on CUDA.

CTranslate2 encodes features of any length up to 30 s as they are, so a 6 s note is encoded as an
8 s window instead of 30 s; decoding batches several notes in one ``generate`` call.

On the CPU, short notes are decoded by a second instance of the same weights that runs each call on one
thread (``DECODE_THREADS``), several calls side by side; the encoder, language detection and the
library's ``transcribe()`` keep every core, on ``LIBRARY_REPLICAS`` replicas so that a long note's
sliding window never holds up a short note's encoder call.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.models import ModelSource
from speech.transcriber import Decoded, WhisperTranscriber, check_cancelled, max_new_tokens, window_frames
from speech.transcript import Segment

if TYPE_CHECKING:
    from speech.transcriber import TranscriberOptions

DECODE_THREADS = 1
"""Threads per decoding call on the CPU. Beam search over one note multiplies small matrices step after
step; a second OpenMP thread costs more in synchronisation than it adds (6 s note, beam 5, same run:
0.29 s on one thread against 0.46 s on two; the encoder gains from two: 0.08 s against 0.10 s)."""
LIBRARY_REPLICAS = 2
"""Replicas of the library's model on the CPU: calls to one replica queue behind each other, so one serves a long
note (one window after another) while the other encodes short notes (a 5 s note's encoder call during a
120 s note's transcription, same run: 0.09-0.3 s on two replicas against 0.7-5.7 s on one)."""


def _cpu_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_calls(device: str) -> int:
    """Notes decoded side by side: one per core on the CPU (each decodes on one thread), one on a GPU."""
    return _cpu_threads() if device == "cpu" else 1


class FasterWhisperTranscriber(WhisperTranscriber):
    """Whisper through faster-whisper's ``WhisperModel`` with a short encoder window for short notes."""

    backend = "faster-whisper"

    def __init__(
        self,
        source: ModelSource,
        *,
        device: str = "cpu",
        compute_type: str | None = None,
        **options: Unpack[TranscriberOptions],
    ) -> None:
        import ctranslate2
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.utils import download_model

        self.device = device
        self.model_name = source.name
        self.compute_type = compute_type or ("float16" if device == "cuda" else "int8")
        super().__init__(**options)
        kwargs: dict[str, Any] = {"device": device, "compute_type": self.compute_type}
        if device == "cpu":
            kwargs["cpu_threads"] = _cpu_threads()
            kwargs["num_workers"] = LIBRARY_REPLICAS
        model_path = source.name if source.files else str(source.path or download_model(source.name))
        self.whisper = WhisperModel(model_path, files=dict(source.files) or None, **kwargs)
        self._decoder = self.whisper.model
        if device == "cpu":
            self._decoder = ctranslate2.models.Whisper(
                model_path,
                device="cpu",
                compute_type=self.compute_type,
                intra_threads=DECODE_THREADS,
                inter_threads=parallel_calls(device),
                files=dict(source.files) or None,
            )
        multilingual = self.whisper.model.is_multilingual
        self._tok = Tokenizer(
            self.whisper.hf_tokenizer, multilingual, task="transcribe", language="en" if multilingual else None
        )

    @property
    def parallel_calls(self) -> int:
        return parallel_calls(self.device)

    @property
    def _tokenizer(self) -> Any:
        return self._tok

    def _encode(self, audios: list[np.ndarray], *, margin_s: float | None) -> Any:
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        frames = max(window_frames(a.size / SAMPLE_RATE, margin_s) for a in audios)
        batch = np.stack([pad_or_trim(self.whisper.feature_extractor(a)[:, :-1], frames) for a in audios])
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(batch, dtype=np.float32))
        return self.whisper.model.encode(view, to_cpu=False)

    def _detect(self, features: Any) -> list[dict[str, float]]:
        if not self.whisper.model.is_multilingual:
            return [{"en": 1.0} for _ in range(features.shape[0])]
        return [{token[2:-2]: prob for token, prob in clip} for clip in self.whisper.model.detect_language(features)]

    def _prompt(self, language: str) -> list[int]:
        if not self.whisper.model.is_multilingual:
            return [self._tok.sot]
        return [self._tok.sot, self._tok.tokenizer.token_to_id(f"<|{language}|>"), self._tok.transcribe]

    def _generate(self, features: Any, languages: list[str], durations_s: list[float]) -> list[Decoded]:
        prompts = [self._prompt(language) for language in languages]
        results = self._decoder.generate(
            features,
            prompts,
            beam_size=self.beam_size,
            max_length=len(prompts[0]) + max(max_new_tokens(d) for d in durations_s),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_tokens=[-1],
        )
        decoded = []
        for result in results:
            tokens = result.sequences_ids[0]
            avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
            decoded.append(Decoded(tokens=tokens, avg_logprob=avg_logprob, no_speech_prob=result.no_speech_prob))
        return decoded

    def _transcribe_long(
        self, audio: np.ndarray, language: str, *, cancel: threading.Event | None = None
    ) -> tuple[str, list[Segment]]:
        """The library yields segments lazily, one 30 s window's worth at a time: ``cancel`` is checked between."""
        segments, _ = self.whisper.transcribe(audio, beam_size=self.beam_size, language=language)
        found: list[Segment] = []
        for segment in segments:
            found.append(Segment(round(segment.start, 2), round(segment.end, 2), segment.text.strip()))
            check_cancelled(cancel, done_s=segment.end, audio=audio)
        return " ".join(s.text for s in found if s.text).strip(), found

    def library_transcribe(self, audio: np.ndarray) -> str:
        """The library's own ``transcribe()`` on the same weights and beam size: the benchmark's baseline."""
        segments, _ = self.whisper.transcribe(audio, beam_size=self.beam_size)
        return " ".join(s.text.strip() for s in segments).strip()
