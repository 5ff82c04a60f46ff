"""validate_batch end to end on canned batches: rows per check, table shapes, speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from policy_news.quality.checks import (
    QUARANTINE_COLUMNS,
    RESULT_COLUMNS,
    ValidationReport,
    load_checks_config,
    validate_batch,
)
from tests.quality.batches import (
    NOW,
    RUN,
    TAXONOMY,
    bad_rows,
    clean_rows,
    frames_of,
    quarantined,
    to_frame,
)


def test_clean_batch_passes_every_check(clean_report: ValidationReport) -> None:
    failed = clean_report.results[~clean_report.results.success]
    assert failed.empty, failed[["suite", "check_name", "observed_value"]].to_string()
    assert clean_report.quarantine.empty
    assert clean_report.blocking == [] and clean_report.warnings == []


def test_results_have_one_row_per_configured_check(clean_report: ValidationReport) -> None:
    config = load_checks_config()
    expected = {(s, c.name) for s, suite in config.suites.items() for c in suite.checks}
    got = list(zip(clean_report.results.suite, clean_report.results.check_name, strict=True))
    assert sorted(got) == sorted(expected)
    assert clean_report.checks_passed == len(expected) and clean_report.checks_failed == 0


def test_result_and_quarantine_columns_match_the_tables(
    bad_report: ValidationReport, migrated_db: Path
) -> None:
    assert tuple(bad_report.results.columns) == RESULT_COLUMNS
    assert tuple(bad_report.quarantine.columns) == QUARANTINE_COLUMNS
    with duckdb.connect(str(migrated_db), read_only=True) as conn:
        table_cols = {
            t: [r[0] for r in conn.execute(f"DESCRIBE {t}").fetchall()]
            for t in ("quarantine", "dq_results")
        }
    assert table_cols["quarantine"] == list(QUARANTINE_COLUMNS)
    assert table_cols["dq_results"] == list(RESULT_COLUMNS)


def test_report_frames_load_into_duckdb_tables(
    bad_report: ValidationReport, migrated_db: Path
) -> None:
    with duckdb.connect(str(migrated_db)) as conn:
        conn.register("q", bad_report.quarantine)
        conn.register("r", bad_report.results)
        conn.execute("INSERT INTO quarantine SELECT * FROM q")
        conn.execute("INSERT INTO dq_results SELECT * FROM r")
        n_q = conn.execute("SELECT count(*) FROM quarantine").fetchone()
        n_r = conn.execute("SELECT count(*) FROM dq_results WHERE NOT success").fetchone()
        assert n_q == (len(bad_report.quarantine),)
        assert n_r == (bad_report.checks_failed,)
        # details and raw records are JSON the analysts can query
        value = conn.execute(
            "SELECT raw_record->>'article_id' FROM quarantine WHERE check_name = 'text_length'"
        ).fetchone()
    assert value == ("bad-empty-text",)


def test_missing_and_empty_frames_still_give_a_row_per_check() -> None:
    report = validate_batch(
        RUN,
        {"articles": to_frame([]), "feed_items": pd.DataFrame()},
        taxonomy_ids=TAXONOMY,
        now=NOW,
    )
    assert len(report.results) == sum(len(s.checks) for s in load_checks_config().suites.values())
    assert report.results.success.all()
    assert report.quarantine.empty and not report.blocking and not report.warnings
    assert set(report.frames) == {"articles", "feed_items"}


def test_two_thousand_clean_articles_pass_every_check() -> None:
    # Validation time at scale is measured by `make bench`, not asserted here.
    rows = clean_rows(2000)
    frames = frames_of(rows)
    report = validate_batch(RUN, frames, taxonomy_ids=TAXONOMY, now=NOW)
    assert report.quarantine.empty
    assert report.checks_failed == 0 and report.blocking == []


def test_importing_checks_does_not_import_great_expectations() -> None:
    code = (
        "import sys, policy_news.quality.checks, policy_news.quality.data_docs; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_detached_text_gives_the_same_verdicts_records_and_rows(
    bad_report: ValidationReport,
) -> None:
    """The pipeline keeps the article text in Arrow (only its length is checked)."""
    import pyarrow as pa

    from policy_news.pipeline.validate import _detach_text

    frames = frames_of(bad_rows())
    articles, text = _detach_text(pa.Table.from_pandas(frames["articles"], preserve_index=False))
    frames["articles"] = articles.to_pandas()
    assert "text" not in frames["articles"]
    report = validate_batch(
        RUN, frames, taxonomy_ids=TAXONOMY, now=NOW, detached={"articles": text}
    )

    columns = ["suite", "check_name", "success", "unexpected_count"]
    assert report.results[columns].equals(bad_report.results[columns])
    assert quarantined(report) == quarantined(bad_report)

    def records(r: ValidationReport) -> dict[tuple[str, str], dict[str, Any]]:
        q = r.quarantine
        return {
            (k, c): json.loads(raw)
            for k, c, raw in zip(q.record_key, q.check_name, q.raw_record, strict=True)
        }

    assert records(report) == records(bad_report)  # the text is in the record, dq_ is not
    assert records(report)[("bad-empty-text", "text_length")]["text"] == ""

    kept_text = text.column("text").take(pa.array(report.kept_rows["articles"])).to_pylist()
    assert kept_text == list(bad_report.frames["articles"]["text"])
    for stage in ("article_topics", "article_facts"):
        assert report.frames[stage].equals(bad_report.frames[stage])
