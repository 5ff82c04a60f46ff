"""Fitting the score -> probability map of the taxonomy's `calibration` block.

A logistic curve P(relevant) = 1 / (1 + exp(-(slope * score + intercept))) fitted on
labelled (score, label) pairs, and the measures that judge it. `python -m
policy_news.tagging.evaluate --fit-calibration` uses these on the labelled sets.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def fit_logistic(pairs: Sequence[tuple[float, int]], l2: float = 0.1) -> tuple[float, float]:
    """(slope, intercept) of P(relevant) = 1 / (1 + exp(-(slope * score + intercept))).

    Newton's method on the log-likelihood with a small L2 penalty on the slope: the dev
    sets are nearly separable, and without it the slope runs off to infinity (a step
    function is not a probability).
    """
    a, b = 1.0, 0.0
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for x, y in pairs:
            p = 1.0 / (1.0 + math.exp(-(a * x + b)))
            w = p * (1.0 - p)
            ga += (p - y) * x
            gb += p - y
            haa += w * x * x
            hab += w * x
            hbb += w
        ga += l2 * a
        haa += l2
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-9 and abs(db) < 1e-9:
            break
    return a, b


def calibration_quality(
    pairs: Sequence[tuple[float, int]], slope: float, intercept: float, band: tuple[float, float]
) -> dict[str, float | int]:
    """Brier score, log loss and how many items fall in the review band."""
    n = len(pairs) or 1
    brier = loss = 0.0
    in_band = 0
    for x, y in pairs:
        p = 1.0 / (1.0 + math.exp(-(slope * x + intercept)))
        brier += (p - y) ** 2
        loss -= math.log(max(p if y else 1.0 - p, 1e-12))
        in_band += band[0] <= p <= band[1]
    return {
        "n": len(pairs),
        "brier": round(brier / n, 4),
        "log_loss": round(loss / n, 4),
        "in_review_band": in_band,
    }


def reliability_table(
    pairs: Sequence[tuple[float, int]], slope: float, intercept: float, bins: int = 5
) -> list[dict[str, str | float | int]]:
    """Mean predicted probability against the observed share relevant, per probability bin."""
    rows: list[dict[str, str | float | int]] = []
    scored = [(1.0 / (1.0 + math.exp(-(slope * x + intercept))), y) for x, y in pairs]
    for k in range(bins):
        lo, hi = k / bins, (k + 1) / bins
        members = [(p, y) for p, y in scored if lo <= p < hi or (k == bins - 1 and p == 1.0)]
        if members:
            rows.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "n": len(members),
                    "mean_probability": round(sum(p for p, _ in members) / len(members), 3),
                    "share_relevant": round(sum(y for _, y in members) / len(members), 3),
                }
            )
    return rows
