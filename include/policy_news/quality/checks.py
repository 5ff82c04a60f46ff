"""Data-quality gates for one run (issue #4): GX Core suites over the run's frames.

`validate_batch()` validates the pandas frames of a run with Great Expectations (an
ephemeral context, a pandas datasource, one dataframe asset and whole-dataframe batch
definition per suite) against the suites in `include/checks.yaml`, then splits the
outcome by severity:

- ``quarantine``: failing rows leave the batch and become rows of table `quarantine`;
- ``block``: a readable message in `ValidationReport.blocking` (the run loads nothing);
- ``warn``: a message in `ValidationReport.warnings`.

Every check yields one row of table `dq_results`, passed or not. Run-level numbers
(failed feed share, ...) and per-feed silence are computed in pandas, then judged by GX
expectations too, so they appear in `dq_results` and the Data Docs like any other check.

Great Expectations is imported inside functions only: importing this module is cheap
and touches nothing (DAG files may import it).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policy_news.models import DATE_SOURCES

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pyarrow as pa

# GX reads this when a context is created; set it before GX is ever imported.
os.environ["GX_ANALYTICS_ENABLED"] = "false"
for _name in (
    "great_expectations",
    "great_expectations.core",
    "great_expectations.expectations",
):
    logging.getLogger(_name).setLevel(logging.WARNING)

log = logging.getLogger(__name__)

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

#: Frames whose rows hang off an article; they follow the article into quarantine.
ARTICLE_CHILD_FRAMES: tuple[str, ...] = (
    "article_topics",
    "article_facts",
    "article_relevance",
)

_ISO_639_1_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu
"""
#: ISO 639-1 two-letter language codes.
ISO_639_1: frozenset[str] = frozenset(_ISO_639_1_CODES.split())
_LANGUAGE_RE = re.compile(r"([A-Za-z]{2})(?:[-_](?:[A-Za-z]{2}|\d{3}))?")

#: Derived columns (computed here before validation) -> the input column they report.
DERIVED_SOURCES: dict[str, str] = {
    "dq_title": "title",
    "dq_text_chars": "text",
    "dq_language": "language",
    "dq_count_value": "normalized",
}

Severity = Literal["quarantine", "block", "warn"]
ExpectKind = Literal[
    "not_null",
    "unique",
    "unique_together",
    "match_regex",
    "in_set",
    "length_between",
    "between",
    "a_ge_b",
    "max_between",
]
RUNTIME_SETS = ("$taxonomy_ids", "$iso639_1", "$date_sources")
_NOW_RE = re.compile(r"now(?:\s*([+-])\s*(\d+(?:\.\d+)?)\s*([smhd]))?")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_VALUE_CHARS = 500
_DETAIL_SAMPLE = 20


# --------------------------------------------------------------------------- config


class ChecksConfigError(ValueError):
    """`checks.yaml` is malformed; the message names the file, suite and check."""


Bound = float | str | None


class CheckConfig(BaseModel):
    """One check: one GX expectation with a severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    expect: ExpectKind
    severity: Severity
    column: str | None = None
    columns: tuple[str, ...] | None = None
    regex: str | None = None
    value_set: str | tuple[str, ...] | None = None
    min_value: Bound = None
    max_value: Bound = None
    strict_min: bool = False
    strict_max: bool = False
    where: dict[str, str | int | float | bool] | None = None
    keep: Literal["first", "none"] = "first"
    description: str | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _check_params(self) -> CheckConfig:
        kind = self.expect
        if kind in ("unique_together", "a_ge_b"):
            need = 2
            if (
                not self.columns
                or len(self.columns) < need
                or (kind == "a_ge_b" and len(self.columns) != need)
            ):
                raise ValueError(
                    f"expect '{kind}' needs 'columns' with "
                    + ("exactly 2 names [a, b]" if kind == "a_ge_b" else "at least 2 names")
                )
            if self.column is not None:
                raise ValueError(f"expect '{kind}' takes 'columns', not 'column'")
        else:
            if not self.column:
                raise ValueError(f"expect '{kind}' needs 'column'")
            if self.columns is not None:
                raise ValueError(f"expect '{kind}' takes 'column', not 'columns'")
        if kind == "match_regex":
            if not self.regex:
                raise ValueError("expect 'match_regex' needs 'regex'")
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from exc
        elif self.regex is not None:
            raise ValueError(f"'regex' is only for expect 'match_regex', not '{kind}'")
        if kind == "in_set":
            if self.value_set is None:
                raise ValueError("expect 'in_set' needs 'value_set'")
            if isinstance(self.value_set, str) and self.value_set not in RUNTIME_SETS:
                raise ValueError(
                    f"value_set {self.value_set!r} is neither a list nor one of {RUNTIME_SETS}"
                )
        elif self.value_set is not None:
            raise ValueError(f"'value_set' is only for expect 'in_set', not '{kind}'")
        if kind in ("length_between", "between", "max_between"):
            if self.min_value is None and self.max_value is None:
                raise ValueError(f"expect '{kind}' needs 'min_value' and/or 'max_value'")
            for label, bound in (
                ("min_value", self.min_value),
                ("max_value", self.max_value),
            ):
                if isinstance(bound, str):
                    if kind != "between":
                        raise ValueError(f"{label} of expect '{kind}' must be a number")
                    try:
                        resolve_bound(bound, datetime.now(UTC))
                    except ValueError as exc:
                        raise ValueError(f"{label}: {exc}") from exc
        elif self.min_value is not None or self.max_value is not None:
            raise ValueError(f"'min_value'/'max_value' are not for expect '{kind}'")
        if self.message is not None:
            try:
                self.message.format(**_message_fields_example())
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"message {self.message!r} does not format: {exc!r}") from exc
        return self

    @property
    def checked_columns(self) -> tuple[str, ...]:
        return self.columns if self.columns else ((self.column,) if self.column else ())

    @property
    def column_label(self) -> str:
        return ",".join(_display_column(c) for c in self.checked_columns)


class SuiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    frame: str
    record_key: tuple[str, ...] = Field(min_length=1)
    checks: tuple[CheckConfig, ...] = Field(min_length=1)


class ParamsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_feeds_for_share: int = Field(default=3, ge=1)
    min_articles_for_share: int = Field(default=10, ge=1)
    min_items_for_share: int = Field(default=10, ge=1)
    baseline_lookback_days: int = Field(default=30, ge=1)
    baseline_min_new_fetches: int = Field(default=3, ge=2)
    baseline_min_gap_hours: float = Field(default=1.0, gt=0)


class ChecksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    params: ParamsConfig = ParamsConfig()
    suites: dict[str, SuiteConfig]


def _message_fields_example() -> dict[str, Any]:
    return {
        "value": 0.5,
        "min_value": 0.0,
        "max_value": 1.0,
        "unexpected_count": 1,
        "element_count": 2,
        "sample": "x",
        "suite": "s",
        "check": "c",
    }


def _format_pydantic_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def load_checks_config(path: Path | None = None) -> ChecksConfig:
    """Read and validate `checks.yaml`; errors name the file, the suite and the check."""
    if path is None:
        from policy_news.settings import get_settings

        path = get_settings().checks_path
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChecksConfigError(f"{path}: cannot read checks config: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ChecksConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_checks_config(raw, source=str(path))


def parse_checks_config(raw: Any, *, source: str = "checks config") -> ChecksConfig:
    """Validate an already-parsed config mapping (see `load_checks_config`)."""
    if not isinstance(raw, Mapping):
        raise ChecksConfigError(f"{source}: top level must be a mapping with 'suites'")
    suites_raw = raw.get("suites")
    if not isinstance(suites_raw, Mapping) or not suites_raw:
        raise ChecksConfigError(f"{source}: 'suites' must be a non-empty mapping")
    suites: dict[str, SuiteConfig] = {}
    for suite_name, suite_raw in suites_raw.items():
        where = f"{source}: suite '{suite_name}'"
        if not isinstance(suite_name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", suite_name):
            raise ChecksConfigError(f"{where}: suite names are lower_snake_case")
        if not isinstance(suite_raw, Mapping):
            raise ChecksConfigError(f"{where}: must be a mapping with frame, record_key, checks")
        checks_raw = suite_raw.get("checks")
        if not isinstance(checks_raw, list) or not checks_raw:
            raise ChecksConfigError(f"{where}: 'checks' must be a non-empty list")
        checks: list[CheckConfig] = []
        seen: set[str] = set()
        for index, check_raw in enumerate(checks_raw):
            label = (
                check_raw.get("name") if isinstance(check_raw, Mapping) else None
            ) or f"#{index + 1}"
            try:
                check = CheckConfig.model_validate(check_raw)
            except ValidationError as exc:
                raise ChecksConfigError(
                    f"{where}, check '{label}': {_format_pydantic_error(exc)}"
                ) from exc
            if check.name in seen:
                raise ChecksConfigError(f"{where}, check '{check.name}': duplicate check name")
            seen.add(check.name)
            checks.append(check)
        try:
            suites[suite_name] = SuiteConfig.model_validate({**suite_raw, "checks": checks})
        except ValidationError as exc:
            raise ChecksConfigError(f"{where}: {_format_pydantic_error(exc)}") from exc
    try:
        return ChecksConfig.model_validate({**raw, "suites": suites})
    except ValidationError as exc:
        raise ChecksConfigError(f"{source}: {_format_pydantic_error(exc)}") from exc


def resolve_bound(bound: Bound, now: datetime) -> float | datetime | None:
    """A YAML bound: a number, "now[+-N(s|m|h|d)]", or an ISO date/datetime (UTC if naive)."""
    if bound is None or isinstance(bound, int | float):
        return bound
    text = bound.strip()
    if m := _NOW_RE.fullmatch(text):
        sign, amount, unit = m.groups()
        if not sign:
            return now
        delta = timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])
        return now + delta if sign == "+" else now - delta
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"bound {bound!r} is neither a number, 'now[+-N(s|m|h|d)]' nor an ISO date"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- report


@dataclass
class ValidationReport:
    """What `validate_batch` found; the pipeline loads `frames`, `quarantine`, `results`."""

    frames: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    results: pd.DataFrame
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    run_id: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    # Per stage, the input positions of the rows in `frames` (to rejoin detached columns).
    kept_rows: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def checks_passed(self) -> int:
        return int(self.results["success"].astype(bool).sum()) if len(self.results) else 0

    @property
    def checks_failed(self) -> int:
        return int(len(self.results) - self.checks_passed)

    @property
    def ok(self) -> bool:
        """True when nothing blocks the load."""
        return not self.blocking


# --------------------------------------------------------------------------- helpers


def _display_column(column: str) -> str:
    """How a checked column is named in results: derived copies by their source column."""
    if column in DERIVED_SOURCES:
        return DERIVED_SOURCES[column]
    return column.removeprefix("dq_")


def _jsonable(value: Any) -> Any:
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
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        try:
            return _jsonable(value.item())
        except (TypeError, ValueError):
            pass
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(_jsonable(value), ensure_ascii=False, sort_keys=False)


def _short(value: Any) -> str | None:
    value = _jsonable(value)
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _MAX_VALUE_CHARS:
        return f"{text[:_MAX_VALUE_CHARS]}… ({len(text)} chars)"
    return text


def _fmt_number(value: Any) -> str:
    value = _jsonable(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "null" if value is None else str(value)


def _utc_series(series: pd.Series) -> pd.Series:
    """Any datetime-ish column as tz-aware UTC (naive values are taken as UTC)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.tz_localize("UTC")
    converted = pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    return converted


def _normalise_language(value: Any) -> Any:
    """'en', 'EN', 'en-US', 'pt_BR' -> primary subtag; blank -> None; anything else as is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _LANGUAGE_RE.fullmatch(text)
    return m.group(1).lower() if m else text


def _lengths(column: pd.Series) -> pd.Series:
    """Characters per value (null -> 0), vectorised: no Python string per row."""
    if not column.notna().any():
        return pd.Series(0, index=column.index, dtype="int64")
    return column.str.len().fillna(0).astype("int64")


def _field_lengths(rows: pd.DataFrame, articles: pd.DataFrame | None) -> pd.Series:
    """Length of the field (text/title/summary) of each row's article; NaN when unknown."""
    result = pd.Series(float("nan"), index=rows.index, dtype="float64")
    if articles is None or articles.empty or "article_id" not in articles or rows.empty:
        return result
    if "field" not in rows or "article_id" not in rows:
        return result
    fields = ("text", "title", "summary", "dq_text_chars")
    present = ["article_id", *(c for c in fields if c in articles)]
    firsts = articles[present].drop_duplicates("article_id", keep="first").set_index("article_id")
    for field_name in ("text", "title", "summary"):
        if field_name in firsts:
            lengths = _lengths(firsts[field_name])
        elif field_name == "text" and "dq_text_chars" in firsts:  # text detached: its length
            lengths = firsts["dq_text_chars"].fillna(0).astype("int64")
        else:
            continue
        mask = rows["field"] == field_name
        if mask.any():
            result.loc[mask] = rows.loc[mask, "article_id"].map(lengths).astype("float64")
    return result


def _record_keys(frame: pd.DataFrame, key_columns: Sequence[str]) -> list[str]:
    """Key columns joined with '|'; rows without any key are named by their batch position."""
    keys: list[str] = []
    present = [c for c in key_columns if c in frame.columns]
    for label, *row in frame[present].itertuples(index=True, name=None):
        parts = [
            "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in row
        ]
        keys.append("|".join(parts) if any(parts) else f"row:{label}")
    return keys


# --------------------------------------------------------------------------- prepare


@dataclass
class _SuiteInput:
    """One suite's frame: `raw` is the input (positional index), `frame` what GX sees."""

    suite: str
    config: SuiteConfig
    raw: pd.DataFrame | None
    frame: pd.DataFrame | None
    skipped: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    skip_checks: dict[str, str] = field(default_factory=dict)
    detached: pa.Table | None = None  # columns of `raw` kept out of pandas, same rows
    _raw_json: dict[int, str] = field(default_factory=dict)

    def raw_records(self, positions: Sequence[int]) -> list[str]:
        """The input rows at `positions` as JSON, converted when first asked for.

        Only those rows: converting the whole frame held every article's text as dicts
        and JSON (~260 MB for 10,000 articles) to quarantine a few of them. One take per
        call, as row-by-row access to Arrow-backed columns costs ~35 ms a row. Detached
        columns (the article text) are part of the record; derived `dq_` columns are not.
        """
        missing = sorted({p for p in positions if p not in self._raw_json})
        if missing and self.raw is not None:
            valid = [p for p in missing if 0 <= p < len(self.raw)]
            rows = self.raw.iloc[valid]
            rows = rows.drop(columns=[c for c in rows.columns if str(c).startswith("dq_")])
            records = rows.to_dict(orient="records") if valid else []
            if self.detached is not None:
                for pos, record in zip(valid, records, strict=True):
                    # a one-row slice: take() would concatenate the whole column first
                    record.update(self.detached.slice(pos, 1).to_pylist()[0])
            for pos, record in zip(valid, records, strict=True):
                self._raw_json[pos] = _dumps(record)
        return [self._raw_json.get(p, "{}") for p in positions]


def _prepare(stage: str, raw: pd.DataFrame, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    frame = raw.drop(columns=[c for c in ("raw_html_gz",) if c in raw.columns])
    if stage == "feed_items":
        if "title" in frame:
            frame["dq_title"] = frame["title"].fillna("").astype(str)
    elif stage == "articles":
        if "text" in frame:
            # GX copies the whole frame for each expectation, and the text is most of an
            # article row (10,000 articles: +230 MB per expectation); the only check on
            # it is its length, so GX gets the length and not the text.
            text = frame.pop("text")
            frame["dq_text_chars"] = _lengths(text)
        if "language" in frame:
            frame["dq_language"] = frame["language"].map(_normalise_language).astype(object)
        for column in ("published_at", "fetched_at"):
            if column in frame:
                frame[column] = _utc_series(frame[column])
    elif stage in ("article_topics", "article_facts"):
        frame["dq_field_length"] = _field_lengths(frame, frames.get("articles"))
        if stage == "article_facts" and "kind" in frame and "normalized" in frame:
            numbers = pd.to_numeric(frame["normalized"], errors="coerce")
            frame["dq_count_value"] = numbers.where(frame["kind"] == "count")
    return frame


# --------------------------------------------------------------------------- run metrics


def _share(numerator: float, denominator: float, minimum: int) -> float | None:
    if denominator < minimum or denominator <= 0:
        return None
    return float(numerator) / float(denominator)


def _run_metrics(
    run_id: str,
    frames: Mapping[str, pd.DataFrame],
    quarantined_articles: int,
    params: ParamsConfig,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    fetches = frames.get("feed_fetches")
    items = frames.get("feed_items")
    articles = frames.get("articles")
    failures = frames.get("failures")
    n_fetches = 0 if fetches is None else len(fetches)
    n_fetch_errors = (
        0
        if fetches is None or "outcome" not in fetches
        else int((fetches["outcome"] == "error").sum())
    )
    n_articles = 0 if articles is None else len(articles)
    n_failures = 0 if failures is None else len(failures)
    # The extraction share judges this run's feed items only: retries of earlier
    # failures (often permanent, e.g. refused addresses) would otherwise block every
    # later run, and a blocked run never gets to count their attempts.
    n_new_articles, n_new_failures = n_articles, n_failures
    if items is not None and "article_id" in items:
        current = set(items["article_id"])
        if articles is not None and "article_id" in articles:
            n_new_articles = int(articles["article_id"].isin(current).sum())
        if failures is not None and "article_id" in failures:
            n_new_failures = int(failures["article_id"].isin(current).sum())
    n_undated = (
        0
        if articles is None or "date_source" not in articles
        else int((articles["date_source"] == "unknown").sum())
    )

    # duplicates: items repeating an earlier item's article_id, plus distinct articles
    # whose extracted content repeats an earlier article's content_hash.
    n_items = 0 if items is None else len(items)
    id_dups = content_dups = 0
    hashes: pd.Series | None = None
    if articles is not None and {"article_id", "content_hash"} <= set(articles.columns):
        hashes = articles.drop_duplicates("article_id").set_index("article_id")["content_hash"]
    if items is not None and "article_id" in items and n_items:
        id_dups = int(items["article_id"].duplicated().sum())
        if hashes is not None:
            distinct = pd.Series(items["article_id"].drop_duplicates().to_numpy())
            content_dups = int(distinct.map(hashes).dropna().duplicated().sum())
        denominator = n_items
    else:
        if hashes is not None:
            content_dups = int(hashes.dropna().duplicated().sum())
        denominator = n_articles

    metrics: dict[str, dict[str, Any]] = {
        "failed_feed_share": {
            "value": _share(n_fetch_errors, n_fetches, params.min_feeds_for_share),
            "numerator": n_fetch_errors,
            "denominator": n_fetches,
            "min_denominator": params.min_feeds_for_share,
        },
        "failed_extraction_share": {
            "value": _share(
                n_new_failures, n_new_articles + n_new_failures, params.min_articles_for_share
            ),
            "numerator": n_new_failures,
            "denominator": n_new_articles + n_new_failures,
            "min_denominator": params.min_articles_for_share,
        },
        "duplicate_rate": {
            "value": _share(id_dups + content_dups, denominator, params.min_items_for_share),
            "numerator": id_dups + content_dups,
            "denominator": denominator,
            "article_id_duplicates": id_dups,
            "content_hash_duplicates": content_dups,
            "min_denominator": params.min_items_for_share,
        },
        "undated_share": {
            "value": _share(n_undated, n_articles, params.min_articles_for_share),
            "numerator": n_undated,
            "denominator": n_articles,
            "min_denominator": params.min_articles_for_share,
        },
        "quarantined_article_share": {
            "value": _share(quarantined_articles, n_articles, params.min_articles_for_share),
            "numerator": quarantined_articles,
            "denominator": n_articles,
            "min_denominator": params.min_articles_for_share,
        },
    }
    row: dict[str, Any] = {"run_id": run_id}
    for name, info in metrics.items():
        row[name] = float("nan") if info["value"] is None else info["value"]
    return pd.DataFrame([row]), metrics


def _feed_volume(
    frames: Mapping[str, pd.DataFrame],
    baseline: pd.DataFrame | None,
    params: ParamsConfig,
    now: datetime,
) -> pd.DataFrame:
    """One row per feed fetched fine this run: hours since its last new item vs its rhythm."""
    columns = [
        "feed_name",
        "items_new",
        "hours_since_new",
        "median_gap_hours",
        "fetches_with_new",
        "dq_silence_ratio",
        "dq_describe",
    ]
    fetches = frames.get("feed_fetches")
    if fetches is None or fetches.empty or "feed_name" not in fetches:
        return pd.DataFrame(columns=columns)
    ok = fetches[fetches.get("outcome", pd.Series("ok", index=fetches.index)) != "error"]
    if ok.empty:
        return pd.DataFrame(columns=columns)
    per_feed = ok.groupby("feed_name", sort=True).agg(
        items_new=("items_new", "sum") if "items_new" in ok else ("feed_name", "size"),
    )
    if "items_new" not in ok:
        per_feed["items_new"] = 0
    base = None
    if baseline is not None and not baseline.empty and "feed_name" in baseline:
        base = baseline.drop_duplicates("feed_name").set_index("feed_name")
    rows = []
    for feed_name, agg in per_feed.iterrows():
        new_now = int(agg["items_new"])
        last_new = gap = None
        with_new = 0
        if base is not None and feed_name in base.index:
            b = base.loc[feed_name]
            last_new = b.get("last_new_item_at")
            gap = b.get("median_gap_hours")
            with_new = int(b.get("fetches_with_new") or 0)
        hours = None
        if new_now > 0:
            hours = 0.0
        elif last_new is not None and not pd.isna(last_new):
            last = pd.Timestamp(last_new)
            last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
            hours = max((pd.Timestamp(now) - last).total_seconds() / 3600.0, 0.0)
        ratio = None
        if (
            hours is not None
            and gap is not None
            and not pd.isna(gap)
            and with_new >= params.baseline_min_new_fetches
        ):
            ratio = hours / max(float(gap), params.baseline_min_gap_hours)
        describe = (
            f"{feed_name} ({hours:.0f} h without new items, usual gap {float(gap):.1f} h)"
            if ratio is not None and hours is not None and gap is not None
            else str(feed_name)
        )
        rows.append(
            {
                "feed_name": feed_name,
                "items_new": new_now,
                "hours_since_new": hours,
                "median_gap_hours": None if gap is None or pd.isna(gap) else float(gap),
                "fetches_with_new": with_new,
                "dq_silence_ratio": float("nan") if ratio is None else ratio,
                "dq_describe": describe,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def feed_baseline(
    conn: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    *,
    lookback_days: int | None = None,
    config_path: Path | None = None,
) -> pd.DataFrame:
    """Each feed's recent rhythm from tables `feeds` and `feed_fetches` (before this run).

    Columns: feed_name, fetches, fetches_with_new, median_gap_hours (median hours between
    consecutive fetches that brought new items), mean_new_per_fetch, last_fetch_at,
    last_new_item_at (latest of feeds.last_new_item_at and the last fetch with new items).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if lookback_days is None:
        lookback_days = load_checks_config(config_path).params.baseline_lookback_days
    since = now - timedelta(days=lookback_days)
    sql = """
        WITH recent AS (
            SELECT feed_name, fetched_at, items_new, outcome
            FROM feed_fetches
            WHERE fetched_at >= ? AND fetched_at <= ?
        ),
        new_fetches AS (
            SELECT feed_name, fetched_at,
                   epoch(fetched_at) - epoch(lag(fetched_at) OVER (
                       PARTITION BY feed_name ORDER BY fetched_at)) AS gap_s
            FROM recent WHERE items_new > 0
        ),
        gaps AS (
            SELECT feed_name, median(gap_s) / 3600.0 AS median_gap_hours,
                   max(fetched_at) AS last_new_fetch_at
            FROM new_fetches GROUP BY feed_name
        ),
        counts AS (
            SELECT feed_name, count(*) AS fetches,
                   count(*) FILTER (WHERE items_new > 0) AS fetches_with_new,
                   avg(items_new) FILTER (WHERE outcome <> 'error') AS mean_new_per_fetch,
                   max(fetched_at) AS last_fetch_at
            FROM recent GROUP BY feed_name
        ),
        names AS (
            SELECT feed_name FROM feeds UNION SELECT feed_name FROM counts
        )
        SELECT n.feed_name,
               coalesce(c.fetches, 0) AS fetches,
               coalesce(c.fetches_with_new, 0) AS fetches_with_new,
               g.median_gap_hours,
               c.mean_new_per_fetch,
               c.last_fetch_at,
               CASE WHEN f.last_new_item_at IS NULL THEN g.last_new_fetch_at
                    WHEN g.last_new_fetch_at IS NULL THEN f.last_new_item_at
                    ELSE greatest(f.last_new_item_at, g.last_new_fetch_at) END
                   AS last_new_item_at
        FROM names n
        LEFT JOIN feeds f USING (feed_name)
        LEFT JOIN counts c USING (feed_name)
        LEFT JOIN gaps g USING (feed_name)
        ORDER BY n.feed_name
    """
    frame = conn.execute(sql, [since, now]).df()
    for column in ("last_fetch_at", "last_new_item_at"):
        frame[column] = _utc_series(frame[column])
    return frame


# --------------------------------------------------------------------------- GX


def _gx_context() -> Any:
    """A fresh ephemeral GX context with progress bars and analytics off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _build_expectation(
    check: CheckConfig,
    suite_name: str,
    *,
    taxonomy_ids: Collection[str],
    now: datetime,
) -> Any:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import (
        AndCondition,
        Column,
        Condition,
    )

    common: dict[str, Any] = {
        "meta": {"check": check.name, "suite": suite_name, "severity": check.severity},
        "severity": "warning" if check.severity == "warn" else "critical",
    }
    if check.description:
        common["description"] = check.description
    if check.where:
        conditions: list[Condition] = [Column(col) == value for col, value in check.where.items()]
        common["row_condition"] = (
            conditions[0] if len(conditions) == 1 else AndCondition(conditions=conditions)
        )
    kind = check.expect
    column = check.column or ""
    if kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column, **common)
    if kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=column, **common)
    if kind == "unique_together":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(check.columns or ()), **common)
    if kind == "match_regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=check.regex or "", **common)
    if kind == "in_set":
        if check.value_set == "$taxonomy_ids":
            values: list[Any] = sorted(taxonomy_ids)
        elif check.value_set == "$iso639_1":
            values = sorted(ISO_639_1)
        elif check.value_set == "$date_sources":
            values = list(DATE_SOURCES)
        else:
            values = list(check.value_set or ())
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values, **common)
    bounds: dict[str, Any] = {
        "min_value": resolve_bound(check.min_value, now),
        "max_value": resolve_bound(check.max_value, now),
    }
    if kind == "length_between":
        return gxe.ExpectColumnValueLengthsToBeBetween(
            column=column,
            **{k: v for k, v in bounds.items() if v is not None},
            **common,
        )
    if kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(
            column=column,
            strict_min=check.strict_min,
            strict_max=check.strict_max,
            **bounds,
            **common,
        )
    if kind == "max_between":
        return gxe.ExpectColumnMaxToBeBetween(
            column=column,
            strict_min=check.strict_min,
            strict_max=check.strict_max,
            **bounds,
            **common,
        )
    if kind == "a_ge_b":
        a, b = check.columns or ("", "")
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=a, column_B=b, or_equal=True, ignore_row_if="neither", **common
        )
    raise AssertionError(f"unhandled expect kind {kind}")  # pragma: no cover


def _gx_columns(frame: pd.DataFrame, checks: Sequence[CheckConfig]) -> pd.DataFrame:
    """Only the columns the checks read: GX copies the whole frame for each expectation,
    so unchecked text (sentences, evidence, summaries) would cost memory many times over.
    """
    wanted: dict[str, None] = {}
    for check in checks:
        wanted.update(dict.fromkeys(check.checked_columns))
        wanted.update(dict.fromkeys(check.where or {}))
    columns = [c for c in wanted if c in frame.columns]
    # a check naming a missing column keeps it missing, so GX reports it as such
    return frame[columns] if len(columns) < len(frame.columns) else frame


def _run_suite(
    context: Any,
    suite_name: str,
    frame: pd.DataFrame,
    checks: Sequence[CheckConfig],
    *,
    taxonomy_ids: Collection[str],
    now: datetime,
) -> dict[str, Any]:
    """Validate `frame` against `checks` as one GX suite; results keyed by check name."""
    import great_expectations as gx

    datasource = context.data_sources.add_pandas(name=f"policy_news_{suite_name}")
    asset = datasource.add_dataframe_asset(name=suite_name)
    batch_definition = asset.add_batch_definition_whole_dataframe(f"{suite_name}_batch")
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=suite_name)
    for check in checks:
        suite.add_expectation(
            _build_expectation(check, suite_name, taxonomy_ids=taxonomy_ids, now=now)
        )
    validation = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    by_name: dict[str, Any] = {}
    for result in validation.results:
        by_name[result.expectation_config.meta.get("check")] = result
    return by_name


# --------------------------------------------------------------------------- results


def _expectation_json(result: Any) -> dict[str, Any]:
    config = result.expectation_config.to_json_dict()
    kwargs = dict(config.get("kwargs") or {})
    kwargs.pop("batch_id", None)
    if isinstance(kwargs.get("value_set"), list) and len(kwargs["value_set"]) > 30:
        kwargs["value_set"] = [*kwargs["value_set"][:30], f"... ({len(kwargs['value_set'])})"]
    return {
        "type": config.get("type"),
        "kwargs": _jsonable(kwargs),
        "meta": _jsonable(config.get("meta") or {}),
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
    return _jsonable(keep)


@dataclass
class _Outcome:
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
        "value": _jsonable(value) if value is not None else float("nan"),
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
        text = f"{_fmt_number(value)} outside [{check.min_value}, {check.max_value}]"
    else:
        text = f"{unexpected_count} of {element_count} rows failed"
        if check.description:
            text += f" ({check.description.rstrip('.')})"
        if sample:
            text += f"; e.g. {sample}"
    return f"{suite_name}.{check.name}: {text}"


def _sample_text(suite_in: _SuiteInput, positions: Sequence[int], check: CheckConfig) -> str:
    frame = suite_in.frame
    if frame is None or not len(positions):
        return ""
    head = list(positions[:5])
    if "dq_describe" in frame:
        parts = [str(frame["dq_describe"].iloc[p]) for p in head]
    else:
        keys = _record_keys(frame.iloc[head], suite_in.config.record_key)
        parts = []
        for key, pos in zip(keys, head, strict=True):
            parts.append(f"{key}={_offending_value(suite_in, pos, check)}")
    more = len(positions) - len(head)
    return ", ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def _offending_value(suite_in: _SuiteInput, pos: int, check: CheckConfig) -> str | None:
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
            parts.append(f"{_display_column(column)}={_short(value)}")
        return ", ".join(parts)
    column = check.column or ""
    source = DERIVED_SOURCES.get(column, column)
    if raw is not None and source in raw.columns:
        return _short(raw[source].iloc[pos])
    if column in frame.columns:
        return _short(frame[column].iloc[pos])
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
        "details": _dumps(details),
        "validated_at": validated_at,
    }


def _judge(
    run_id: str,
    suite_in: _SuiteInput,
    check: CheckConfig,
    result: Any | None,
    now: datetime,
    out: _Outcome,
) -> None:
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
                observed=f"error: {message}"[:_MAX_VALUE_CHARS],
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
        observed = _fmt_number(observed_raw)
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
        keys = _record_keys(raw.iloc[positions], suite_in.config.record_key)
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


# --------------------------------------------------------------------------- entry point


def _typed_quarantine(frame: pd.DataFrame) -> pd.DataFrame:
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


def _typed_results(frame: pd.DataFrame) -> pd.DataFrame:
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


def _as_positional(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    return frame.reset_index(drop=True)


def validate_batch(
    run_id: str,
    frames: Mapping[str, pd.DataFrame],
    *,
    taxonomy_ids: Collection[str],
    feed_baseline: pd.DataFrame | None = None,
    config_path: Path | None = None,
    now: datetime | None = None,
    config: ChecksConfig | None = None,
    detached: Mapping[str, pa.Table] | None = None,
) -> ValidationReport:
    """Validate one run's frames; see the module docstring and docs/data_quality.md.

    `frames` keys are stage names (feed_fetches, feed_items, articles, failures,
    article_topics, article_facts, article_relevance); any may be missing or empty.
    `feed_baseline` is `feed_baseline(conn)` from before this run's load; without it the
    silent-zero check has nothing to compare with and passes (noted in its details).
    `detached` holds columns of a stage kept out of its frame (same rows, same order):
    the article text, which only its length (`dq_text_chars`, in the frame) is checked
    on and which pandas would copy at every filter. Quarantine records include them; the
    returned frames do not, and `kept_rows` says which input rows each frame kept.
    """
    started = time.perf_counter()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    cfg = config or load_checks_config(config_path)
    taxonomy = frozenset(str(t) for t in taxonomy_ids)
    inputs: dict[str, pd.DataFrame | None] = {
        name: _as_positional(frame) for name, frame in frames.items()
    }
    timings: dict[str, float] = {"config_s": time.perf_counter() - started}

    t0 = time.perf_counter()
    context = _gx_context()
    timings["gx_context_s"] = time.perf_counter() - t0

    out = _Outcome()
    computed = {"dq_run_metrics", "dq_feed_volume"}
    row_suites = [(n, s) for n, s in cfg.suites.items() if s.frame not in computed]
    later_suites = [(n, s) for n, s in cfg.suites.items() if s.frame in computed]

    def run_one(suite_in: _SuiteInput) -> None:
        t = time.perf_counter()
        results: dict[str, Any] = {}
        checks = [c for c in suite_in.config.checks if c.name not in suite_in.skip_checks]
        if suite_in.frame is not None and suite_in.skipped is None and checks:
            results = _run_suite(
                context,
                suite_in.suite,
                _gx_columns(suite_in.frame, checks),
                checks,
                taxonomy_ids=taxonomy,
                now=now,
            )
        for check in suite_in.config.checks:
            _judge(run_id, suite_in, check, results.get(check.name), now, out)
        timings[f"suite_{suite_in.suite}_s"] = time.perf_counter() - t

    for suite_name, suite_cfg in row_suites:
        raw = inputs.get(suite_cfg.frame)
        if raw is None:
            run_one(_SuiteInput(suite_name, suite_cfg, None, None, skipped="frame missing"))
            continue
        if raw.empty:
            run_one(_SuiteInput(suite_name, suite_cfg, raw, raw, skipped="frame empty"))
            continue
        prepared = _prepare(suite_cfg.frame, raw, inputs)
        suite_in = _SuiteInput(suite_name, suite_cfg, raw, prepared)
        suite_in.detached = (detached or {}).get(suite_cfg.frame)
        run_one(suite_in)

    # filtered frames, then the article cascade
    kept: dict[str, pd.DataFrame] = {}
    kept_rows: dict[str, np.ndarray] = {}  # input positions of the rows kept
    for name, frame in inputs.items():
        if frame is None:
            continue
        kept_rows[name] = np.arange(len(frame))
        drop = out.drop.get(name)
        if drop:
            mask = ~frame.index.isin(sorted(drop))
            kept[name] = frame.loc[mask].reset_index(drop=True)
            kept_rows[name] = kept_rows[name][mask]
        else:
            kept[name] = frame
    articles_in = inputs.get("articles")
    removed_ids: set[str] = set()
    if articles_in is not None and "article_id" in articles_in and "articles" in kept:
        removed_ids = set(articles_in["article_id"].dropna()) - set(
            kept["articles"]["article_id"].dropna()
        )
    if removed_ids:
        for child in ARTICLE_CHILD_FRAMES:
            frame = kept.get(child)
            if frame is not None and "article_id" in frame:
                keep = ~frame["article_id"].isin(removed_ids).to_numpy()
                kept[child] = frame.loc[keep].reset_index(drop=True)
                kept_rows[child] = kept_rows[child][keep]
    quarantined_articles = (
        0
        if articles_in is None or "articles" not in kept
        else len(articles_in) - len(kept["articles"])
    )

    # run-level metrics and per-feed volume, judged by GX too
    t0 = time.perf_counter()
    run_frame, metrics = _run_metrics(
        run_id, inputs_nonnull(inputs), quarantined_articles, cfg.params
    )
    volume = _feed_volume(inputs_nonnull(inputs), feed_baseline, cfg.params, now)
    timings["run_metrics_s"] = time.perf_counter() - t0
    for suite_name, suite_cfg in later_suites:
        frame = run_frame if suite_cfg.frame == "dq_run_metrics" else volume
        suite_in = _SuiteInput(suite_name, suite_cfg, frame, frame)
        if suite_cfg.frame == "dq_run_metrics":
            suite_in.metrics = metrics
            for check in suite_cfg.checks:
                info = metrics.get(check.column or "")
                if info is None:
                    continue
                if info["value"] is None:
                    suite_in.skip_checks[check.name] = (
                        f"too few to judge a share ({info['denominator']} < "
                        f"{info['min_denominator']})"
                    )
        elif frame.empty:
            suite_in.skipped = "no feed fetched fine this run"
        elif feed_baseline is None:
            suite_in.metrics = {"dq_silence_ratio": {"note": "no feed baseline given"}}
        run_one(suite_in)

    quarantine = _typed_quarantine(pd.DataFrame(out.quarantine, columns=list(QUARANTINE_COLUMNS)))
    results = _typed_results(pd.DataFrame(out.rows, columns=list(RESULT_COLUMNS)))
    timings["total_s"] = time.perf_counter() - started
    report = ValidationReport(
        frames=kept,
        quarantine=quarantine,
        results=results,
        blocking=out.blocking,
        warnings=out.warnings,
        run_id=run_id,
        timings=timings,
        kept_rows=kept_rows,
    )
    log.info(
        "validate_batch %s: %d checks passed, %d failed, %d rows quarantined, %d blocking, "
        "%d warnings in %.2fs",
        run_id,
        report.checks_passed,
        report.checks_failed,
        len(quarantine),
        len(out.blocking),
        len(out.warnings),
        timings["total_s"],
    )
    return report


def build_data_docs(
    report_or_results: ValidationReport | pd.DataFrame,
    docs_dir: Path | None = None,
    *,
    keep_runs: int = 30,
) -> Path:
    """Render the GX Data Docs (this run plus recent ones) into `docs_dir`; see checks_docs.

    Returns the path of index.html. The pages work offline.
    """
    from policy_news.quality.data_docs import build_data_docs as _build

    return _build(report_or_results, docs_dir, keep_runs=keep_runs)


def inputs_nonnull(
    inputs: Mapping[str, pd.DataFrame | None],
) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in inputs.items() if v is not None}
