"""The classifier's heads: linear models plus similarity heads on the sentence embeddings.

Similarity heads (cosine to each intent's mean, or to its nearest examples) need no training beyond
storing vectors and are strong on few-shot intent sets, where a linear model has little to fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Head:
    view: str
    """``lexical`` or ``dense``."""
    kind: str
    """``svm`` (LinearSVC), ``logreg`` (LogisticRegression), ``centroid`` or ``knn`` (cosine similarity)."""
    C: float = 1.0
    """Regularisation of the linear kinds (unused by the similarity kinds)."""


class CosineHead:
    """Scores each intent by cosine similarity to its mean vector (``k=0``) or the mean of its ``k`` nearest."""

    def __init__(self, *, k: int = 0) -> None:
        self.k = k
        self.classes_ = np.array([], dtype=object)
        self.vectors = np.zeros((0, 0), np.float32)
        self.owner = np.zeros(0, np.int64)

    def fit(self, features: np.ndarray, labels: np.ndarray) -> CosineHead:
        labels = np.asarray(labels, dtype=object)
        self.classes_ = np.array(sorted(set(labels)), dtype=object)
        if self.k:
            self.vectors, self.owner = unit_rows(features), np.searchsorted(self.classes_, labels)
        else:
            self.vectors, self.owner = unit_centroids(features, labels), np.arange(len(self.classes_))
        return self

    def decision_function(self, features: np.ndarray) -> np.ndarray:
        similarity = unit_rows(features) @ self.vectors.T
        if not self.k:
            return similarity
        out = np.empty((len(features), len(self.classes_)))
        for c in range(len(self.classes_)):
            own = np.sort(similarity[:, self.owner == c], axis=1)[:, ::-1]
            out[:, c] = own[:, : self.k].mean(axis=1)
        return out


def new_model(head: Head, *, seed: int) -> Any:
    """An unfitted model for ``head``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if head.kind == "svm":
        return LinearSVC(C=head.C, random_state=seed)
    if head.kind == "logreg":
        return LogisticRegression(C=head.C, max_iter=3000)
    if head.kind in {"centroid", "knn"}:
        return CosineHead(k=3 if head.kind == "knn" else 0)
    raise ValueError(f"unknown head kind {head.kind!r}")


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (float32; an all-zero row stays zero)."""
    features = np.asarray(features, dtype=np.float32)
    norm = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norm > 0, norm, 1.0)


def unit_centroids(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per label (in sorted order), the unit-length mean of its unit-length rows."""
    labels = np.asarray(labels, dtype=object)
    unit = unit_rows(features)
    return unit_rows(np.stack([unit[labels == c].mean(axis=0) for c in sorted(set(labels))]))
