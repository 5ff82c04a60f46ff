"""The Great Expectations side: the context, expectations built from checks, suite runs.

Each suite runs on an ephemeral context with a pandas datasource, one dataframe asset
and a whole-dataframe batch definition. Great Expectations is imported inside the
functions only, so importing this module stays cheap (DAG files import the package).
Both the checks and the Data Docs build take their context from `gx_context`.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from policy_news.models import DATE_SOURCES
from policy_news.quality.config import ISO_639_1, resolve_bound

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Collection, Sequence
    from datetime import datetime

    import pandas as pd

    from policy_news.quality.config import CheckConfig

# GX reads this when a context is created; set it before GX is ever imported.
os.environ["GX_ANALYTICS_ENABLED"] = "false"
for _name in (
    "great_expectations",
    "great_expectations.core",
    "great_expectations.expectations",
):
    logging.getLogger(_name).setLevel(logging.WARNING)


def gx_context() -> Any:
    """A fresh ephemeral GX context with progress bars and analytics off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_expectation(
    check: CheckConfig,
    suite_name: str,
    *,
    taxonomy_ids: Collection[str],
    now: datetime,
) -> Any:
    """The GX expectation of one check; its meta names the check, to find the result."""
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


def gx_columns(frame: pd.DataFrame, checks: Sequence[CheckConfig]) -> pd.DataFrame:
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


def run_suite(
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
            build_expectation(check, suite_name, taxonomy_ids=taxonomy_ids, now=now)
        )
    validation = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    by_name: dict[str, Any] = {}
    for result in validation.results:
        by_name[result.expectation_config.meta.get("check")] = result
    return by_name
