"""Labelled data for evaluation: BANKING77, CLINC150 (read in place, never copied) or an intents file.

The benchmark folder is found in this order: an explicit ``data_dir``, ``$KEFU_DATA_SETS``, then
``../shared/data`` relative to the working directory.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bot.intents.errors import DatasetMissing, IntentsFileError
from bot.intents.spec import load_intents

OOS_LABEL = "oos"
BENCHMARKS = ("banking77", "clinc150")


@dataclass(frozen=True, slots=True)
class Split:
    texts: list[str]
    labels: list[str]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Train/test (and optional validation) splits; ``oos_label`` marks out-of-scope examples if any."""

    name: str
    train: Split
    test: Split
    val: Split | None = None
    oos_label: str | None = None


def data_root(data_dir: str | Path | None = None) -> list[Path]:
    """Candidate benchmark folders, most specific first."""
    candidates = [Path(data_dir)] if data_dir else []
    if env := os.environ.get("KEFU_DATA_SETS"):
        candidates.append(Path(env))
    candidates.append(Path.cwd().parent / "shared" / "data")
    return candidates


def load_dataset(name: str, *, data_dir: str | Path | None = None, seed: int = 0) -> Dataset:
    """``banking77``, ``clinc150`` or the path of an intents file (split 75/25, stratified, fixed seed)."""
    if name in BENCHMARKS:
        roots = data_root(data_dir)
        folder = next((r / name for r in roots if (r / name).is_dir()), None)
        if folder is None:
            raise DatasetMissing(name, [str(r / name) for r in roots])
        return _banking77(folder) if name == "banking77" else _clinc150(folder)
    path = Path(name)
    if not path.is_file():
        raise DatasetMissing(name, [str(path.resolve())])
    return intents_file_dataset(path, seed=seed)


def intents_file_dataset(path: Path, *, seed: int = 0, test_size: float = 0.25) -> Dataset:
    """A held-out split of an intents file's examples, stratified by intent (every intent keeps one to train)."""
    from sklearn.model_selection import train_test_split

    spec = load_intents(path)
    texts, labels = spec.examples()
    try:
        train_x, test_x, train_y, test_y = train_test_split(
            texts, labels, test_size=test_size, stratify=labels, random_state=seed
        )
    except ValueError as error:
        raise IntentsFileError(path, f"too few examples to hold out {test_size:.0%} per intent: {error}") from error
    return Dataset(
        path.stem,
        Split(train_x, train_y),
        Split(test_x, test_y),
        None,
        spec.out_of_scope,
    )


def _banking77(folder: Path) -> Dataset:
    def read(split: str) -> Split:
        with open(folder / f"{split}.csv", encoding="utf-8", newline="") as file:
            rows = list(csv.DictReader(file))
        return Split([r["text"] for r in rows], [r["category"] for r in rows])

    return Dataset("banking77", read("train"), read("test"))


def _clinc150(folder: Path) -> Dataset:
    """CLINC150 "full": the 100 ``oos_train`` examples train an extra ``oos`` class; val and test include OOS."""
    data = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))

    def join(*keys: str) -> Split:
        items = [item for key in keys for item in data[key]]
        return Split(
            [t for t, _ in items],
            [OOS_LABEL if lab == "oos" else lab for _, lab in items],
        )

    return Dataset(
        "clinc150",
        join("train", "oos_train"),
        join("test", "oos_test"),
        join("val", "oos_val"),
        OOS_LABEL,
    )
