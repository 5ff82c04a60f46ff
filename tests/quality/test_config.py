"""checks.yaml: the shipped file loads; mistakes are named by file, suite and check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from policy_news.quality import config as config_module
from policy_news.quality.config import (
    ChecksConfigError,
    load_checks_config,
    parse_checks_config,
    resolve_bound,
)


def test_shipped_config_loads() -> None:
    config = load_checks_config(Path(config_module.__file__).resolve().parents[2] / "checks.yaml")
    assert config.suites["run"].checks[0].severity == "block"


def _config_with(check: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "suites": {
            "articles": {"frame": "articles", "record_key": ["article_id"], "checks": [check]}
        },
    }


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            {"name": "x", "expect": "not_null", "column": "url", "severity": "fatal"},
            "suite 'articles', check 'x': severity: Input should be 'quarantine', 'block' or",
        ),
        (
            {"name": "len", "expect": "length_between", "column": "text", "severity": "warn"},
            "suite 'articles', check 'len': expect 'length_between' needs 'min_value'",
        ),
        (
            {
                "name": "re",
                "expect": "match_regex",
                "column": "u",
                "regex": "(",
                "severity": "warn",
            },
            "suite 'articles', check 're': regex '(' does not compile",
        ),
        (
            {
                "name": "s",
                "expect": "in_set",
                "column": "u",
                "value_set": "$nope",
                "severity": "warn",
            },
            "check 's': value_set '$nope' is neither a list nor one of",
        ),
        (
            {
                "name": "d",
                "expect": "between",
                "column": "t",
                "max_value": "tomorrow",
                "severity": "warn",
            },
            "check 'd': max_value: bound 'tomorrow' is neither a number",
        ),
        (
            {"name": "typo", "expect": "not_null", "colum": "url", "severity": "warn"},
            "check 'typo': colum: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_config_errors_name_suite_and_check(check: dict[str, Any], message: str) -> None:
    with pytest.raises(ChecksConfigError) as info:
        parse_checks_config(_config_with(check), source="checks.yaml")
    assert message in str(info.value)


def test_duplicate_check_names_are_rejected() -> None:
    config = _config_with({"name": "a", "expect": "not_null", "column": "url", "severity": "warn"})
    config["suites"]["articles"]["checks"].append(
        {"name": "a", "expect": "unique", "column": "url", "severity": "warn"}
    )
    with pytest.raises(ChecksConfigError, match="suite 'articles', check 'a': duplicate"):
        parse_checks_config(config)


def test_config_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text("suites: [unclosed\n")
    with pytest.raises(ChecksConfigError, match=r"checks\.yaml: not valid YAML"):
        load_checks_config(path)


def test_bounds_relative_to_now_and_iso_dates_resolve_in_utc() -> None:
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert resolve_bound("now+1d", now) == now + timedelta(days=1)
    assert resolve_bound("now - 90 m", now) == now - timedelta(minutes=90)
    assert resolve_bound("2000-01-01", now) == datetime(2000, 1, 1, tzinfo=UTC)
    assert resolve_bound(0.5, now) == 0.5
