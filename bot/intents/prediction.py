"""What a classifier returns for one text (satisfies ``bot.protocols.IntentPrediction``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    """The most likely intent (also when out of scope: the closest intent, useful for clarifying)."""
    confidence: float
    """Calibrated probability of ``label``."""
    out_of_scope: bool
    reason: str | None = None
    """Why out of scope: ``intent`` (an out-of-scope intent won), ``low_confidence``, ``far`` (unlike every
    intent's examples) or ``language`` (a script none of the examples uses)."""
    scores: dict[str, float] = field(default_factory=dict)
    """The top intents and their probabilities, best first."""


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    scaled = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(scores: np.ndarray, true_index: np.ndarray) -> float:
    """The inverse temperature minimising held-out negative log-likelihood (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(true_index))

    def nll(log_scale: float) -> float:
        probs = softmax(scores * float(np.exp(log_scale)))
        return float(-np.log(probs[rows, true_index] + 1e-12).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded").x))


def build_predictions(
    classes: np.ndarray, probs: np.ndarray, reasons: list[str | None], *, top: int = 3
) -> list[Prediction]:
    """Predictions from a probability matrix and each row's out-of-scope reason."""
    order = np.argsort(-probs, axis=1)[:, :top]
    return [
        Prediction(
            label=str(classes[row[0]]),
            confidence=float(p[row[0]]),
            out_of_scope=reason is not None,
            reason=reason,
            scores={str(classes[j]): float(p[j]) for j in row},
        )
        for row, p, reason in zip(order, probs, reasons, strict=True)
    ]
