"""Plain values from pandas, numpy and datetime ones: for JSON columns and messages."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

#: Longest value text kept in a result or quarantine row.
MAX_VALUE_CHARS = 500


def jsonable(value: Any) -> Any:
    """Turn pandas/numpy/datetime values into plain JSON values."""
    if value is None:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes omitted>"
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            return jsonable(value.item())
        except (TypeError, ValueError):
            pass
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def dumps(value: Any) -> str:
    """JSON text of any value, via `jsonable`."""
    return json.dumps(jsonable(value), ensure_ascii=False, sort_keys=False)


def short_text(value: Any) -> str | None:
    """A value as text cut to `MAX_VALUE_CHARS` (its length noted), or None."""
    value = jsonable(value)
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_VALUE_CHARS:
        return f"{text[:MAX_VALUE_CHARS]}… ({len(text)} chars)"
    return text


def format_number(value: Any) -> str:
    """Floats to 4 significant digits, None as "null": for observed values."""
    value = jsonable(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "null" if value is None else str(value)


def utc_series(series: pd.Series) -> pd.Series:
    """Any datetime-ish column as tz-aware UTC (naive values are taken as UTC)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.tz_localize("UTC")
    converted = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    return converted
