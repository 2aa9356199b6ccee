"""An interim intent model for the dialogue tests, used only while ``bot.intents`` is not installed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

STORE = Path(__file__).resolve().parents[2] / "bot" / "demo" / "store"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    confidence: float
    out_of_scope: bool


class InterimIntents:
    """Logistic regression over the encoder's vectors of ``intents.yaml``, used until ``bot.intents`` lands."""

    def __init__(self, encoder, path: Path) -> None:  # type: ignore[no-untyped-def]
        from sklearn.linear_model import LogisticRegression

        data = yaml.safe_load(path.read_text(encoding="utf-8"))["intents"]
        texts = [str(example) for spec in data.values() for example in spec["examples"]]
        labels = [name for name, spec in data.items() for _ in spec["examples"]]
        self.encoder = encoder
        self.model = LogisticRegression(max_iter=2000, C=10.0).fit(encoder.encode(texts), labels)

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Prediction]:
        vectors = self.encoder.encode(list(texts)) if vectors is None else vectors
        probabilities = self.model.predict_proba(vectors)
        out = []
        for row in probabilities:
            best = int(row.argmax())
            label = str(self.model.classes_[best])
            out.append(Prediction(label, float(row[best]), label == "other"))
        return out
