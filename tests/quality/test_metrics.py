"""Run-level shares and the silent-zero feed check, judged like any other check."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from policy_news.quality.checks import (
    ValidationReport,
    validate_batch,
)
from tests.quality.batches import (
    NOW,
    RUN,
    TAXONOMY,
    clean_rows,
    fetch_row,
    frames_of,
    item_row,
    load_fixture,
    result,
)


def test_failed_feed_share_blocks_with_a_readable_message() -> None:
    rows = clean_rows()
    rows["feed_fetches"] = [
        fetch_row(**r) for r in load_fixture("failed_feeds.json")["feed_fetches"]
    ]
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert report.blocking == ["run.failed_feed_share: 0.62 of feeds failed (max 0.50)"]
    row = result(report, "run", "failed_feed_share")
    assert (bool(row.success), row.severity, row.observed_value) == (False, "block", "0.625")
    assert json.loads(row.details)["metric"]["numerator"] == 5


def test_failed_extraction_share_blocks() -> None:
    rows = clean_rows()
    rows["failures"] = [
        {
            "article_id": f"fail-{i}",
            "url": f"https://news.example.org/f/{i}",
            "feed_name": "border-wire",
            "title": "t",
            "summary": "s",
            "feed_published_at": None,
            "stage": "extract",
            "error_kind": "empty",
            "error": "no text",
            "http_status": 200,
            "failed_at": NOW,
        }
        for i in range(20)
    ]
    rows["feed_items"] += [
        {**item_row(rows["articles"][0]), "article_id": f["article_id"], "url": f["url"]}
        for f in rows["failures"]
    ]
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert [m.split(":")[0] for m in report.blocking] == ["run.failed_extraction_share"]


def test_retries_of_earlier_failures_do_not_count_toward_the_extraction_share() -> None:
    rows = clean_rows()
    rows["failures"] = [
        {
            "article_id": f"old-{i}",
            "url": f"https://news.example.org/old/{i}",
            "feed_name": "border-wire",
            "title": "t",
            "summary": "s",
            "feed_published_at": None,
            "stage": "fetch",
            "error_kind": "timeout",
            "error": "read timed out",
            "http_status": None,
            "failed_at": NOW,
        }
        for i in range(20)
    ]  # retried from fetch_failures: not among this run's feed items
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert report.blocking == []


def test_undated_share_warns_and_loads() -> None:
    rows = clean_rows()
    for article in rows["articles"][:6]:
        article["date_source"] = "unknown"
        article["published_at"] = None
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert report.blocking == []
    assert report.warnings == [
        "run.undated_share: 0.50 of articles have no date (date_source 'unknown') (max 0.30)"
    ]
    assert len(report.frames["articles"]) == 12


def test_duplicate_rate_counts_cross_feed_copies_and_same_content() -> None:
    rows = clean_rows()
    for article in rows["articles"][:3]:  # the same stories in a second feed
        rows["feed_items"].append(item_row(article, feed_name="capitol-desk"))
    rows["articles"][5]["content_hash"] = rows["articles"][4]["content_hash"]
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    metric = json.loads(result(report, "run", "duplicate_rate").details)["metric"]
    assert (metric["article_id_duplicates"], metric["content_hash_duplicates"]) == (3, 1)
    assert report.warnings == [] and report.quarantine.empty  # 4/15 is under 0.30


def test_small_batches_are_not_judged_on_shares() -> None:
    rows = {"feed_fetches": [fetch_row("a", outcome="error"), fetch_row("b", outcome="error")]}
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    row = result(report, "run", "failed_feed_share")
    assert bool(row.success) and row.observed_value == "skipped: too few to judge a share (2 < 3)"
    assert report.blocking == []


def test_feed_baseline_gives_each_feed_its_rhythm(
    silent_report: tuple[ValidationReport, pd.DataFrame],
) -> None:
    _, baseline = silent_report
    by_feed = baseline.set_index("feed_name")
    assert by_feed.loc["steady-feed"].median_gap_hours == pytest.approx(6.0)
    assert by_feed.loc["quiet-county-news"].last_new_item_at == pd.Timestamp(
        NOW - timedelta(hours=102)
    )
    assert by_feed.loc["brand-new-feed"].fetches_with_new == 1


def test_silent_zero_feed_is_flagged_as_a_warning(
    silent_report: tuple[ValidationReport, pd.DataFrame],
) -> None:
    report, _ = silent_report
    assert report.blocking == []
    assert report.warnings == [
        "feed_volume.silent_zero: 1 feed(s) fetch fine but yield nothing new far beyond their "
        "usual rhythm: quiet-county-news (102 h without new items, usual gap 6.0 h)"
    ]
    row = result(report, "feed_volume", "silent_zero")
    assert (bool(row.success), row.element_count, row.unexpected_count) == (False, 3, 1)


def test_silent_zero_without_baseline_passes_with_a_note(clean_report: ValidationReport) -> None:
    row = result(clean_report, "feed_volume", "silent_zero")
    assert bool(row.success)
    assert json.loads(row.details)["metric"] == {"note": "no feed baseline given"}
