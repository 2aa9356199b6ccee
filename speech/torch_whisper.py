"""The openai-whisper (torch) backend: the GPU path, decoding several notes in one batched forward pass.

The model comes from CTranslate2 weights converted in memory (``speech.convert``) unless a ``.pt``
checkpoint or a download name is given. Its encoder is made to take windows shorter than 30 s by
slicing the positional embedding, as whisper.cpp's ``audio_ctx`` does.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.convert import to_openai_whisper
from speech.models import ModelSource
from speech.transcriber import Decoded, WhisperTranscriber, check_cancelled, max_new_tokens, window_frames
from speech.transcript import Segment

if TYPE_CHECKING:
    from speech.transcriber import TranscriberOptions


def _windowed_encoder_class() -> type:
    """An ``AudioEncoder`` whose forward accepts any window up to 30 s (positional embedding sliced)."""
    import torch.nn.functional as F
    from whisper.model import AudioEncoder

    class WindowedAudioEncoder(AudioEncoder):
        def forward(self, x: Any) -> Any:
            x = F.gelu(self.conv1(x))
            x = F.gelu(self.conv2(x)).permute(0, 2, 1)
            x = (x + self.positional_embedding[: x.shape[1]]).to(x.dtype)
            for block in self.blocks:
                x = block(x)
            return self.ln_post(x)

    return WindowedAudioEncoder


def _features_task_class() -> type:
    """A ``DecodingTask`` fed encoder states that were computed already (on a short window).

    It also repeats each note's states once per beam: openai-whisper 20250625 repeats only the tokens,
    so its own beam search fails on a batch of more than one note (tensor sizes 40 vs 8).
    """
    from whisper.decoding import DecodingTask

    class EncodedDecodingTask(DecodingTask):
        def _get_audio_features(self, mel: Any) -> Any:
            return mel.repeat_interleave(self.n_group, dim=0) if self.n_group > 1 else mel

        def _detect_language(self, audio_features: Any, tokens: Any) -> tuple[list[str], None]:
            return [self.options.language] * tokens.shape[0], None  # always given: detected beforehand

    return EncodedDecodingTask


class OpenAIWhisperTranscriber(WhisperTranscriber):
    """Whisper through openai-whisper on torch: fp16 on CUDA, fp32 on CPU; batched beam search."""

    backend = "openai-whisper"

    def __init__(self, source: ModelSource, *, device: str = "cpu", **options: Unpack[TranscriberOptions]) -> None:
        import torch
        import whisper
        from whisper.tokenizer import get_tokenizer

        self.device = device
        self.model_name = source.name
        super().__init__(**options)
        if source.files or (source.path is not None and source.path.is_dir()):
            self.model = to_openai_whisper(source, device=device)
        else:
            self.model = whisper.load_model(str(source.path or source.name), device=device)
        self.model.encoder.__class__ = _windowed_encoder_class()
        self.fp16 = device == "cuda"
        self.dtype = torch.float16 if self.fp16 else torch.float32
        self._tok = get_tokenizer(self.model.is_multilingual, num_languages=self.model.num_languages, task="transcribe")
        self._task_class = _features_task_class()

    @property
    def _tokenizer(self) -> Any:
        return self._tok

    def _encode(self, audios: list[np.ndarray], *, margin_s: float | None) -> Any:
        import torch
        from whisper.audio import N_SAMPLES, log_mel_spectrogram

        frames = max(window_frames(a.size / SAMPLE_RATE, margin_s) for a in audios)
        n_mels = self.model.dims.n_mels
        with torch.inference_mode():
            mels = [
                log_mel_spectrogram(torch.from_numpy(a), n_mels, padding=N_SAMPLES, device=self.device)[:, :frames]
                for a in audios
            ]
            return self.model.encoder(torch.stack(mels).to(self.dtype))

    def _detect(self, features: Any) -> list[dict[str, float]]:
        import torch

        if not self.model.is_multilingual:
            return [{"en": 1.0} for _ in range(features.shape[0])]
        language_tokens = list(self._tok.all_language_tokens)
        codes = list(self._tok.all_language_codes)
        with torch.inference_mode():
            sot = torch.full((features.shape[0], 1), self._tok.sot, device=features.device)
            logits = self.model.logits(sot, features)[:, 0, language_tokens].float()
            probs = logits.softmax(dim=-1).cpu().numpy()
        return [dict(zip(codes, map(float, row), strict=True)) for row in probs]

    def _generate(self, features: Any, languages: list[str], durations_s: list[float]) -> list[Decoded]:
        """One batched decoding per language present in the batch (usually one)."""
        import torch
        from whisper.decoding import DecodingOptions

        decoded: dict[int, Decoded] = {}
        for language in dict.fromkeys(languages):
            rows = [i for i, lang in enumerate(languages) if lang == language]
            options = DecodingOptions(
                language=language,
                beam_size=self.beam_size if self.beam_size > 1 else None,
                fp16=self.fp16,
                sample_len=max(max_new_tokens(durations_s[i]) for i in rows),
            )
            with torch.inference_mode():
                results = self._task_class(self.model, options).run(features[rows])
            for row, result in zip(rows, results, strict=True):
                decoded[row] = Decoded(list(result.tokens), result.avg_logprob, result.no_speech_prob)
        return [decoded[i] for i in range(len(languages))]

    def _transcribe_long(
        self, audio: np.ndarray, language: str, *, cancel: threading.Event | None = None
    ) -> tuple[str, list[Segment]]:
        """openai-whisper's ``transcribe()`` runs a note to its end: ``cancel`` is honoured before it starts only."""
        import whisper

        check_cancelled(cancel, done_s=0.0, audio=audio)
        result = whisper.transcribe(self.model, audio, beam_size=self.beam_size, language=language, fp16=self.fp16)
        found = [Segment(round(s["start"], 2), round(s["end"], 2), s["text"].strip()) for s in result["segments"]]
        return result["text"].strip(), found

    def library_transcribe(self, audio: np.ndarray) -> str:
        """openai-whisper's own ``transcribe()`` on the same weights and beam size: the benchmark's baseline."""
        import whisper

        return whisper.transcribe(self.model, audio, beam_size=self.beam_size, fp16=self.fp16)["text"].strip()
