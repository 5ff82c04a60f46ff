"""Agreement figures shared by the evaluations: precision/recall/F1 and Cohen's kappa."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        self.tp += predicted and actual
        self.fp += predicted and not actual
        self.fn += actual and not predicted

    def metrics(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {
            "precision": round(p, 4),
            "recall": round(r, 4),
            "f1": round(f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


def cohen_kappa(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    """Cohen's kappa of two raters' yes/no answers on the same items, in the same order.

    Agreement beyond what the raters' own yes-rates would give by chance. None when it
    is undefined: no items, or both raters gave one and the same answer throughout.
    """
    if len(first) != len(second):
        raise ValueError(f"{len(first)} answers against {len(second)}: rate the same items")
    n = len(first)
    if not n:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    yes_first, yes_second = sum(first) / n, sum(second) / n
    chance = yes_first * yes_second + (1 - yes_first) * (1 - yes_second)
    if chance == 1.0:
        return None
    return (observed - chance) / (1 - chance)
