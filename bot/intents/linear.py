"""The default intent classifier: TF-IDF and sentence embeddings into a weighted ensemble of heads.

Heads see two views of a text: a linear SVM on character+word TF-IDF (lexical), and a logistic
regression, a linear SVM and cosine-similarity heads on the sentence embeddings (semantic). Their decision
scores are standardised per text and summed with weights, scaled by an inverse temperature so the
probabilities are calibrated, and checked against the out-of-scope rule (``bot.intents.oos``). A small
intents file chooses its heads, their regularisation and weights, the temperature and the out-of-scope
limits by cross-validation on its own examples (``bot.intents.selection``); a large data set makes the
same choices on one held-out split of its training examples (5-fold refits would cost minutes each).

    clf = LinearIntentClassifier(encoder=use, extras=[FeatureEncoder(minilm, frozenset({"latin"}))])
    clf.fit(texts, labels, oos_label="other")
    clf.predict(["where is my parcel"], vectors)   # vectors: the pipeline's one USE encoding per message
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.intents.errors import EmptyText
from bot.intents.features import (
    FeatureEncoder,
    LexicalFeatures,
    check_vectors,
    dense_features,
)
from bot.intents.heads import Head, new_model
from bot.intents.language import script_of
from bot.intents.oos import CentroidDistance, OosRule, choose_rule, default_rule
from bot.intents.partners import Partners
from bot.intents.prediction import (
    Prediction,
    build_predictions,
    fit_temperature,
    softmax,
)
from bot.intents.selection import CANDIDATE_HEADS, OutOfFold, choose_heads, folds, out_of_fold
from bot.protocols import Encoder

TRAINING_VERSION = 4
"""Changes when training would learn a different model from the same file (2: heads chosen on held-out
data for large sets too; 3: a learned out-of-scope score; 4: its limit spends the in-scope budget); cached
models of another version are retrained."""
MIN_CALIBRATION = 20
"""Fewest held-out (or out-of-fold) examples to fit the temperature on; with fewer the scores stay unscaled."""
DEFAULT_HEADS = (  # used only where no choice can be made (an intent with a single example)
    Head("lexical", "svm", 1.0),
    Head("dense", "logreg", 10.0),
    Head("dense", "svm", 1.0),
)
SELECT_LIMIT = 3000
"""Largest training set whose heads are chosen by cross-validation; larger ones choose on one held-out split
(``holdout`` of the examples), then refit on all of them."""
SELECT_FOLDS = 5
DEFAULT_PARTNER_WEIGHT = 0.3
"""A fine-tuned partner's share where no held-out examples choose it: the best validation accuracy on CLINC150
(a MiniLM fine-tuned for the default 6 epochs beside USE + MiniLM + TF-IDF heads; weights 0, 0.1 … 1)."""


@dataclass(frozen=True, slots=True)
class Scored:
    """Everything ``predict`` derives before deciding, kept apart so evaluation can tune the decision."""

    probs: np.ndarray
    distance: np.ndarray
    scripts: list[str | None]


class LinearIntentClassifier:
    """Satisfies ``bot.protocols.IntentClassifier``; fit once, then predict from many threads."""

    backend = "linear"

    def __init__(
        self,
        *,
        encoder: Encoder,
        extras: Sequence[FeatureEncoder] = (),
        heads: Sequence[Head] = DEFAULT_HEADS,
        holdout: float = 0.15,
        select_limit: int = SELECT_LIMIT,
        seed: int = 0,
    ) -> None:
        self.encoder = encoder
        self.extras = tuple(extras)
        self.heads = tuple(heads)
        self.holdout = holdout
        self.select_limit = select_limit
        self.seed = seed
        self.classes = np.array([], dtype=object)
        self.lexical = LexicalFeatures()
        self.models: list[Any] = []
        self.base_models: list[Any] = []
        self.distance_dim = 0
        self.weights = np.ones(len(self.heads))
        self.distance = CentroidDistance()
        self.rule = OosRule()
        self.scripts: frozenset[str] = frozenset()
        self.partners = Partners()

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        vectors: np.ndarray | None = None,
        oos_label: str | None = None,
        thresholds: Mapping[str, float] | None = None,
        scripts: frozenset[str] | None = None,
    ) -> LinearIntentClassifier:
        """Train on examples; ``vectors`` are the encoder's vectors for ``texts`` (computed when None)."""
        texts = [str(t) for t in texts]
        if len(texts) != len(labels) or len(set(labels)) < 2:
            raise ValueError("need one label per text and at least 2 distinct labels")
        dense = self._dense(texts, vectors)
        labels_arr = np.asarray(labels, dtype=object)
        self.scripts = scripts or frozenset(s for s in map(script_of, texts) if s)
        self.rule = OosRule(per_intent=dict(thresholds or {}), oos_label=oos_label)
        self.weights = np.ones(len(self.heads))
        counts = np.unique(labels_arr, return_counts=True)[1]
        if len(texts) <= self.select_limit and counts.min() >= 2:  # folds: at most the rarest intent's count
            self._select(texts, dense, labels_arr, folds(labels_arr, k=SELECT_FOLDS, seed=self.seed))
        elif (held := self._held_out(labels_arr)) is not None:
            self._select(texts, dense, labels_arr, [held])
        self._fit_parts(texts, np.arange(len(texts)), dense, labels_arr)
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[Prediction]:
        """One prediction per text; raises ``EmptyText`` for an empty text (naming its index)."""
        scored = self.score(texts, vectors)
        labels = list(self.classes[scored.probs.argmax(axis=1)])
        reasons = self.rule.flags(labels, scored.probs.max(axis=1), scored.distance, self.oos_probability(scored.probs))
        reasons = [
            "language" if script is not None and script not in self.scripts else reason
            for reason, script in zip(reasons, scored.scripts, strict=True)
        ]
        return build_predictions(self.classes, scored.probs, reasons)

    def score(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> Scored:
        """Calibrated probabilities (columns: ``self.classes``), distances and scripts, before the OOS rule."""
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise EmptyText(index)
        texts = list(texts)
        dense = self._dense(texts, vectors)
        probs = self._combine(self._head_scores(texts, dense))
        if self.partners.active():
            probs = self.partners.apply(probs, texts)
        return Scored(
            probs,
            self.distance.distance(dense[:, : self.distance_dim]),
            [script_of(t) for t in texts],
        )

    def attach(self, partner: Any, *, weight: float) -> None:
        """Mix ``partner``'s probabilities (``partner.probabilities(texts)``, same intents) in with ``weight``;
        several partners may be attached, their shares adding up to at most 1."""
        if list(partner.classes) != list(self.classes):
            raise ValueError(f"the partner knows intents {list(partner.classes)}, this classifier {list(self.classes)}")
        self.partners.add(partner, weight=weight)

    def oos_probability(self, probs: np.ndarray) -> np.ndarray | None:
        """Each row's probability of the out-of-scope intent, or None when there is no such intent."""
        oos = self.rule.oos_label
        if oos is None or oos not in self.classes:
            return None
        return probs[:, int(np.searchsorted(self.classes, oos))]

    def _select(
        self, texts: list[str], dense: np.ndarray, labels: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]
    ) -> None:
        """Heads, weights, temperature and out-of-scope limits from scores of examples the heads never saw.

        ``pairs`` are (train, test) index pairs: k folds for a small file, one held-out split for a large
        data set. Heads and weights are chosen on the query vectors (+ TF-IDF) unless every extra encoder
        covers every example, so an English-only encoder cannot change which heads Chinese texts get (it
        still adds features to the heads for English texts).
        """
        rows = np.concatenate([test for _, test in pairs])
        probe = LinearIntentClassifier(encoder=self.encoder, heads=CANDIDATE_HEADS, seed=self.seed)
        probe.rule = OosRule(oos_label=self.rule.oos_label)
        every_extra_applies = bool(self.extras) and bool(self._covered(texts).all())
        features = dense if every_extra_applies or not self.extras else dense[:, : self.encoder.dim]
        found = out_of_fold(lambda a, b: probe._fold_scores(texts, features, labels, a, b), pairs, len(texts))
        true = np.searchsorted(probe.classes, labels)
        chosen = choose_heads(CANDIDATE_HEADS, [scores[rows] for scores in found.scores], true[rows])
        self.heads = tuple(head for head, _ in chosen)
        relative = np.array([count for _, count in chosen], dtype=np.float64)
        if features is dense:  # the probe already scored these heads on these features
            self.classes = probe.classes
            found = OutOfFold([found.scores[CANDIDATE_HEADS.index(head)] for head in self.heads], found.distance)
        else:
            found = out_of_fold(lambda a, b: self._fold_scores(texts, dense, labels, a, b), pairs, len(texts))
        stacked = np.stack([scores[rows] for scores in found.scores])
        fused = np.tensordot(relative, stacked, axes=1)
        scale = fit_temperature(fused, true[rows]) if len(rows) >= MIN_CALIBRATION else 1.0
        self.weights = relative * scale
        probs = softmax(np.tensordot(self.weights, stacked, axes=1))
        predicted = self.classes[probs.argmax(axis=1)]
        inside = labels[rows] != self.rule.oos_label
        self.rule.min_confidence, self.rule.max_distance = default_rule(
            probs.max(axis=1)[(predicted == labels[rows]) & inside], found.distance[rows][inside]
        )
        oos_probability = self.oos_probability(probs)
        # out-of-scope examples: learn a score instead, where there is anything to learn
        if oos_probability is not None:
            self.rule = choose_rule(
                self.rule, labels[rows], predicted, probs.max(axis=1), found.distance[rows], oos_probability
            )

    def _fold_scores(
        self,
        texts: list[str],
        dense: np.ndarray,
        labels: np.ndarray,
        train: np.ndarray,
        test: np.ndarray,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """Fit on ``train`` rows; head scores and distances of the ``test`` rows."""
        self._fit_parts(texts, train, dense, labels)
        part = dense[test]
        return self._head_scores([texts[i] for i in test], part), self.distance.distance(part[:, : self.distance_dim])

    def _dense(self, texts: list[str], vectors: np.ndarray | None) -> np.ndarray:
        if vectors is None:
            vectors = self.encoder.encode(texts)
        vectors = check_vectors(vectors, len(texts), self.encoder.dim, f"encoder {self.encoder.name!r}")
        return dense_features(texts, vectors, self.extras)

    def _held_out(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A stratified held-out split for calibration, or None when some intent has too few examples."""
        from sklearn.model_selection import train_test_split

        classes, counts = np.unique(labels, return_counts=True)
        size = max(self.holdout, len(classes) / len(labels))
        if not self.holdout or counts.min() < 2 or size > 0.5:
            return None
        index = np.arange(len(labels))
        train, test = train_test_split(index, test_size=size, stratify=labels, random_state=self.seed)
        return np.sort(train), np.sort(test)

    def _covered(self, texts: Sequence[str]) -> np.ndarray:
        """Which texts every extra encoder applies to (English-only encoders skip Chinese texts)."""
        covered = np.ones(len(texts), dtype=bool)
        for extra in self.extras:
            if extra.scripts is not None:
                covered &= np.array([script_of(t) in extra.scripts for t in texts], dtype=bool)
        return covered

    def _fit_parts(self, texts: list[str], rows: np.ndarray, dense: np.ndarray, labels: np.ndarray) -> None:
        """Fit the heads on ``rows``: semantic heads see all features on covered texts, query vectors on the rest."""
        part_texts = [texts[i] for i in rows]
        part_labels = labels[rows]
        self.classes = np.array(sorted(set(part_labels)), dtype=object)
        self.lexical = LexicalFeatures().fit(part_texts)
        covered = self._covered(part_texts)
        full, base = dense[rows], dense[rows][:, : self.encoder.dim]
        self.models, self.base_models = [], []
        for head in self.heads:
            if head.view == "lexical":
                self.models.append(self._new(head).fit(self.lexical.transform(part_texts), part_labels))
                self.base_models.append(None)
                continue
            use_split = bool(self.extras) and not covered.all() and covered.sum() >= 2
            rows_full = covered if use_split and len(set(part_labels[covered])) >= 2 else np.ones(len(rows), bool)
            self.models.append(self._new(head).fit(full[rows_full], part_labels[rows_full]))
            self.base_models.append(self._new(head).fit(base, part_labels) if use_split else None)
        inside = part_labels != self.rule.oos_label
        self.distance_dim = dense.shape[1] if covered.all() else self.encoder.dim
        self.distance = CentroidDistance().fit(dense[rows][inside][:, : self.distance_dim], part_labels[inside])

    def _new(self, head: Head) -> Any:
        return new_model(head, seed=self.seed)

    def _combine(self, head_scores: list[np.ndarray]) -> np.ndarray:
        return softmax(np.tensordot(self.weights, np.stack(head_scores), axes=1))

    def _head_scores(self, texts: list[str], dense: np.ndarray) -> list[np.ndarray]:
        """Each head's decision scores, standardised per text (columns: ``self.classes``)."""
        lexical = self.lexical.transform(texts)
        covered = self._covered(texts)
        out = []
        for head, model, base in zip(self.heads, self.models, self.base_models, strict=True):
            if head.view == "lexical":
                scores = self._aligned(model, lexical)
            else:
                scores = self._aligned(model, dense)
                if base is not None and not covered.all():
                    scores[~covered] = self._aligned(base, dense[~covered][:, : self.encoder.dim])
            if scores.shape[1] > 2:  # two intents: the margin itself is the evidence, keep its size
                spread = scores.std(axis=1, keepdims=True)
                scores = (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
            out.append(scores)
        return out

    def _aligned(self, model: Any, features: Any) -> np.ndarray:
        """A model's decision scores in ``self.classes`` order; intents it never saw get the row's minimum."""
        scores = np.asarray(model.decision_function(features), dtype=np.float64)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores]) / 2.0
        if len(model.classes_) == len(self.classes):
            return scores
        out = np.repeat(scores.min(axis=1, keepdims=True), len(self.classes), axis=1)
        out[:, np.searchsorted(self.classes, model.classes_)] = scores
        return out
