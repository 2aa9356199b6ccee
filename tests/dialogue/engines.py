"""Real engines for the dialogue tests: the packaged USE encoder, the demo store's kb index and an intent model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

STORE = Path(__file__).resolve().parents[2] / "bot" / "demo" / "store"
KB_FILES = ("faq.en.json", "faq.zh.json", "policies.md", "products.json")


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


def load_engines(cache: Path):  # type: ignore[no-untyped-def]
    """(encoder, knowledge base, intent classifier) built from the demo store; the kb index is cached in ``cache``."""
    from kb.build import open_or_build
    from kb.encoders import load_encoder

    encoder = load_encoder("use-multilingual")
    knowledge = open_or_build([STORE / name for name in KB_FILES], cache_dir=cache / "kb", encoder=encoder)
    try:
        from bot.intents import load_or_train
    except ImportError:
        intents = InterimIntents(encoder, STORE / "intents.yaml")
    else:
        intents = load_or_train(STORE / "intents.yaml", encoder=encoder, cache_dir=cache / "intents")
    return encoder, knowledge, intents
