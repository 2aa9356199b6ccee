"""Fine-tuned classifiers whose probabilities are mixed into the linear classifier's (linear+transformer).

Models that learn differently err on different queries: on CLINC150 the linear heads over frozen embeddings,
a fine-tuned MiniLM and a fine-tuned SmolLM2 each miss out-of-scope queries the others catch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(slots=True)
class Partners:
    """Partners (anything with ``classes`` and ``probabilities(texts)``) and their shares of the mix."""

    members: list[tuple[Any, float]] = field(default_factory=list)

    def add(self, partner: Any, *, weight: float) -> None:
        """Mix ``partner`` in with ``weight``; all shares together stay at most 1."""
        if not 0.0 <= weight <= 1.0 - sum(self.weights) + 1e-9:
            raise ValueError(f"partner weight {weight} is not between 0 and 1 less the other partners' shares")
        self.members.append((partner, float(weight)))

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(weight for _, weight in self.members)

    def active(self) -> bool:
        return any(weight > 0 for weight in self.weights)

    def probabilities(self, texts: Sequence[str]) -> list[np.ndarray]:
        return [partner.probabilities(texts) for partner, _ in self.members]

    def apply(self, own: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """``own`` probabilities for ``texts`` mixed with the partners'; a partner with no share is not run."""
        live = [(partner, weight) for partner, weight in self.members if weight > 0]
        return self.mix(own, [partner.probabilities(texts) for partner, _ in live], [weight for _, weight in live])

    def mix(self, own: np.ndarray, theirs: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
        """``own`` probabilities mixed with the partners' ``theirs`` (default: their shares; the rest is own's)."""
        weights = self.weights if weights is None else tuple(weights)
        mixed = (1.0 - sum(weights)) * own
        for weight, probs in zip(weights, theirs, strict=True):
            mixed = mixed + weight * probs
        return mixed

    def fit_weights(
        self,
        own: np.ndarray,
        theirs: Sequence[np.ndarray],
        labels: Sequence[str],
        *,
        classes: np.ndarray,
        steps: int = 10,
    ) -> tuple[float, ...]:
        """Set the shares to those on a 1/``steps`` grid (adding up to at most 1) whose mix of held-out
        probabilities (columns: ``classes``) is most accurate; ties go to the lower shares, the first partner's
        first. Returns them."""
        true = np.asarray(labels, dtype=object)
        grid = [s for s in itertools.product(range(steps + 1), repeat=len(self.members)) if sum(s) <= steps]
        accuracy = [
            float((classes[self.mix(own, theirs, [n / steps for n in s]).argmax(axis=1)] == true).mean()) for s in grid
        ]
        best = np.divide(grid[int(np.argmax(accuracy))], steps)
        self.members = [(partner, float(w)) for (partner, _), w in zip(self.members, best, strict=True)]
        return self.weights
