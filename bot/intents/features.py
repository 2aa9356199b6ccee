"""Feature stack for the linear classifier: character and word TF-IDF plus sentence embeddings.

Character n-grams carry Chinese (no word segmentation needed) and spelling variants; word n-grams carry
English phrasing; embeddings carry meaning across languages. An English-only encoder is applied only to
texts in the scripts it covers, so it adds nothing (rather than noise) to Chinese examples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.intents.language import script_of
from bot.protocols import Encoder


@dataclass(frozen=True, slots=True)
class FeatureEncoder:
    """An extra encoder the classifier runs itself, limited to texts in ``scripts`` (None: every text)."""

    encoder: Encoder
    scripts: frozenset[str] | None = None


@dataclass(slots=True)
class LexicalFeatures:
    """Character (1-4, within word boundaries) and word (1-2) TF-IDF, fitted on the training examples."""

    char: Any = field(default=None)  # sklearn TfidfVectorizer (untyped)
    word: Any = field(default=None)

    def fit(self, texts: Sequence[str]) -> LexicalFeatures:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True)
        self.word = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
        )
        self.char.fit(texts)
        self.word.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> Any:  # a scipy.sparse.csr_matrix (untyped)
        import scipy.sparse as sp

        return sp.hstack([self.char.transform(texts), self.word.transform(texts)]).tocsr()


def dense_features(texts: Sequence[str], vectors: np.ndarray, extras: Sequence[FeatureEncoder]) -> np.ndarray:
    """The query vectors followed by each extra encoder's vectors (zeros for texts outside its scripts)."""
    blocks = [np.asarray(vectors, dtype=np.float32)]
    scripts = [script_of(t) for t in texts] if any(e.scripts for e in extras) else []
    for extra in extras:
        block = np.zeros((len(texts), extra.encoder.dim), dtype=np.float32)
        chosen = [i for i in range(len(texts)) if extra.scripts is None or scripts[i] in extra.scripts]
        if chosen:
            block[chosen] = extra.encoder.encode([texts[i] for i in chosen])
        blocks.append(block)
    return np.hstack(blocks)


def encoder_names(primary: Encoder, extras: Sequence[FeatureEncoder]) -> dict[str, object]:
    """What a saved model records about its encoders, to refuse loading with different ones."""
    return {
        "primary": primary.name,
        "extras": [
            {
                "name": e.encoder.name,
                "scripts": sorted(e.scripts) if e.scripts else None,
            }
            for e in extras
        ],
    }


def extras_from_names(names: Mapping[str, Any], load: Callable[[str], Encoder]) -> list[FeatureEncoder]:
    """The extra encoders a saved model's ``encoder_names`` record lists, each loaded by ``load(name)``."""
    return [
        FeatureEncoder(load(e["name"]), frozenset(e["scripts"]) if e["scripts"] else None)
        for e in names.get("extras", [])
    ]


def check_vectors(vectors: np.ndarray, count: int, dim: int, who: str) -> np.ndarray:
    """``vectors`` as float32 of shape ``(count, dim)``; raises ``ValueError`` naming the mismatch."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.shape != (count, dim):
        raise ValueError(f"{who}: expected vectors of shape ({count}, {dim}), got {array.shape}")
    return array
