"""Choosing the heads of a small intents file by cross-validation on its own training examples.

A small file cannot spare a held-out split for every choice, so each example is scored once by heads
trained without it (stratified k-fold): those out-of-fold scores choose each head's regularisation and
the heads' weights (ensemble selection, Caruana et al. 2004), then fit the temperature and the
out-of-scope limits. Nothing outside the training examples is looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.intents.heads import Head

CANDIDATE_HEADS = (
    *(Head("lexical", "svm", c) for c in (0.3, 1.0, 3.0)),
    *(Head("dense", "logreg", c) for c in (1.0, 10.0, 100.0)),
    *(Head("dense", "svm", c) for c in (0.1, 0.3, 1.0)),
    Head("dense", "centroid"),
    Head("dense", "knn"),
)
ROUNDS = 10
"""Ensemble-selection steps: a head's weight is how many steps picked it."""


@dataclass(frozen=True, slots=True)
class OutOfFold:
    """Each head's standardised scores and each example's distance, from models that never saw it."""

    scores: list[np.ndarray]
    distance: np.ndarray


def folds(labels: np.ndarray, *, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, test) index pairs; ``k`` is capped by the rarest intent's count."""
    from sklearn.model_selection import StratifiedKFold

    k = min(k, int(np.unique(labels, return_counts=True)[1].min()))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(np.sort(a), np.sort(b)) for a, b in splitter.split(np.zeros(len(labels)), labels)]


def out_of_fold(
    score_fold: Callable[[np.ndarray, np.ndarray], tuple[list[np.ndarray], np.ndarray]],
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    count: int,
) -> OutOfFold:
    """Collect ``score_fold(train, test)`` (head scores, distances for ``test``) over all folds."""
    scores: list[np.ndarray] = []
    distance = np.zeros(count)
    for train, test in pairs:
        heads, dist = score_fold(train, test)
        if not scores:
            scores = [np.zeros((count, h.shape[1])) for h in heads]
        for whole, part in zip(scores, heads, strict=True):
            whole[test] = part
        distance[test] = dist
    return OutOfFold(scores, distance)


def choose_heads(candidates: Sequence[Head], scores: Sequence[np.ndarray], true: np.ndarray) -> list[tuple[Head, int]]:
    """The best regularisation per head kind, then weights by greedy ensemble selection with replacement.

    Each step adds the head whose addition gives the best out-of-fold accuracy (ties: lower log-loss of
    the fused scores); the returned weights are how often each head was added.
    """
    best: dict[tuple[str, str], int] = {}
    for index, head in enumerate(candidates):
        key = (head.view, head.kind)
        if key not in best or _accuracy(scores[index], true) > _accuracy(scores[best[key]], true):
            best[key] = index
    chosen = list(best.values())
    counts = dict.fromkeys(chosen, 0)
    fused = np.zeros_like(scores[0])
    for _ in range(ROUNDS):
        step = max(
            chosen,
            key=lambda i: (
                _accuracy(fused + scores[i], true),
                -_log_loss(fused + scores[i], true),
            ),
        )
        counts[step] += 1
        fused = fused + scores[step]
    return [(candidates[i], n) for i, n in counts.items() if n]


def _accuracy(scores: np.ndarray, true: np.ndarray) -> float:
    return float((scores.argmax(axis=1) == true).mean())


def _log_loss(scores: np.ndarray, true: np.ndarray) -> float:
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(true)), true].mean())
