"""Precision/recall counts and Cohen's kappa."""

from __future__ import annotations

import pytest

from policy_news.tagging.metrics import cohen_kappa


def test_kappa_matches_a_hand_computed_example() -> None:
    # 50 items: both yes 20, first yes / second no 5, first no / second yes 10, both no 15.
    # observed = 35/50 = 0.7; chance = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    first = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    second = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_kappa_is_one_for_perfect_agreement_and_negative_below_chance() -> None:
    answers = [True, False, True, False]
    assert cohen_kappa(answers, answers) == pytest.approx(1.0)
    assert cohen_kappa(answers, [not a for a in answers]) == pytest.approx(-1.0)


def test_kappa_is_undefined_when_both_always_say_the_same() -> None:
    assert cohen_kappa([True, True], [True, True]) is None
    assert cohen_kappa([], []) is None


def test_kappa_needs_the_same_items() -> None:
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([True], [True, False])
