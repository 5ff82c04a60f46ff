"""The GX runner: GX sees only the checked columns; expectations carry their check."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from policy_news.quality.config import CheckConfig
from policy_news.quality.gx_runner import build_expectation, gx_columns, gx_context, run_suite

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _check(**fields: object) -> CheckConfig:
    return CheckConfig.model_validate({"severity": "quarantine", **fields})


def test_gx_gets_only_the_columns_its_checks_read() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2], "kind": ["x"], "evidence": ["long text"]})
    check = _check(name="a_set", expect="not_null", column="a", where={"kind": "x"})
    assert list(gx_columns(frame, [check]).columns) == ["a", "kind"]


def test_a_missing_column_stays_missing_for_gx_to_report() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2]})
    check = _check(name="c_set", expect="not_null", column="c")
    assert list(gx_columns(frame, [check]).columns) == []


def test_expectation_meta_names_the_check_and_its_severity() -> None:
    check = _check(name="share", expect="max_between", column="v", max_value=0.5)
    expectation = build_expectation(check, "run", taxonomy_ids=(), now=NOW)
    assert expectation.meta == {"check": "share", "suite": "run", "severity": "quarantine"}
    assert expectation.max_value == 0.5


def test_suite_results_are_keyed_by_check_name() -> None:
    frame = pd.DataFrame({"id": ["a", "b", None]})
    checks = [
        _check(name="id_present", expect="not_null", column="id"),
        _check(name="id_unique", expect="unique", column="id"),
    ]
    results = run_suite(gx_context(), "demo", frame, checks, taxonomy_ids=(), now=NOW)
    assert set(results) == {"id_present", "id_unique"}
    assert results["id_present"].result["unexpected_index_list"] == [2]
    assert results["id_unique"].success
