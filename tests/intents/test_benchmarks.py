"""Small slices of BANKING77 and CLINC150 (read in place from ../shared/data; skipped where absent).

Full-data figures come from ``kefu eval intents`` (docs/intents.md), never from the unit tests.
"""

from __future__ import annotations

import json

import pytest

from bot.intents import LinearIntentClassifier
from bot.intents.benchmark import evaluate_linear
from bot.intents.datasets import Dataset, DatasetMissing, Split, load_dataset

pytestmark = pytest.mark.slow  # trains on dataset slices with the real encoder: about 90 s on 2 cores


def _load(name: str) -> Dataset:
    try:
        return load_dataset(name)
    except DatasetMissing as error:
        pytest.skip(str(error))


def _keep(split: Split, labels: set[str], *, limit: dict[str, int] | None = None) -> Split:
    counts: dict[str, int] = {}
    texts, kept = [], []
    for text, label in zip(split.texts, split.labels, strict=True):
        if label in labels and counts.get(label, 0) < (limit or {}).get(label, 10**9):
            counts[label] = counts.get(label, 0) + 1
            texts.append(text)
            kept.append(label)
    return Split(texts, kept)


def test_banking77_five_classes(use_encoder) -> None:
    data = _load("banking77")
    labels = set(sorted(set(data.train.labels))[:5])
    subset = Dataset("banking77-5", _keep(data.train, labels), _keep(data.test, labels))
    report = evaluate_linear(subset, lambda: LinearIntentClassifier(encoder=use_encoder))
    assert report["examples"] == 200
    assert report["accuracy"] >= 0.9 and report["macro_f1"] >= 0.9, report
    assert set(report["per_class"]) == labels
    assert all(c["true"] != c["predicted"] for c in report["confusions"])


def test_clinc150_one_domain_with_out_of_scope(use_encoder) -> None:
    data = _load("clinc150")
    labels = set(sorted(set(data.train.labels) - {"oos"})[:10])
    keep = labels | {"oos"}
    subset = Dataset(
        "clinc150-10",
        _keep(data.train, keep),
        _keep(data.test, keep, limit={"oos": 300}),
        _keep(data.val, keep),
        "oos",
    )
    report = evaluate_linear(subset, lambda: LinearIntentClassifier(encoder=use_encoder))
    assert report["in_scope_accuracy"] >= 0.9, report
    # limits chosen on validation keep in-scope accuracy there within 0.5 points and catch more OOS
    assert report["validation"]["oos_recall"] >= report["no_threshold"]["oos_recall"] - 0.05
    assert report["oos_recall"] >= report["no_threshold"]["oos_recall"]
    assert report["oos_recall"] >= 0.5, report
    assert 0.0 <= report["rule"]["min_confidence"] <= 1.0
    assert len(report["rule"]["score_weights"]) == 3  # a score learned on the validation split's OOS examples
    json.dumps(report, allow_nan=False)  # the report is strict JSON (an absent limit is null, not Infinity)


def test_missing_data_set_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KEFU_DATA_SETS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        DatasetMissing,
        match=r"data set 'banking77' not found; looked in: .*KEFU_DATA_SETS",
    ):
        load_dataset("banking77")
