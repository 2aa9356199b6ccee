"""Mixing partners' probabilities into the linear classifier's, and choosing their shares on held-out examples."""

from __future__ import annotations

import numpy as np
import pytest

from bot.intents.partners import Partners

CLASSES = np.array(["a", "b", "c"], dtype=object)


def one_hot(labels: str) -> np.ndarray:
    """Confident probabilities for a string of predicted labels, e.g. ``"aab"``."""
    return np.array([[0.8 if c == label else 0.1 for c in CLASSES] for label in labels])


def test_mix_gives_each_partner_its_share_and_the_rest_to_own() -> None:
    partners = Partners()
    partners.add(object(), weight=0.2)
    partners.add(object(), weight=0.5)
    own, first, second = one_hot("a"), one_hot("b"), one_hot("c")
    assert np.allclose(partners.mix(own, [first, second]), 0.3 * own + 0.2 * first + 0.5 * second)


def test_shares_are_chosen_for_accuracy_and_the_lower_on_ties() -> None:
    truth = "abcabc"
    own, weak, strong = one_hot("abcbca"), one_hot("cababc"), one_hot("abcabc")
    partners = Partners([(object(), 0.0), (object(), 0.0)])
    chosen = partners.fit_weights(own, [weak, strong], list(truth), classes=CLASSES)
    assert chosen == (0.0, 0.6), "the least share of the right partner that outvotes the others"
    assert partners.weights == chosen
    agreeing = Partners([(object(), 0.0), (object(), 0.0)])
    assert agreeing.fit_weights(strong, [strong, strong], list(truth), classes=CLASSES) == (0.0, 0.0)


def test_shares_add_up_to_at_most_one() -> None:
    partners = Partners()
    partners.add(object(), weight=0.7)
    with pytest.raises(ValueError, match="less the other partners' shares"):
        partners.add(object(), weight=0.4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        partners.add(object(), weight=-0.1)
    assert not Partners([(object(), 0.0)]).active() and partners.active()


class Unused:
    """A partner that must not be run."""

    def probabilities(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("a partner with no share was run")


class Fixed:
    def probabilities(self, texts: list[str]) -> np.ndarray:
        return one_hot("c" * len(texts))


def test_a_partner_with_no_share_is_not_run() -> None:
    partners = Partners([(Unused(), 0.0), (Fixed(), 0.4)])
    own = one_hot("ab")
    assert np.allclose(partners.apply(own, ["x", "y"]), 0.6 * own + 0.4 * one_hot("cc"))
