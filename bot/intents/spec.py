"""The intents file (YAML, Rasa-like): intents with examples in any language, optional thresholds and roles.

version: 1
languages: [en, zh]        # optional; codes the multilingual encoder covers
out_of_scope: other        # optional; default: an intent named other, out_of_scope or oos, else one with role other
intents:
  hello_there:
    role: greeting         # optional; default: the role the intent is named after, if any (bot.intents.roles)
    threshold: 0.4         # optional; below this confidence the answer is "out of scope"
    examples: [hello, 你好]
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.intents.errors import IntentsFileError
from bot.intents.language import LANGUAGE_SCRIPTS, check_language, script_of
from bot.intents.roles import NO_ROLE, ROLE_NAMES, IntentRoles, Role, default_role

MIN_EXAMPLES = 2
"""Fewest examples an intent may have: one example cannot be split for calibration or tell a class's spread."""
OOS_NAMES = ("out_of_scope", "oos", "other")
_TOP_KEYS = {"version", "languages", "language", "out_of_scope", "intents"}
_INTENT_KEYS = {"examples", "threshold", "role"}


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    examples: tuple[str, ...]
    threshold: float | None = None
    role: Role | None = None
    """What the core does with it (``bot.intents.roles``); None: a plain knowledge-base question."""


@dataclass(frozen=True, slots=True)
class IntentsSpec:
    """A validated intents file."""

    intents: tuple[Intent, ...]
    languages: tuple[str, ...]
    """Declared language codes; empty when the file declares none (then any script seen in examples is fine)."""
    out_of_scope: str | None
    """The intent whose examples stand for "none of the others", if any."""
    fingerprint: str
    """sha256 of the file's bytes: a model trained on it is cached under this key."""
    source: str = "<memory>"

    def examples(self) -> tuple[list[str], list[str]]:
        """All examples and their intent names, in file order."""
        texts = [text for intent in self.intents for text in intent.examples]
        labels = [intent.name for intent in self.intents for _ in intent.examples]
        return texts, labels

    @property
    def thresholds(self) -> dict[str, float]:
        return {i.name: i.threshold for i in self.intents if i.threshold is not None}

    @property
    def roles(self) -> IntentRoles:
        """Every intent's role: the one mapping from the shop's intent names to what the core does."""
        return IntentRoles(MappingProxyType({i.name: i.role for i in self.intents}))


def load_intents(path: str | Path) -> IntentsSpec:
    """Read and validate an intents file; raises ``IntentsFileError`` naming the file and the problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise IntentsFileError(path, f"cannot read the file ({error.strerror or error})") from error
    return parse_intents(raw, source=str(path))


def parse_intents(raw: bytes | str, *, source: str = "<memory>") -> IntentsSpec:
    """Validate intents YAML given as bytes or text; ``source`` names it in errors."""
    import yaml

    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise IntentsFileError(source, f"not valid UTF-8 YAML: {error}") from error
    if not isinstance(doc, dict):
        raise IntentsFileError(source, "expected a mapping with 'version' and 'intents'")
    if unknown := set(doc) - _TOP_KEYS:
        raise IntentsFileError(source, f"unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    if doc.get("version", 1) != 1:
        raise IntentsFileError(source, f"version {doc.get('version')!r} is not supported (use version: 1)")
    languages = _languages(doc.get("languages", doc.get("language")), source)
    intents = _intents(doc.get("intents"), source)
    _check_duplicates(intents, source)
    if languages:
        _check_scripts(intents, languages, source)
    names = [i.name for i in intents]
    oos = doc.get("out_of_scope")
    if oos is not None and oos not in names:
        raise IntentsFileError(source, f"out_of_scope names {oos!r}, which is not one of the intents")
    if oos is None:
        oos = next((n for n in OOS_NAMES if n in names), None)
        oos = oos or next((i.name for i in intents if i.role is Role.OTHER), None)
    intents = _with_out_of_scope_role(intents, oos, source)
    return IntentsSpec(tuple(intents), languages, oos, hashlib.sha256(data).hexdigest(), source)


def _languages(value: Any, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise IntentsFileError(source, "languages must be a language code or a list of codes")
    try:
        return tuple(dict.fromkeys(check_language(c) for c in codes))
    except ValueError as error:
        raise IntentsFileError(source, str(error)) from error


def _intents(value: Any, source: str) -> list[Intent]:
    if not isinstance(value, dict) or not value:
        raise IntentsFileError(
            source,
            "'intents' must be a non-empty mapping of intent name to its examples",
        )
    if len(value) < 2:
        raise IntentsFileError(source, "a classifier needs at least 2 intents")
    intents = []
    for name, body in value.items():
        if not isinstance(name, str) or not name.strip():
            raise IntentsFileError(source, f"intent name {name!r} must be a non-empty string")
        body = {"examples": body} if isinstance(body, list) else body
        if not isinstance(body, dict) or (unknown := set(body) - _INTENT_KEYS):
            detail = f"unknown key(s) {sorted(unknown)}" if isinstance(body, dict) else "expected a mapping"
            raise IntentsFileError(source, f"intent {name!r}: {detail}; allowed: examples, threshold, role")
        examples = body.get("examples") or []
        if not isinstance(examples, list) or not all(isinstance(e, str | int | float) for e in examples):
            raise IntentsFileError(source, f"intent {name!r}: 'examples' must be a list of strings")
        cleaned = list(dict.fromkeys(_normal_space(str(e)) for e in examples if str(e).strip()))
        if len(cleaned) < MIN_EXAMPLES:
            raise IntentsFileError(
                source,
                f"intent {name!r} has {len(cleaned)} distinct example(s); give at least {MIN_EXAMPLES}",
            )
        threshold = _threshold(body.get("threshold"), name, source)
        intents.append(Intent(name, tuple(cleaned), threshold, _role(body, name, source)))
    return intents


def _role(body: dict[str, Any], name: str, source: str) -> Role | None:
    """The intent's ``role:`` (``none``: no role), else the role it is named after."""
    if "role" not in body:
        return default_role(name)
    value = body["role"]
    if value == NO_ROLE:
        return None
    if not isinstance(value, str) or value not in ROLE_NAMES:
        raise IntentsFileError(
            source,
            f"intent {name!r}: role {value!r} is not one the core knows; "
            f"use one of {', '.join(ROLE_NAMES)} (or {NO_ROLE} for a plain knowledge-base question)",
        )
    return Role(value)


def _with_out_of_scope_role(intents: list[Intent], oos: str | None, source: str) -> list[Intent]:
    """The out-of-scope intent has role ``other`` (the bot declines what it catches); another role is refused."""
    if oos is None:
        return intents
    out = next(i for i in intents if i.name == oos)
    if out.role not in (Role.OTHER, default_role(out.name)):
        raise IntentsFileError(
            source,
            f"intent {oos!r} is the out-of-scope intent, so its role is {Role.OTHER.value}, not {out.role or NO_ROLE}",
        )
    return [replace(i, role=Role.OTHER) if i.name == oos else i for i in intents]


def _threshold(value: Any, name: str, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise IntentsFileError(
            source,
            f"intent {name!r}: threshold must be a number from 0 to 1, not {value!r}",
        )
    return float(value)


def _check_duplicates(intents: list[Intent], source: str) -> None:
    seen: dict[str, str] = {}
    for intent in intents:
        for example in intent.examples:
            key = example.casefold()
            if (other := seen.setdefault(key, intent.name)) != intent.name:
                raise IntentsFileError(
                    source,
                    f"example {example!r} is listed under both {other!r} and {intent.name!r}; keep it in one",
                )


def _check_scripts(intents: list[Intent], languages: tuple[str, ...], source: str) -> None:
    allowed = {LANGUAGE_SCRIPTS[code] for code in languages}
    for intent in intents:
        for example in intent.examples:
            script = script_of(example)
            if script is not None and script not in allowed:
                raise IntentsFileError(
                    source,
                    f"example {example!r} of intent {intent.name!r} is in {script} script, "
                    f"which none of the declared languages ({', '.join(languages)}) uses",
                )


def _normal_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
