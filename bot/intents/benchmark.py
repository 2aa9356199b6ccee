"""Train on a data set's training split, choose out-of-scope limits on its validation split, score its test split."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from bot.intents.datasets import Dataset, Split
from bot.intents.evaluate import intent_report, out_of_scope_scores
from bot.intents.language import script_of
from bot.intents.linear import DEFAULT_PARTNER_WEIGHT, Scored
from bot.intents.oos import OosRule, choose_rule


def evaluate_linear(
    dataset: Dataset,
    make: Callable[[], Any],
    *,
    max_in_scope_loss: float = 0.005,
    train_partners: Sequence[Callable[[list[str], list[str]], Any]] = (),
) -> dict[str, Any]:
    """Report for a ``LinearIntentClassifier`` made by ``make()``: test scores, timings, the OOS rule used.

    Each of ``train_partners`` (called with the training texts and labels) trains a classifier (a fine-tuned
    transformer) whose probabilities are mixed in, the shares chosen on the validation split where there is one
    (else ``DEFAULT_PARTNER_WEIGHT`` shared out evenly).
    Out-of-scope limits come from the validation split when it has out-of-scope examples (never the test
    split); otherwise from the classifier's own held-out examples.
    """
    started = time.perf_counter()
    classifier = make().fit(dataset.train.texts, dataset.train.labels, oos_label=dataset.oos_label)
    result: dict[str, Any] = {
        "dataset": dataset.name,
        "train_examples": len(dataset.train.texts),
    }
    val = dataset.val
    val_scored = None
    if train_partners:
        for train_partner in train_partners:
            partner = train_partner(list(dataset.train.texts), list(dataset.train.labels))
            classifier.attach(partner, weight=DEFAULT_PARTNER_WEIGHT / len(train_partners) if val is None else 0.0)
        if val is not None:  # score validation once: the shares and the out-of-scope limits both use it
            own = classifier.score(val.texts)
            theirs = classifier.partners.probabilities(val.texts)
            classifier.partners.fit_weights(own.probs, theirs, val.labels, classes=classifier.classes)
            val_scored = replace(own, probs=classifier.partners.mix(own.probs, theirs))
        result["partner_weights"] = list(classifier.partners.weights)
    train_s = time.perf_counter() - started
    if val is not None and dataset.oos_label is not None and dataset.oos_label in val.labels:
        scored = _scored(classifier, val_scored or classifier.score(val.texts))
        classifier.rule = choose_rule(classifier.rule, val.labels, *scored, max_in_scope_loss=max_in_scope_loss)
        result["validation"] = out_of_scope_scores(
            val.labels, _decide(classifier, *scored, dataset.oos_label), oos_label=dataset.oos_label
        )
    started = time.perf_counter()
    scored = _scored(classifier, classifier.score(dataset.test.texts))
    predict_s = time.perf_counter() - started
    labels = scored[0]
    predicted = _decide(classifier, *scored, dataset.oos_label)
    result.update(intent_report(dataset.test.labels, predicted, oos_label=dataset.oos_label))
    if dataset.oos_label is not None:
        result["no_threshold"] = out_of_scope_scores(dataset.test.labels, labels, oos_label=dataset.oos_label)
    result["by_script"] = by_script(dataset.test, predicted)
    result["rule"] = _describe_rule(classifier.rule)
    result["timings_s"] = {"train": round(train_s, 2), "predict": round(predict_s, 2)}
    return result


def by_script(split: Split, predicted: list[str]) -> dict[str, dict[str, float]]:
    """Accuracy and macro-F1 per writing script (``cjk`` for Chinese, ``latin`` for English…)."""
    scripts = [script_of(t) or "none" for t in split.texts]
    out = {}
    for script in sorted(set(scripts)):
        rows = [i for i, s in enumerate(scripts) if s == script]
        report = intent_report([split.labels[i] for i in rows], [predicted[i] for i in rows])
        out[script] = {
            "examples": len(rows),
            "accuracy": report["accuracy"],
            "macro_f1": report["macro_f1"],
        }
    return out


def _describe_rule(rule: OosRule) -> dict[str, Any]:
    """The rule's limits as JSON-ready numbers (None: no limit; the learned score's weights, where there is one)."""
    out: dict[str, Any] = {
        "min_confidence": rule.min_confidence,
        "max_distance": rule.max_distance if np.isfinite(rule.max_distance) else None,
    }
    if rule.score is not None:
        out["score_weights"] = [round(float(w), 4) for w in rule.score.weights]
        out["max_score"] = rule.max_score
    return out


def _scored(classifier: Any, scored: Scored) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
    """Each text's best intent, its confidence, its distance and its out-of-scope intent probability."""
    labels = [str(c) for c in classifier.classes[scored.probs.argmax(axis=1)]]
    return labels, scored.probs.max(axis=1), scored.distance, classifier.oos_probability(scored.probs)


def _decide(
    classifier: Any,
    labels: list[str],
    conf: np.ndarray,
    dist: np.ndarray,
    oos_probability: np.ndarray | None,
    oos_label: str | None,
) -> list[str]:
    """Labels after the OOS rule; flagged ones become ``oos_label`` where the data set has one."""
    reasons = classifier.rule.flags(labels, conf, dist, oos_probability)
    if oos_label is None:
        return labels
    return [oos_label if reason else label for label, reason in zip(labels, reasons, strict=True)]
