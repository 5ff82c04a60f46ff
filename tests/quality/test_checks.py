"""Data-quality gates (policy_news.quality.checks): each test pins one behaviour.

A clean template batch is built here; the bad records live in tests/fixtures/dq/*.json,
each marked with the check that must catch it (`_expect`). GX is slow to import, so
the batches are validated once per module and the tests read the shared reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from policy_news.quality import checks
from policy_news.quality.checks import (
    QUARANTINE_COLUMNS,
    RESULT_COLUMNS,
    ChecksConfigError,
    ValidationReport,
    feed_baseline,
    load_checks_config,
    parse_checks_config,
    validate_batch,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dq"
MIGRATION = (
    Path(checks.__file__).resolve().parents[1] / "store" / "migrations" / "001_initial.sql"
)  # the analysts' schema
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TAXONOMY = {"worksite_raids", "detention", "deportation", "border_enforcement"}
RUN = "manual__2025-06-01T12:00:00+00:00"

TEXT = (
    "Immigration and Customs Enforcement agents detained dozens of workers on Tuesday "
    "during a raid at a meatpacking plant in northern Texas, according to lawyers for "
    "the families. Local officials said the operation lasted most of the day and that "
    "buses left the site in the evening."
)
assert len(TEXT) > 250


# --------------------------------------------------------------------------- builders


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _article(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": f"clean-{i:02d}",
        "url": f"https://news.example.org/2025/05/31/story-{i}",
        "final_url": f"https://news.example.org/2025/05/31/story-{i}",
        "feed_name": "border-wire",
        "title": f"ICE operation number {i} in Texas",
        "summary": "Agents detained workers at a plant.",
        "text": TEXT,
        "author": "Staff",
        "site_name": "Example News",
        "language": "en",
        "published_at": NOW - timedelta(hours=20 + i),
        "date_source": "feed",
        "fetched_at": NOW - timedelta(minutes=5),
        "http_status": 200,
        "raw_html_gz": b"\x1f\x8b fake gzip",
        "content_hash": f"hash-{i}",
        "relevant": True,
        "relevance_score": 0.9,
        "taxonomy_version": "t1",
    }
    row.update(overrides)
    return row


def _fetch(feed_name: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "run_id": RUN,
        "feed_name": feed_name,
        "feed_url": f"https://{feed_name}.example.org/rss",
        "fetched_at": NOW - timedelta(minutes=10),
        "outcome": "ok",
        "http_status": 200,
        "bytes": 1000,
        "etag": None,
        "last_modified": None,
        "body_hash": None,
        "items_seen": 10,
        "items_new": 2,
        "error_kind": None,
        "error": None,
        "duration_ms": 120,
    }
    row.update(overrides)
    return row


def _item(article: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article["article_id"],
        "url": article["url"],
        "original_url": article["url"] + "?utm_source=rss",
        "feed_name": article["feed_name"],
        "title": article["title"],
        "summary": article["summary"],
        "published_at": article["published_at"],
        "guid": article["url"],
    }
    row.update(overrides)
    return row


def _topic(article_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article_id,
        "subtopic": "worksite_raids",
        "taxonomy_version": "t1",
        "score": 0.8,
        "evidence": TEXT[:120],
        "field": "text",
        "start_offset": 0,
        "end_offset": 120,
        "rule_id": "raid-1",
    }
    row.update(overrides)
    return row


def _fact(article_id: str, index: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article_id,
        "taxonomy_version": "t1",
        "fact_index": index,
        "kind": "count",
        "value": "dozens",
        "normalized": "24",
        "sentence": TEXT[:120],
        "field": "text",
        "start_offset": 60,
        "end_offset": 90,
        "rule_id": "count-1",
        "attrs": "{}",
    }
    row.update(overrides)
    return row


def _relevance(article_id: str) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "taxonomy_version": "t1",
        "relevant": True,
        "relevance_score": 0.9,
        "evidence": TEXT[:80],
        "rule_id": "rel-ice",
        "tagged_at": NOW,
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("published_at", "fetched_at", "tagged_at", "failed_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def clean_rows(n: int = 12) -> dict[str, list[dict[str, Any]]]:
    articles = [_article(i) for i in range(n)]
    return {
        "feed_fetches": [_fetch(f) for f in ("border-wire", "capitol-desk", "valley-courier")]
        + [_fetch("gulf-coast-daily", outcome="not_modified", http_status=304, items_new=0)],
        "feed_items": [_item(a) for a in articles],
        "articles": articles,
        "failures": [],
        "article_topics": [_topic(a["article_id"]) for a in articles],
        "article_facts": [_fact(a["article_id"], 0) for a in articles],
        "article_relevance": [_relevance(a["article_id"]) for a in articles],
    }


def frames_of(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return {name: _frame(r) for name, r in rows.items()}


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def bad_rows() -> dict[str, list[dict[str, Any]]]:
    """The clean batch plus every bad fixture record."""
    rows = clean_rows()
    template = _article(99)
    for record in fixture("bad_articles.json")["articles"]:
        rows["articles"].append({**template, **_strip(record)})
        if record["article_id"] in ("bad-empty-text", "bad-language"):
            rows["article_topics"].append(
                _topic(record["article_id"], start_offset=0, end_offset=10)
            )
    for record in fixture("bad_feed_items.json")["feed_items"]:
        rows["feed_items"].append({**_item(template), **_strip(record)})
    tags = fixture("bad_tags.json")
    for record in tags["article_topics"]:
        rows["article_topics"].append({**_topic(record["article_id"]), **_strip(record)})
    for record in tags["article_facts"]:
        base = _fact(record["article_id"], record["fact_index"])
        rows["article_facts"].append({**base, **_strip(record)})
    # the first dup-raid copy, reached through the feed (the fixture holds the second)
    rows["articles"].insert(
        3,
        _article(
            50,
            article_id="dup-raid",
            url="https://news.example.org/2025/05/31/worksite-raid",
            title="Worksite raid at meatpacking plant",
        ),
    )
    return rows


def expected_quarantine() -> set[tuple[str, str, str]]:
    """(stage, record id, check) for every `_expect` in the fixtures."""
    out: set[tuple[str, str, str]] = set()
    for name, stage_key in (
        ("bad_articles.json", "articles"),
        ("bad_feed_items.json", "feed_items"),
    ):
        for record in fixture(name)[stage_key]:
            for check in _as_list(record.get("_expect")):
                out.add((stage_key, record["article_id"], check))
    tags = fixture("bad_tags.json")
    for stage in ("article_topics", "article_facts"):
        for record in tags[stage]:
            for check in _as_list(record.get("_expect")):
                out.add((stage, record["article_id"], check))
    return out


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _record_id(stage: str, record_key: str) -> str:
    """The article id inside a quarantine record key (feed_items keys are feed|id)."""
    parts = record_key.split("#")[0].split("|")
    return parts[1] if stage == "feed_items" else parts[0]


def quarantined(report: ValidationReport) -> set[tuple[str, str, str]]:
    return {
        (row.stage, _record_id(row.stage, row.record_key), row.check_name)
        for row in report.quarantine.itertuples()
    }


def result(report: ValidationReport, suite: str, check: str) -> pd.Series:
    rows = report.results[(report.results.suite == suite) & (report.results.check_name == check)]
    assert len(rows) == 1, f"{suite}.{check}: {len(rows)} result rows"
    return rows.iloc[0]


def db_with_schema() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute(MIGRATION.read_text(encoding="utf-8"))
    return conn


# --------------------------------------------------------------------------- module reports


@pytest.fixture(scope="module")
def clean_report() -> ValidationReport:
    return validate_batch(RUN, frames_of(clean_rows()), taxonomy_ids=TAXONOMY, now=NOW)


@pytest.fixture(scope="module")
def bad_report() -> ValidationReport:
    return validate_batch(RUN, frames_of(bad_rows()), taxonomy_ids=TAXONOMY, now=NOW)


@pytest.fixture(scope="module")
def silent_report() -> tuple[ValidationReport, pd.DataFrame]:
    data = fixture("silent_feed.json")
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
    rows["feed_fetches"] = [_fetch(**r) for r in data["feed_fetches"]]
    report = validate_batch(
        RUN, frames_of(rows), taxonomy_ids=TAXONOMY, feed_baseline=baseline, now=NOW
    )
    return report, baseline


# --------------------------------------------------------------------------- clean batch


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


def test_result_and_quarantine_columns_match_the_tables(bad_report: ValidationReport) -> None:
    assert tuple(bad_report.results.columns) == RESULT_COLUMNS
    assert tuple(bad_report.quarantine.columns) == QUARANTINE_COLUMNS
    conn = db_with_schema()
    table_cols = {
        t: [r[0] for r in conn.execute(f"DESCRIBE {t}").fetchall()]
        for t in ("quarantine", "dq_results")
    }
    assert table_cols["quarantine"] == list(QUARANTINE_COLUMNS)
    assert table_cols["dq_results"] == list(RESULT_COLUMNS)


def test_report_frames_load_into_duckdb_tables(bad_report: ValidationReport) -> None:
    conn = db_with_schema()
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
        RUN, {"articles": _frame([]), "feed_items": pd.DataFrame()}, taxonomy_ids=TAXONOMY, now=NOW
    )
    assert len(report.results) == sum(len(s.checks) for s in load_checks_config().suites.values())
    assert report.results.success.all()
    assert report.quarantine.empty and not report.blocking and not report.warnings
    assert set(report.frames) == {"articles", "feed_items"}


# --------------------------------------------------------------------------- quarantine


def test_every_bad_fixture_record_is_quarantined_by_its_check(
    bad_report: ValidationReport,
) -> None:
    assert expected_quarantine() <= quarantined(bad_report)


def test_nothing_clean_is_quarantined(bad_report: ValidationReport) -> None:
    expected_ids = {record_id for _, record_id, _ in expected_quarantine()}
    got_ids = {record_id for _, record_id, _ in quarantined(bad_report)}
    assert got_ids == expected_ids


def test_empty_text_is_quarantined_with_reason_and_raw_record(
    bad_report: ValidationReport,
) -> None:
    row = bad_report.quarantine.set_index("record_key").loc["bad-empty-text"]
    assert (row.run_id, row.stage, row.check_name, row.value) == (
        RUN,
        "articles",
        "text_length",
        "0 chars",
    )
    raw = json.loads(row.raw_record)
    assert raw["article_id"] == "bad-empty-text" and raw["text"] == ""
    assert raw["raw_html_gz"].endswith("bytes omitted>")  # no blobs in the quarantine table
    assert row.quarantined_at == pd.Timestamp(NOW)


def test_quarantined_article_leaves_the_batch_with_its_tags(
    bad_report: ValidationReport,
) -> None:
    frames = bad_report.frames
    assert "bad-empty-text" not in set(frames["articles"].article_id)
    assert "bad-empty-text" not in set(frames["article_topics"].article_id)
    assert "clean-00" in set(frames["article_topics"].article_id)


def test_duplicate_article_keeps_the_first_copy(bad_report: ValidationReport) -> None:
    kept = bad_report.frames["articles"]
    copies = kept[kept.article_id == "dup-raid"]
    assert list(copies.url) == ["https://news.example.org/2025/05/31/worksite-raid"]
    row = bad_report.quarantine[
        (bad_report.quarantine.stage == "articles")
        & (bad_report.quarantine.check_name == "article_id_unique")
    ]
    assert "utm_source=newsletter" in json.loads(row.iloc[0].raw_record)["url"]
    # the kept article keeps its tags (the cascade only follows articles that left)
    assert result(bad_report, "articles", "article_id_unique").unexpected_count == 2


def test_tracking_parameter_duplicate_feed_item_is_quarantined_once(
    bad_report: ValidationReport,
) -> None:
    q = bad_report.quarantine
    dup = q[(q.stage == "feed_items") & (q.check_name == "article_id_unique")]
    assert list(dup.record_key) == ["border-wire|dup-raid"]
    assert "fbclid" in json.loads(dup.iloc[0].raw_record)["original_url"]
    items = bad_report.frames["feed_items"]
    assert (items.article_id == "dup-raid").sum() == 1


def test_future_and_epoch_dates_are_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine.set_index("record_key")
    assert q.loc["bad-future-date"].check_name == "published_not_future"
    assert q.loc["bad-future-date"].value.startswith("2099-01-01")
    assert q.loc["bad-epoch-date"].check_name == "published_not_ancient"
    assert q.loc["bad-epoch-date"].value.startswith("1970-01-01")


def test_article_without_id_is_quarantined_by_its_position() -> None:
    rows = clean_rows()
    rows["articles"][4]["article_id"] = None
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    row = report.quarantine[report.quarantine.stage == "articles"].iloc[0]
    assert (row.record_key, row.check_name) == ("row:4", "article_id_not_null")


def test_invalid_language_code_is_quarantined_with_the_raw_code(
    bad_report: ValidationReport,
) -> None:
    row = bad_report.quarantine.set_index("record_key").loc["bad-language"]
    assert (row.check_name, row.value) == ("language_code", "esp")


def test_language_codes_with_region_and_null_are_accepted() -> None:
    rows = clean_rows()
    for i, code in enumerate(["en-US", "pt_BR", "ES", None, "es-419", ""]):
        rows["articles"][i]["language"] = code
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert bool(result(report, "articles", "language_code").success)


def test_unknown_subtopic_is_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    row = q[(q.stage == "article_topics") & (q.check_name == "subtopic_known")].iloc[0]
    assert (row.record_key, row.value) == ("clean-01|ice_raids_typo", "ice_raids_typo")


def test_offsets_outside_the_field_are_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    outside = q[q.check_name == "end_offset_within_field"].set_index("record_key")
    title_len = len(_article(2)["title"])
    assert outside.loc["clean-02|detention"].value == (f"field_length={title_len}, end_offset=4000")
    assert "clean-06|9" in outside.index  # a fact whose span runs past its summary
    negative = q[q.check_name == "start_offset_non_negative"]
    assert list(negative.record_key) == ["clean-03|deportation"]


def test_negative_count_is_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    row = q[(q.stage == "article_facts") & (q.check_name == "count_positive")].iloc[0]
    assert (row.record_key, row.value) == ("clean-04|7", "-12")
    facts = bad_report.frames["article_facts"]
    assert not ((facts.article_id == "clean-04") & (facts.fact_index == 7)).any()


def test_row_level_failures_do_not_block(bad_report: ValidationReport) -> None:
    assert bad_report.blocking == []
    # the only warning: a page in a language the monitor does not follow (loaded, flagged)
    assert [w.split(":")[0] for w in bad_report.warnings] == ["articles.language_expected"]
    assert len(bad_report.frames["articles"]) == 12 + 1  # the clean ones and dup-raid


# --------------------------------------------------------------------------- run level


def test_failed_feed_share_blocks_with_a_readable_message() -> None:
    rows = clean_rows()
    rows["feed_fetches"] = [_fetch(**r) for r in fixture("failed_feeds.json")["feed_fetches"]]
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
        {**_item(rows["articles"][0]), "article_id": f["article_id"], "url": f["url"]}
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
        rows["feed_items"].append(_item(article, feed_name="capitol-desk"))
    rows["articles"][5]["content_hash"] = rows["articles"][4]["content_hash"]
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    metric = json.loads(result(report, "run", "duplicate_rate").details)["metric"]
    assert (metric["article_id_duplicates"], metric["content_hash_duplicates"]) == (3, 1)
    assert report.warnings == [] and report.quarantine.empty  # 4/15 is under 0.30


def test_small_batches_are_not_judged_on_shares() -> None:
    rows = {"feed_fetches": [_fetch("a", outcome="error"), _fetch("b", outcome="error")]}
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


def test_missing_column_blocks_instead_of_guessing_rows() -> None:
    rows = clean_rows()
    frames = frames_of(rows)
    frames["articles"] = frames["articles"].drop(columns=["date_source"])
    report = validate_batch(RUN, frames, taxonomy_ids=TAXONOMY, now=NOW)
    assert any(
        m.startswith("articles.date_source_not_null: could not run:") for m in report.blocking
    )


# --------------------------------------------------------------------------- config


def test_shipped_config_loads() -> None:
    config = load_checks_config(Path(checks.__file__).resolve().parents[2] / "checks.yaml")
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


# --------------------------------------------------------------------------- speed, imports


def test_two_thousand_articles_validate_quickly() -> None:
    rows = clean_rows(2000)
    frames = frames_of(rows)
    report = validate_batch(RUN, frames, taxonomy_ids=TAXONOMY, now=NOW)
    assert report.quarantine.empty
    assert report.timings["total_s"] < 10.0, report.timings


def test_importing_checks_does_not_import_great_expectations() -> None:
    code = (
        "import sys, policy_news.quality.checks, policy_news.quality.data_docs; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- Data Docs


def test_data_docs_render_offline(bad_report: ValidationReport, tmp_path: Path) -> None:
    index = checks.build_data_docs(bad_report, tmp_path / "docs")
    assert index == tmp_path / "docs" / "index.html"
    pages = list((tmp_path / "docs").rglob("*.html"))
    assert len(pages) > 5
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "offline.css" in text
        assert 'src="http' not in text and '<link rel="stylesheet" href="http' not in text
    assert (tmp_path / "docs" / "static" / "offline" / "offline.js").is_file()
    assert RUN in index.read_text(encoding="utf-8")


def test_data_docs_keep_only_recent_runs(bad_report: ValidationReport, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for i in range(3):
        results = bad_report.results.copy()
        results["run_id"] = f"run-{i}"
        results["validated_at"] = pd.Timestamp(NOW + timedelta(hours=i))
        checks.build_data_docs(results, docs, keep_runs=2)
    from policy_news.quality.data_docs import runs_in_docs

    assert runs_in_docs(docs) == ["run-1", "run-2"]
    assert not (docs / "validations" / "run" / "run-0").exists()
    assert (docs / "validations" / "run" / "run-2").is_dir()


# --------------------------------------------------------------------------- plugin


@pytest.fixture
def plugin_client(bad_report: ValidationReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with warnings.catch_warnings():  # starlette's note about httpx vs httpx2
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    docs = tmp_path / "docs"
    checks.build_data_docs(bad_report, docs)
    monkeypatch.setenv("POLICY_NEWS_DOCS_DIR", str(docs))
    plugins_dir = Path(__file__).resolve().parents[2] / "plugins"
    monkeypatch.syspath_prepend(str(plugins_dir))
    import data_docs_plugin

    return TestClient(data_docs_plugin.docs_app), data_docs_plugin


def test_plugin_links_the_docs_from_the_airflow_ui(plugin_client) -> None:
    _, module = plugin_client
    plugin = module.DataDocsPlugin
    assert {v["destination"] for v in plugin.external_views} == {"nav", "dag_run"}
    assert plugin.fastapi_apps[0]["url_prefix"] == "/data-docs"
    assert plugin.external_views[0]["href"] == "/data-docs/index.html"


def test_plugin_serves_pages_and_refuses_traversal(plugin_client) -> None:
    client, _ = plugin_client
    assert "Data Docs" in client.get("/index.html").text
    assert client.get("/static/offline/offline.css").status_code == 200
    assert client.get("/../../etc/passwd").status_code == 404
    assert client.get("/%2e%2e/%2e%2e/etc/passwd").status_code == 404
    assert client.get("/_runs/x.json").status_code == 404


def test_plugin_run_link_opens_the_run_page(plugin_client) -> None:
    client, _ = plugin_client
    response = client.get(f"/run/{RUN}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].startswith(f"/data-docs/validations/run/{RUN}/")
    missing = client.get("/run/no-such-run", follow_redirects=False)
    assert missing.headers["location"] == "/data-docs/index.html"


def test_detached_text_gives_the_same_verdicts_records_and_rows(
    bad_report: ValidationReport,
) -> None:
    """The pipeline keeps the article text in Arrow (only its length is checked)."""
    import pyarrow as pa

    from policy_news.pipeline.stages import _detach_text

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
