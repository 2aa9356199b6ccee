"""Training from an intents file, and the cached model the bot loads at start (trained on first use)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.intents.errors import IntentModelError
from bot.intents.features import FeatureEncoder, encoder_names
from bot.intents.language import LANGUAGE_SCRIPTS
from bot.intents.linear import TRAINING_VERSION, LinearIntentClassifier
from bot.intents.persist import FORMAT, load_model, save_model
from bot.intents.spec import IntentsSpec, load_intents
from bot.protocols import Encoder

log = logging.getLogger(__name__)


def train_linear(
    spec: IntentsSpec, *, encoder: Encoder, extras: Sequence[FeatureEncoder] = (), seed: int = 0
) -> LinearIntentClassifier:
    """The default classifier fitted on an intents file's examples (``seed``: its folds and splits)."""
    texts, labels = spec.examples()
    scripts = frozenset(LANGUAGE_SCRIPTS[code] for code in spec.languages) or None
    return LinearIntentClassifier(encoder=encoder, extras=extras, seed=seed).fit(
        texts,
        labels,
        oos_label=spec.out_of_scope,
        thresholds=spec.thresholds,
        scripts=scripts,
    )


def cache_key(spec: IntentsSpec, encoder: Encoder, extras: Sequence[FeatureEncoder]) -> str:
    """Hash of the intents file, the encoders and the training version: a change to any trains a fresh model."""
    blob = json.dumps(
        [FORMAT, "linear", TRAINING_VERSION, spec.fingerprint, encoder_names(encoder, extras)],
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def load_or_train(
    intents_file: str | Path,
    *,
    encoder: Encoder,
    cache_dir: str | Path,
    extra_encoders: Sequence[FeatureEncoder] = (),
) -> LinearIntentClassifier:
    """The classifier for ``intents_file``: loaded from ``cache_dir`` when trained before, else trained and saved.

    ``encoder`` is the pipeline's query encoder (its vectors are passed to ``predict``); ``extra_encoders``
    add features the classifier computes itself. Training the demo store (840 examples) takes seconds.
    """
    spec = load_intents(intents_file)
    path = Path(cache_dir) / f"intents-{cache_key(spec, encoder, extra_encoders)}"
    if path.is_dir():
        try:
            return load_model(path, encoder=encoder, extras=extra_encoders)
        except IntentModelError as error:
            log.warning("retraining intents: %s", error)
    classifier = train_linear(spec, encoder=encoder, extras=extra_encoders)
    save_model(classifier, path, source=_source(spec), roles=spec.roles)
    log.info("trained intents from %s into %s", spec.source, path)
    return classifier


def _source(spec: IntentsSpec) -> dict[str, Any]:
    return {"file": spec.source, "sha256": spec.fingerprint}
