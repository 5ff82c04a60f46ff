"""Judging GX results by severity into result rows, quarantine rows and messages.

Every check yields one `dq_results` row, passed or not. A failed check then acts by
its severity:

- ``quarantine``: its failing rows leave the batch as rows of table `quarantine`;
- ``block``: a readable message that stops the load;
- ``warn``: a readable message only.

A check that GX could not run cannot say which rows failed, so it blocks (or warns,
for a ``warn`` check) instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from policy_news.quality.config import DERIVED_SOURCES, display_column
from policy_news.quality.frames import record_keys
from policy_news.quality.values import (
    MAX_VALUE_CHARS,
    dumps,
    format_number,
    jsonable,
    short_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from datetime import datetime

    from policy_news.quality.config import CheckConfig
    from policy_news.quality.frames import SuiteInput

QUARANTINE_COLUMNS: tuple[str, ...] = (
    "run_id",
    "stage",
    "record_key",
    "check_name",
    "value",
    "raw_record",
    "quarantined_at",
)
RESULT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "suite",
    "check_name",
    "column_name",
    "severity",
    "success",
    "observed_value",
    "element_count",
    "unexpected_count",
    "details",
    "validated_at",
)

_DETAIL_SAMPLE = 20


def _expectation_json(result: Any) -> dict[str, Any]:
    config = result.expectation_config.to_json_dict()
    kwargs = dict(config.get("kwargs") or {})
    kwargs.pop("batch_id", None)
    if isinstance(kwargs.get("value_set"), list) and len(kwargs["value_set"]) > 30:
        kwargs["value_set"] = [*kwargs["value_set"][:30], f"... ({len(kwargs['value_set'])})"]
    return {
        "type": config.get("type"),
        "kwargs": jsonable(kwargs),
        "meta": jsonable(config.get("meta") or {}),
        "description": config.get("description"),
    }


def _trimmed_result(result_dict: Mapping[str, Any]) -> dict[str, Any]:
    keep = {}
    for key, value in result_dict.items():
        if key in (
            "unexpected_list",
            "unexpected_index_list",
            "unexpected_index_query",
        ):
            continue
        if isinstance(value, list):
            value = value[:_DETAIL_SAMPLE]
        keep[key] = value
    return jsonable(keep)


@dataclass
class Outcome:
    """What the judged checks of a run add up to; `drop` holds input positions per stage."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    drop: dict[str, set[int]] = field(default_factory=dict)


def _message(
    suite_name: str,
    check: CheckConfig,
    *,
    value: Any = None,
    unexpected_count: int | None = None,
    element_count: int | None = None,
    sample: str = "",
) -> str:
    fields = {
        "value": jsonable(value) if value is not None else float("nan"),
        "min_value": check.min_value if isinstance(check.min_value, int | float) else float("nan"),
        "max_value": check.max_value if isinstance(check.max_value, int | float) else float("nan"),
        "unexpected_count": unexpected_count or 0,
        "element_count": element_count or 0,
        "sample": sample,
        "suite": suite_name,
        "check": check.name,
    }
    if check.message:
        try:
            text = check.message.format(**fields)
        except (TypeError, ValueError, KeyError):
            text = check.message
    elif check.expect == "max_between":
        text = f"{format_number(value)} outside [{check.min_value}, {check.max_value}]"
    else:
        text = f"{unexpected_count} of {element_count} rows failed"
        if check.description:
            text += f" ({check.description.rstrip('.')})"
        if sample:
            text += f"; e.g. {sample}"
    return f"{suite_name}.{check.name}: {text}"


def _sample_text(suite_in: SuiteInput, positions: Sequence[int], check: CheckConfig) -> str:
    frame = suite_in.frame
    if frame is None or not len(positions):
        return ""
    head = list(positions[:5])
    if "dq_describe" in frame:
        parts = [str(frame["dq_describe"].iloc[p]) for p in head]
    else:
        keys = record_keys(frame.iloc[head], suite_in.config.record_key)
        parts = []
        for key, pos in zip(keys, head, strict=True):
            parts.append(f"{key}={_offending_value(suite_in, pos, check)}")
    more = len(positions) - len(head)
    return ", ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _offending_value(suite_in: SuiteInput, pos: int, check: CheckConfig) -> str | None:
    raw, frame = suite_in.raw, suite_in.frame
    assert frame is not None
    if check.expect == "length_between" and check.column:
        value = frame[check.column].iloc[pos]
        return f"{len(value) if isinstance(value, str) else 0} chars"
    if check.column and check.column.startswith("dq_") and check.column.endswith("_chars"):
        return f"{int(frame[check.column].iloc[pos])} chars"  # a derived length column
    if check.expect in ("a_ge_b", "unique_together"):
        parts = []
        for column in check.checked_columns:
            value = frame[column].iloc[pos]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            parts.append(f"{display_column(column)}={short_text(value)}")
        return ", ".join(parts)
    column = check.column or ""
    source = DERIVED_SOURCES.get(column, column)
    if raw is not None and source in raw.columns:
        return short_text(raw[source].iloc[pos])
    if column in frame.columns:
        return short_text(frame[column].iloc[pos])
    return None


def _result_row(
    run_id: str,
    suite_name: str,
    check: CheckConfig,
    *,
    success: bool,
    observed: str | None,
    element_count: int | None,
    unexpected_count: int | None,
    details: Mapping[str, Any],
    validated_at: datetime,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "suite": suite_name,
        "check_name": check.name,
        "column_name": check.column_label or None,
        "severity": check.severity,
        "success": bool(success),
        "observed_value": observed,
        "element_count": element_count,
        "unexpected_count": unexpected_count,
        "details": dumps(details),
        "validated_at": validated_at,
    }


def judge(
    run_id: str,
    suite_in: SuiteInput,
    check: CheckConfig,
    result: Any | None,
    now: datetime,
    out: Outcome,
) -> None:
    """Judge one check's GX result (None: it did not run) and add what follows to `out`."""
    suite_name = suite_in.suite
    details: dict[str, Any] = {"description": check.description, "expect": check.expect}
    if suite_in.metrics.get(check.column or ""):
        details["metric"] = suite_in.metrics[check.column or ""]
    if result is None:
        skipped = suite_in.skipped or suite_in.skip_checks.get(check.name) or "check did not run"
        details["skipped"] = skipped
        out.rows.append(
            _result_row(
                run_id,
                suite_name,
                check,
                success=True,
                observed=f"skipped: {skipped}",
                element_count=0,
                unexpected_count=0,
                details=details,
                validated_at=now,
            )
        )
        return

    frame = suite_in.frame
    assert frame is not None
    gx_result = dict(result.result or {})
    details["expectation"] = _expectation_json(result)
    details["result"] = _trimmed_result(gx_result)
    exception = result.exception_info or {}
    if isinstance(exception, Mapping) and not exception.get("raised_exception", False):
        # multi-metric failures come back as {metric_id: {...}}
        nested = [v for v in exception.values() if isinstance(v, Mapping)]
        exception = next((v for v in nested if v.get("raised_exception")), {})
    if exception.get("raised_exception"):
        message = str(exception.get("exception_message") or "GX raised an exception")
        details["exception"] = message
        out.rows.append(
            _result_row(
                run_id,
                suite_name,
                check,
                success=False,
                observed=f"error: {message}"[:MAX_VALUE_CHARS],
                element_count=len(frame),
                unexpected_count=None,
                details=details,
                validated_at=now,
            )
        )
        text = f"{suite_name}.{check.name}: could not run: {message}"
        # a row-level check that cannot run cannot pick rows: it blocks instead
        (out.warnings if check.severity == "warn" else out.blocking).append(text)
        return

    success = bool(result.success)
    element_count = gx_result.get("element_count")
    unexpected_count = gx_result.get("unexpected_count")
    positions: list[int] = []
    if check.expect == "max_between":
        observed_raw = gx_result.get("observed_value")
        observed = format_number(observed_raw)
        element_count = len(frame)
        unexpected_count = 0 if success else 1
    else:
        positions = [int(i) for i in gx_result.get("unexpected_index_list") or []]
        if check.expect in ("unique", "unique_together") and check.keep == "first":
            columns = list(check.checked_columns)
            repeats = frame.duplicated(subset=columns, keep="first")
            positions = [p for p in positions if bool(repeats.iloc[p])]
        observed = f"{unexpected_count or 0} of {element_count or 0} unexpected"
        if gx_result.get("unexpected_percent") is not None:
            observed += f" ({float(gx_result['unexpected_percent']):.2f}%)"
        observed_raw = unexpected_count
    out.rows.append(
        _result_row(
            run_id,
            suite_name,
            check,
            success=success,
            observed=observed,
            element_count=None if element_count is None else int(element_count),
            unexpected_count=None if unexpected_count is None else int(unexpected_count),
            details=details,
            validated_at=now,
        )
    )
    if success:
        return
    sample = _sample_text(suite_in, positions, check)
    if check.severity == "quarantine":
        raw = suite_in.raw
        if raw is None or not positions:
            return
        keys = record_keys(raw.iloc[positions], suite_in.config.record_key)
        records = suite_in.raw_records(positions)
        seen: dict[str, int] = {}
        for key, pos, record in zip(keys, positions, records, strict=True):
            seen[key] = seen.get(key, 0) + 1
            record_key = key if seen[key] == 1 else f"{key}#{seen[key]}"
            out.quarantine.append(
                {
                    "run_id": run_id,
                    "stage": suite_in.config.frame,
                    "record_key": record_key,
                    "check_name": check.name,
                    "value": _offending_value(suite_in, pos, check),
                    "raw_record": record,
                    "quarantined_at": now,
                }
            )
        out.drop.setdefault(suite_in.config.frame, set()).update(positions)
        return
    message = _message(
        suite_name,
        check,
        value=observed_raw,
        unexpected_count=None if unexpected_count is None else int(unexpected_count),
        element_count=None if element_count is None else int(element_count),
        sample=sample,
    )
    (out.blocking if check.severity == "block" else out.warnings).append(message)


def typed_quarantine(frame: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows with stable dtypes (also when empty), unique on the table's key."""
    frame = frame.drop_duplicates(
        subset=["run_id", "stage", "record_key", "check_name"], keep="first"
    ).reset_index(drop=True)
    for column in QUARANTINE_COLUMNS[:-1]:
        frame[column] = frame[column].astype("string")
    frame["quarantined_at"] = pd.to_datetime(frame["quarantined_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    return frame


def typed_results(frame: pd.DataFrame) -> pd.DataFrame:
    """dq_results rows with stable dtypes (also when empty)."""
    for column in ("run_id", "suite", "check_name", "column_name", "severity"):
        frame[column] = frame[column].astype("string")
    frame["observed_value"] = frame["observed_value"].astype("string")
    frame["details"] = frame["details"].astype("string")
    frame["success"] = frame["success"].astype("bool")
    for column in ("element_count", "unexpected_count"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    frame["validated_at"] = pd.to_datetime(frame["validated_at"], utc=True).astype(
        "datetime64[us, UTC]"
    )
    return frame
