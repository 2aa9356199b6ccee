"""Intent classification: an intents file in, a classifier with calibrated confidence and out-of-scope flags out.

The bot calls one function at start (``bot.app`` wires the encoders; this package never imports ``kb``):

    classifier = load_or_train(intents_yaml, encoder=use, cache_dir=data_dir / "intents",
                               extra_encoders=[english_only(minilm)])
    classifier.predict(texts, vectors)   # vectors: the pipeline's one query encoding per message
"""

from __future__ import annotations

from bot.intents.errors import (
    DatasetMissing,
    EmptyText,
    IntentModelError,
    IntentsFileError,
)
from bot.intents.features import FeatureEncoder
from bot.intents.linear import LinearIntentClassifier
from bot.intents.persist import load_model, save_model
from bot.intents.prediction import Prediction
from bot.intents.roles import IntentRoles, Role
from bot.intents.spec import IntentsSpec, load_intents, parse_intents
from bot.intents.training import load_or_train, train_linear
from bot.protocols import Encoder


def english_only(encoder: Encoder) -> FeatureEncoder:
    """An extra encoder that sees Latin-script texts only (an English model adds noise on Chinese)."""
    return FeatureEncoder(encoder, frozenset({"latin"}))


__all__ = [
    "DatasetMissing",
    "EmptyText",
    "FeatureEncoder",
    "IntentModelError",
    "IntentRoles",
    "IntentsFileError",
    "IntentsSpec",
    "LinearIntentClassifier",
    "Prediction",
    "Role",
    "english_only",
    "load_intents",
    "load_model",
    "load_or_train",
    "parse_intents",
    "save_model",
    "train_linear",
]
