"""One-number checks without GX: the same verdicts, rows and messages as GX gives."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from policy_news.quality import plain_checks
from policy_news.quality.config import CheckConfig
from policy_news.quality.frames import SuiteInput
from policy_news.quality.gx_runner import gx_context, run_suite
from policy_news.quality.verdicts import Outcome, judge

REPO_ROOT = Path(__file__).resolve().parents[2]

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _check(**fields: Any) -> CheckConfig:
    return CheckConfig.model_validate({"severity": "warn", **fields})


CHECKS = [
    _check(name="share_max", expect="max_between", column="share", max_value=0.5, severity="block"),
    _check(name="share_floor", expect="max_between", column="share", min_value=0.2),
    _check(
        name="share_strict", expect="max_between", column="share", max_value=0.7, strict_max=True
    ),
    _check(name="ratio", expect="between", column="ratio", max_value=8),
    _check(name="ratio_band", expect="between", column="ratio", min_value=1, max_value=8),
    _check(name="ratio_strict", expect="between", column="ratio", min_value=1, strict_min=True),
    _check(name="gone", expect="between", column="no_such_column", max_value=1),
]
FRAMES = {
    "passing": pd.DataFrame({"share": [0.3], "ratio": [2.0]}),
    "failing": pd.DataFrame({"share": [0.7, 0.1], "ratio": [9.0, 1.0]}),
    "with nulls": pd.DataFrame({"share": [None, 0.6], "ratio": [None, 12.5]}),
    "all null": pd.DataFrame({"share": [None, None], "ratio": [None, None]}, dtype="float64"),
    "empty": pd.DataFrame({"share": pd.Series([], dtype="float64"), "ratio": []}),
}


def _judged(results: dict[str, Any], frame: pd.DataFrame) -> tuple[list[dict], Outcome]:
    out = Outcome()
    suite_in = SuiteInput("run", _suite_config(), frame, frame)
    for check in CHECKS:
        judge("r1", suite_in, check, results.get(check.name), NOW, out)
    rows = [
        {k: v for k, v in row.items() if k not in ("details", "validated_at")} for row in out.rows
    ]
    return rows, out


def _suite_config() -> Any:
    from policy_news.quality.config import SuiteConfig

    return SuiteConfig(frame="dq_run_metrics", record_key=("run_id",), checks=tuple(CHECKS))


@pytest.mark.parametrize("case", list(FRAMES))
def test_verdicts_match_great_expectations(case: str) -> None:
    frame = FRAMES[case]
    by_gx = run_suite(
        gx_context(), f"run_{case.replace(' ', '_')}", frame, CHECKS, taxonomy_ids=(), now=NOW
    )
    plain = plain_checks.run_suite("run", frame, CHECKS, now=NOW)
    gx_rows, gx_out = _judged(by_gx, frame)
    plain_rows, plain_out = _judged(dict(plain), frame)
    assert plain_rows == gx_rows
    assert plain_out.blocking == gx_out.blocking
    assert plain_out.warnings == gx_out.warnings
    for name, result in plain.items():
        if name == "gone":  # both raise; GX words its message its own way
            assert result.exception_info["raised_exception"]
            continue
        gx_result = by_gx[name]
        assert result.success == gx_result.success, name
        gx_values = {k: v for k, v in gx_result.result.items() if k != "unexpected_index_query"}
        assert json.loads(json.dumps(result.result)) == json.loads(json.dumps(gx_values)), name
        gx_config = gx_result.expectation_config.to_json_dict()
        gx_config["kwargs"].pop("batch_id")
        plain_config = result.expectation_config.to_json_dict()
        assert plain_config["meta"].pop("engine") == plain_checks.ENGINE
        gx_config["meta"]["suite"] = plain_config["meta"]["suite"]
        assert plain_config == gx_config, name


def test_only_one_number_kinds_without_conditions_are_supported() -> None:
    assert plain_checks.supports(CHECKS)
    assert not plain_checks.supports([_check(name="n", expect="not_null", column="a")])
    where = _check(name="w", expect="between", column="a", max_value=1, where={"kind": "x"})
    assert not plain_checks.supports([where])


def test_a_run_with_no_row_is_judged_without_importing_gx() -> None:
    """In a fresh interpreter: the run's numbers are judged, dq_results say by what, and
    GX is never imported (its import costs seconds of CPU)."""
    code = """
import json, sys
from datetime import datetime, UTC
from policy_news.quality.checks import validate_batch
from tests.quality.batches import fetch_row, to_frame
rows = [fetch_row(f"feed{i}", outcome="not_modified", items_seen=0, items_new=0) for i in range(5)]
fetches = to_frame(rows)
report = validate_batch("r1", {"feed_fetches": fetches, "feed_items": fetches.iloc[0:0]},
                        taxonomy_ids=["x"], now=datetime(2025, 6, 1, tzinfo=UTC))
details = [json.loads(d) for d in report.results["details"]]
print(json.dumps({
    "gx_imported": "great_expectations" in sys.modules,
    "gx_used": report.gx_used,
    "judged": sum("expectation" in d for d in details),
    "engines": sorted({d["expectation"]["meta"].get("engine", "gx")
                       for d in details if "expectation" in d}),
}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=REPO_ROOT,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["gx_imported"] is False
    assert seen["gx_used"] is False
    assert seen["judged"] > 0
    assert seen["engines"] == [plain_checks.ENGINE]
