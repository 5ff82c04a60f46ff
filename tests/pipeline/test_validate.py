"""The validate stage sees what the loader will store: items_new per feed, not zeros."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from policy_news import staging
from policy_news.models import FeedFetch, FeedItem
from policy_news.pipeline.validate import validate_run
from policy_news.store import connection

if TYPE_CHECKING:
    from pathlib import Path

    from policy_news.settings import Settings

FEED = "back-again"


def _history(settings: Settings, now: datetime) -> None:
    """A feed with an hourly rhythm that went quiet for three weeks."""
    with connection.open_db(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO feeds (feed_name, url, added_at, updated_at) VALUES (?, ?, ?, ?)",
            [FEED, "https://back.example.org/rss", now - timedelta(days=30), now],
        )
        for hour in range(6):
            conn.execute(
                "INSERT INTO feed_fetches (run_id, feed_name, feed_url, fetched_at, outcome, "
                "items_seen, items_new) VALUES (?, ?, ?, ?, 'ok', 3, 3)",
                [f"old-{hour}", FEED, "u", now - timedelta(days=21, hours=hour)],
            )


def _run_folder(settings: Settings, now: datetime) -> tuple[Path, dict[str, list[str]]]:
    run_dir = settings.staging_dir / "run-back"
    run_dir.mkdir(parents=True)
    (run_dir / "manifest.json").write_text(
        json.dumps({"run_id": "run-back", "started_at": now.isoformat(), "feeds": []})
    )
    (run_dir / "new_per_feed.json").write_text(json.dumps({FEED: 2}))
    fetch = FeedFetch("run-back", FEED, "https://back.example.org/rss", now, "ok", items_seen=2)
    items = [
        FeedItem(
            f"a{i}",
            f"https://back.example.org/{i}",
            f"https://back.example.org/{i}",
            FEED,
            f"Story {i}",
            "",
            now,
        )
        for i in range(2)
    ]
    staging.write("feed_fetches", [fetch], run_dir / "feed_fetches_0000.parquet")
    staging.write("feed_items", items, run_dir / "feed_items_0000.parquet")
    paths = {
        "feed_fetches": [str(run_dir / "feed_fetches_0000.parquet")],
        "feed_items": [str(run_dir / "feed_items_0000.parquet")],
    }
    return run_dir, paths


def test_a_feed_that_came_back_is_not_flagged_silent(settings: Settings) -> None:
    now = datetime.now(UTC)
    _history(settings, now)
    run_dir, paths = _run_folder(settings, now)
    summary = validate_run(run_dir, paths, settings)
    results = pq.read_table(summary["dq_results"]).to_pylist()
    silent = next(r for r in results if r["check_name"] == "silent_zero")
    fetches = pq.read_table(summary["validated"]["feed_fetches"]).to_pylist()
    assert silent["success"], silent
    assert not any("silent_zero" in w for w in summary["warnings"])
    assert fetches[0]["items_new"] == 2  # and the validated fetch rows carry the count


def test_deferred_docs_are_built_later_from_the_stored_results(settings: Settings) -> None:
    """`policy-news run` builds the Data Docs while it loads: validation leaves them
    pending, and `build_docs` renders them from the run's dq_results file alone."""
    from policy_news.pipeline.validate import build_docs

    now = datetime.now(UTC)
    _history(settings, now)
    run_dir, paths = _run_folder(settings, now)
    summary = validate_run(run_dir, paths, settings, defer_docs=True)
    assert summary.get("docs_pending")
    assert not (settings.docs_dir / "index.html").exists()
    build_docs(summary["dq_results"], settings)
    index = (settings.docs_dir / "index.html").read_text()
    assert "feed_items" in index
    assert (settings.docs_dir / "_runs" / "run-back.json").exists()
