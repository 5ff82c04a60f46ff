"""One-number checks judged without Great Expectations, for runs with no row to validate.

A poll that brings nothing new still has its run-level numbers (failed feed share, ...)
and each feed's silence to judge, a handful of values. Importing GX for them costs
seconds of CPU, more than the rest of such a run. When no row-level suite has a row,
`validate_batch` judges the computed suites here instead: the same two expectations
(`max_between`: ExpectColumnMaxToBeBetween; `between`: ExpectColumnValuesToBeBetween,
nulls ignored) on the same bounds, returning results shaped like GX's, so `judge`
turns them into the same `dq_results` rows, messages and verdicts. Parity with GX is
tested on passing, failing, null and strict-bound inputs (tests/quality).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policy_news.quality.config import resolve_bound

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence
    from datetime import datetime

    import pandas as pd

    from policy_news.quality.config import CheckConfig

ENGINE = "in-process"
# expect kind -> the GX expectation it stands for
SUPPORTED: dict[str, str] = {
    "max_between": "expect_column_max_to_be_between",
    "between": "expect_column_values_to_be_between",
}


@dataclass(frozen=True)
class PlainExpectation:
    """The expectation's configuration as GX's `to_json_dict()` shows it."""

    config: dict[str, Any]

    def to_json_dict(self) -> dict[str, Any]:
        return self.config


@dataclass(frozen=True)
class PlainResult:
    """The parts of a GX ExpectationValidationResult that `verdicts.judge` reads."""

    success: bool
    result: dict[str, Any]
    expectation_config: PlainExpectation
    exception_info: dict[str, Any] = field(default_factory=dict)


def supports(checks: Sequence[CheckConfig]) -> bool:
    """Whether every check can be judged here (one-number kinds, no row condition)."""
    return all(c.expect in SUPPORTED and not c.where and c.column for c in checks)


def _within(value: Any, low: Any, high: Any, check: CheckConfig) -> bool:
    if low is not None and (value <= low if check.strict_min else value < low):
        return False
    return not (high is not None and (value >= high if check.strict_max else value > high))


def _expectation(check: CheckConfig, suite_name: str, low: Any, high: Any) -> PlainExpectation:
    kwargs: dict[str, Any] = {"column": check.column}
    if low is not None:
        kwargs["min_value"] = low
    if high is not None:
        kwargs["max_value"] = high
    if check.strict_min:
        kwargs["strict_min"] = True
    if check.strict_max:
        kwargs["strict_max"] = True
    config: dict[str, Any] = {
        "type": SUPPORTED[check.expect],
        "kwargs": kwargs,
        "meta": {
            "check": check.name,
            "suite": suite_name,
            "severity": check.severity,
            "engine": ENGINE,
        },
        "severity": "warning" if check.severity == "warn" else "critical",
    }
    if check.description:
        config["description"] = check.description
    return PlainExpectation(config)


def _max_between(frame: pd.DataFrame, check: CheckConfig, low: Any, high: Any) -> tuple[bool, dict]:
    values = frame[check.column or ""].dropna()
    if values.empty:
        return False, {"observed_value": None}
    observed = values.max()
    observed = observed.item() if hasattr(observed, "item") else observed
    return _within(observed, low, high, check), {"observed_value": observed}


def _between(frame: pd.DataFrame, check: CheckConfig, low: Any, high: Any) -> tuple[bool, dict]:
    column = frame[check.column or ""]
    present = column.notna()
    outside = [
        position
        for position, (value, ok) in enumerate(zip(column.tolist(), present.tolist(), strict=True))
        if ok and not _within(value, low, high, check)
    ]
    total = len(column)
    missing = int((~present).sum())
    nonmissing = total - missing
    unexpected = [column.iloc[p] for p in outside]
    result = {
        "element_count": total,
        "unexpected_count": len(outside),
        "unexpected_percent": 100 * len(outside) / nonmissing if nonmissing else None,
        "partial_unexpected_list": unexpected[:20],
        "partial_unexpected_counts": [
            {"value": value, "count": count}
            for value, count in sorted(Counter(unexpected[:20]).items(), key=lambda vc: -vc[1])
        ],
        "missing_count": missing,
        "missing_percent": 100 * missing / total if total else None,
        "unexpected_percent_total": 100 * len(outside) / total if total else None,
        "unexpected_percent_nonmissing": 100 * len(outside) / nonmissing if nonmissing else None,
        "partial_unexpected_index_list": outside[:20],
        "unexpected_list": unexpected,
        "unexpected_index_list": outside,
    }
    return not outside, result


def run_suite(
    suite_name: str, frame: pd.DataFrame, checks: Sequence[CheckConfig], *, now: datetime
) -> dict[str, PlainResult]:
    """Judge `checks` on `frame` as GX would; results keyed by check name."""
    by_name: dict[str, PlainResult] = {}
    for check in checks:
        low = resolve_bound(check.min_value, now)
        high = resolve_bound(check.max_value, now)
        expectation = _expectation(check, suite_name, low, high)
        if check.column not in frame.columns:
            message = f'Error: The column "{check.column}" in BatchData does not exist.'
            failed = {"raised_exception": True, "exception_message": message}
            by_name[check.name] = PlainResult(False, {}, expectation, failed)
            continue
        judge = _max_between if check.expect == "max_between" else _between
        success, result = judge(frame, check, low, high)
        by_name[check.name] = PlainResult(success, result, expectation)
    return by_name
