"""Shared reports: GX is slow to start, so each canned batch is validated once a session."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from policy_news.quality.checks import ValidationReport, feed_baseline, validate_batch
from tests.quality.batches import (
    NOW,
    RUN,
    TAXONOMY,
    bad_rows,
    clean_rows,
    db_with_schema,
    fetch_row,
    frames_of,
    load_fixture,
)


@pytest.fixture(scope="session")
def clean_report() -> ValidationReport:
    return validate_batch(RUN, frames_of(clean_rows()), taxonomy_ids=TAXONOMY, now=NOW)


@pytest.fixture(scope="session")
def bad_report() -> ValidationReport:
    return validate_batch(RUN, frames_of(bad_rows()), taxonomy_ids=TAXONOMY, now=NOW)


@pytest.fixture(scope="session")
def silent_report() -> tuple[ValidationReport, pd.DataFrame]:
    data = load_fixture("silent_feed.json")
    conn = db_with_schema()
    for feed in {r["feed_name"] for r in data["history"]}:
        conn.execute(
            "INSERT INTO feeds (feed_name, url, added_at, updated_at) VALUES (?, ?, ?, ?)",
            [feed, f"https://{feed}.example.org/rss", NOW - timedelta(days=60), NOW],
        )
    for row in data["history"]:
        conn.execute(
            "INSERT INTO feed_fetches (run_id, feed_name, feed_url, fetched_at, outcome, "
            "items_new) VALUES (?, ?, 'u', ?, ?, ?)",
            [
                f"hist-{row['hours_ago']}",
                row["feed_name"],
                NOW - timedelta(hours=row["hours_ago"]),
                row["outcome"],
                row["items_new"],
            ],
        )
    baseline = feed_baseline(conn, NOW)
    rows = clean_rows()
    rows["feed_fetches"] = [fetch_row(**r) for r in data["feed_fetches"]]
    report = validate_batch(
        RUN, frames_of(rows), taxonomy_ids=TAXONOMY, feed_baseline=baseline, now=NOW
    )
    return report, baseline
