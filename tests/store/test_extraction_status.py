"""Articles without body text, quarantined articles and blocked runs, as the loader stores them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from policy_news import staging
from policy_news.store import connection, loader, reads
from tests.store.conftest import NOW
from tests.store.conftest import article as _article
from tests.store.conftest import fetch as _fetch
from tests.store.conftest import load_input as _load

GAP = timedelta(hours=12)


def _metadata_only(article_id: str) -> object:
    return replace(
        _article(article_id, text="Agents arrested 40 people in a raid."),
        extraction_status="metadata_only",
        content_hash=None,
    )


def _refetchable(conn: duckdb.DuckDBPyConnection, max_attempts: int = 4) -> list[str]:
    later = NOW + timedelta(days=1)
    table = reads.refetchable_articles(conn, max_attempts, GAP, later)
    return table.column("article_id").to_pylist()


def test_metadata_only_article_is_upgraded_when_the_page_gains_text(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [_metadata_only("m1")]))
        first = conn.execute(
            "SELECT extraction_status, extraction_attempts FROM articles"
        ).fetchone()
        due = _refetchable(conn)
        loader.load_run(conn, _load("run-2", [_article("m1")]))
        upgraded = conn.execute(
            "SELECT extraction_status, extraction_attempts, length(text) FROM articles"
        ).fetchone()
        due_after = _refetchable(conn)
        day = conn.execute("SELECT extraction_status FROM article_days").fetchone()
    assert first == ("metadata_only", 1)
    assert due == ["m1"]
    assert upgraded is not None and upgraded[:2] == ("ok", 2) and upgraded[2] > 200
    assert due_after == []
    assert day == ("ok",)


def test_metadata_only_refetches_stop_after_the_attempt_limit(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        for run in ("run-1", "run-1", "run-2", "run-3"):  # a reload counts once
            loader.load_run(conn, _load(run, [_metadata_only("m1")]))
        attempts = conn.execute("SELECT extraction_attempts FROM articles").fetchone()
        assert attempts == (3,)
        assert _refetchable(conn, max_attempts=4) == ["m1"]
        assert _refetchable(conn, max_attempts=3) == []
        # not before the gap has passed
        soon = reads.refetchable_articles(conn, 4, GAP, NOW + timedelta(hours=1))
    assert soon.num_rows == 0


def _quarantined(run_id: str, article_id: str) -> dict[str, object]:
    record = {
        "article_id": article_id,
        "url": f"https://news.example.org/{article_id}",
        "feed_name": "fixture",
        "title": "t",
        "summary": "",
        "http_status": 200,
    }
    return {
        "run_id": run_id,
        "stage": "articles",
        "record_key": article_id,
        "check_name": "published_not_future",
        "value": "2099-01-01",
        "raw_record": json.dumps(record),
        "quarantined_at": NOW,
    }


def test_quarantined_article_counts_as_an_attempt_until_exhausted(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        for run in ("run-1", "run-1", "run-2"):
            loader.load_run(conn, _load(run, [], quarantine=[_quarantined(run, "q1")]))
        rows = conn.execute(
            "SELECT stage, error_kind, attempts, url FROM fetch_failures"
        ).fetchall()
        exhausted = reads.exhausted_failures(conn, ["q1"], max_attempts=2)
        retry = reads.retryable_failures(conn, max_attempts=3)
    assert rows == [("validate", "quarantined", 2, "https://news.example.org/q1")]
    assert exhausted == {"q1"}
    assert retry.column("article_id").to_pylist() == ["q1"]


def test_blocked_runs_count_feed_failures_until_the_feed_is_disabled(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    results = pa.table({"run_id": pa.array([], pa.string())})
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-0", [], [replace(_fetch("run-0"), etag="v1")]))
        for i in range(1, loader.HARD_FAILURES_TO_DISABLE + 1):
            fetches = staging.to_table("feed_fetches", [_fetch(f"run-{i}", 410, "error")])
            load = replace(_load(f"run-{i}", []), tables={"feed_fetches": fetches})
            loader.record_blocked_run(conn, load, results, "blocking check failed")
        recorded = conn.execute(
            "SELECT count(*) FROM feed_fetches WHERE outcome = 'error'"
        ).fetchone()
        health = conn.execute("SELECT health FROM feed_health").fetchone()
        etag = conn.execute("SELECT etag FROM feeds").fetchone()
        outcomes = conn.execute(
            "SELECT outcome, count(*) FROM pipeline_runs GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert recorded == (loader.HARD_FAILURES_TO_DISABLE,)
    assert health == ("auto_disabled",)
    assert etag == ("v1",)  # a blocked run's validators never hide its items from the next
    assert outcomes == [("blocked", loader.HARD_FAILURES_TO_DISABLE), ("success", 1)]


def test_blocked_run_keeps_the_feeds_validators_and_records_no_new_items(
    tmp_path: Path,
) -> None:
    db = tmp_path / "x.duckdb"
    results = pa.table({"run_id": pa.array([], pa.string())})
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-0", [], [replace(_fetch("run-0"), etag="v1")]))
        fetch = replace(_fetch("run-1"), etag="v2", items_new=4)
        load = replace(
            _load("run-1", []), tables={"feed_fetches": staging.to_table("feed_fetches", [fetch])}
        )
        loader.record_blocked_run(conn, load, results, "blocked")
        row = conn.execute("SELECT etag, consecutive_failures FROM feeds").fetchone()
        new = conn.execute("SELECT items_new FROM feed_fetches WHERE run_id = 'run-1'").fetchone()
    assert row == ("v1", 0)
    assert new == (0,)
