"""Saving and loading intent models: a folder with ``manifest.json`` and the backend's own files.

The manifest (format, backend, labels, encoders, source fingerprint) is read before anything is
unpickled, so a model trained with other encoders is refused with a clear ``IntentModelError``.
Model folders are trusted artefacts (joblib unpickles them): load only models you trained.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.intents.errors import IntentModelError
from bot.intents.features import FeatureEncoder, encoder_names
from bot.intents.linear import LinearIntentClassifier
from bot.intents.roles import IntentRoles
from bot.protocols import Encoder

FORMAT = 2
"""2: the out-of-scope rule may carry a learned score; models of format 1 are refused (retrain them)."""
MANIFEST = "manifest.json"
_STATE = "linear.joblib"
_PARTNER = "partner"
_LINEAR_FIELDS = (
    "heads",
    "holdout",
    "seed",
    "classes",
    "lexical",
    "models",
    "base_models",
    "weights",
    "distance",
    "distance_dim",
    "rule",
    "scripts",
)


def save_model(
    classifier: Any, path: str | Path, *, source: dict[str, str] | None = None, roles: IntentRoles | None = None
) -> Path:
    """Write ``classifier`` to the folder ``path`` atomically (a half-written model is never loaded), with its
    intents' ``roles`` from the intents file it was trained on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        manifest = {
            "format": FORMAT,
            "backend": classifier.backend,
            "labels": [str(c) for c in classifier.classes],
            "source": source or {},
        }
        if roles is not None:
            manifest["roles"] = roles.to_json()
        if classifier.backend == "linear":
            import joblib

            manifest["encoders"] = encoder_names(classifier.encoder, classifier.extras)
            joblib.dump(
                {name: getattr(classifier, name) for name in _LINEAR_FIELDS},
                staging / _STATE,
            )
            manifest["partners"] = []
            for number, (partner, weight) in enumerate(classifier.partners.members, start=1):
                folder = _PARTNER if number == 1 else f"{_PARTNER}-{number}"
                (staging / folder).mkdir()
                partner.save(staging / folder)
                manifest["partners"].append({"backend": partner.backend, "weight": weight, "folder": folder})
        else:
            classifier.save(staging)
        (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        if path.exists():
            shutil.rmtree(path)
        os.replace(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a saved model; raises ``IntentModelError`` when it is missing or unreadable."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IntentModelError(
            path,
            f"no readable {MANIFEST} ({error}); train one with `kefu intents train`",
        ) from error
    if manifest.get("format") != FORMAT:
        raise IntentModelError(path, f"format {manifest.get('format')!r} is not {FORMAT}; retrain it")
    return manifest


def read_roles(path: str | Path) -> IntentRoles:
    """The roles of a saved model's intents; a model saved before roles existed gives each intent its name's role."""
    manifest = read_manifest(path)
    if "roles" not in manifest:
        return IntentRoles.by_name(manifest.get("labels", ()))
    try:
        return IntentRoles.from_json(manifest["roles"])
    except (ValueError, TypeError, AttributeError) as error:
        raise IntentModelError(path, f"{MANIFEST} holds roles this kefu does not know ({error}); retrain it") from error


def load_model(
    path: str | Path,
    *,
    encoder: Encoder | None = None,
    extras: Sequence[FeatureEncoder] = (),
    device: str = "auto",
) -> Any:
    """Load a saved classifier; the linear backend needs the same encoders it was trained with."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["backend"] == "transformer":
        from bot.intents.transformer import TransformerIntentClassifier

        return TransformerIntentClassifier.load(path, device=device)
    if manifest["backend"] != "linear":
        raise IntentModelError(path, f"unknown backend {manifest['backend']!r}")
    if encoder is None:
        raise IntentModelError(path, f"needs encoder {manifest['encoders']['primary']!r} to load")
    given = encoder_names(encoder, extras)
    if given != manifest["encoders"]:
        raise IntentModelError(
            path,
            f"trained with encoders {_describe(manifest['encoders'])}, given {_describe(given)}; retrain it",
        )
    import joblib

    try:
        state = joblib.load(path / _STATE)
    except Exception as error:  # a truncated or foreign file: joblib raises many kinds
        raise IntentModelError(path, f"cannot read {_STATE}: {error}") from error
    classifier = LinearIntentClassifier(encoder=encoder, extras=extras)
    for name in _LINEAR_FIELDS:
        setattr(classifier, name, state[name])
    partners = manifest.get("partners", [])
    if "partner" in manifest:  # written before several partners could be mixed in
        partners = [{**manifest["partner"], "folder": _PARTNER}]
    if partners:
        from bot.intents.transformer import TransformerIntentClassifier

        for entry in partners:
            partner = TransformerIntentClassifier.load(path / entry["folder"], device=device)
            classifier.attach(partner, weight=float(entry["weight"]))
    return classifier


def _describe(names: dict[str, Any]) -> str:
    extras = [e["name"] for e in names["extras"]]
    return names["primary"] + (f" + {', '.join(extras)}" if extras else "")
