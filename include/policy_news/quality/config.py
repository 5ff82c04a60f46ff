"""The check configuration `include/checks.yaml`: pydantic models, loading, bounds.

Errors name the file, the suite and the check, so whoever edits the YAML can act on
them without reading this code. Importing this module does not import Great
Expectations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policy_news.yaml_files import read_yaml

if TYPE_CHECKING:
    from pathlib import Path

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

#: Derived columns (added by `frames.prepare_frame` before validation) -> the input column they report.
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
        return ",".join(display_column(c) for c in self.checked_columns)


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
    raw = read_yaml(path, "checks config", ChecksConfigError)
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


def display_column(column: str) -> str:
    """How a checked column is named in results: derived copies by their source column."""
    if column in DERIVED_SOURCES:
        return DERIVED_SOURCES[column]
    return column.removeprefix("dq_")
