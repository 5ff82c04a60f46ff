"""Rows shaped as the loader writes them, inserted with SQL so tests state each fact plainly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import duckdb

TAXONOMY = "test-1"
_ids = itertools.count()


def add_run(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    started_at: datetime,
    outcome: str = "success",
    message: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO pipeline_runs (run_id, started_at, finished_at, outcome, trigger, message) "
        "VALUES (?, ?, ?, ?, 'airflow', ?)",
        [run_id, started_at, started_at + timedelta(minutes=3), outcome, message],
    )


def add_check(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    check_name: str,
    *,
    severity: str,
    success: bool,
    observed: str,
    at: datetime,
) -> None:
    conn.execute(
        "INSERT INTO dq_results (run_id, suite, check_name, column_name, severity, success, "
        "observed_value, element_count, unexpected_count, validated_at) "
        "VALUES (?, 'feed_items', ?, NULL, ?, ?, ?, 120, ?, ?)",
        [run_id, check_name, severity, success, observed, 0 if success else 120, at],
    )


def add_feed(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    *,
    added_at: datetime,
    enabled: bool = True,
    consecutive_failures: int = 0,
    auto_disabled_at: datetime | None = None,
    auto_disabled_reason: str | None = None,
    last_success_at: datetime | None = None,
    last_new_item_at: datetime | None = None,
) -> None:
    conn.execute(
        "INSERT INTO feeds (feed_name, url, enabled, added_at, updated_at, last_fetch_at, "
        "last_success_at, last_new_item_at, consecutive_failures, auto_disabled_at, "
        "auto_disabled_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            name,
            f"https://{name}.example.org/feed.xml",
            enabled,
            added_at,
            added_at,
            last_success_at,
            last_success_at,
            last_new_item_at,
            consecutive_failures,
            auto_disabled_at,
            auto_disabled_reason,
        ],
    )


def add_fetch(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    feed_name: str,
    at: datetime,
    *,
    outcome: str = "ok",
    items_new: int = 0,
) -> None:
    conn.execute(
        "INSERT INTO feed_fetches (run_id, feed_name, feed_url, fetched_at, outcome, "
        "http_status, items_seen, items_new, error) VALUES (?, ?, ?, ?, ?, ?, 10, ?, ?)",
        [
            run_id,
            feed_name,
            f"https://{feed_name}.example.org/feed.xml",
            at,
            outcome,
            200 if outcome == "ok" else 503,
            items_new,
            None if outcome == "ok" else "HTTP 503",
        ],
    )


def seen_health(conn: duckdb.DuckDBPyConnection, feed_name: str, health: str, at: datetime) -> None:
    conn.execute("INSERT INTO feed_health_seen VALUES (?, ?, ?)", [feed_name, health, at])


def add_relevant_articles(
    conn: duckdb.DuckDBPyConnection, subtopic: str, published_at: datetime, count: int
) -> None:
    """`count` relevant, non-duplicate articles tagged `subtopic`, published at that time."""
    conn.execute(
        "INSERT INTO taxonomy_versions VALUES (?, ?, TRUE, NULL) ON CONFLICT DO NOTHING",
        [TAXONOMY, published_at],
    )
    for _ in range(count):
        article_id = f"a{next(_ids)}"
        conn.execute(
            "INSERT INTO articles (article_id, url, feed_name, title, published_at, date_source, "
            "fetched_at, relevant, relevance_score, taxonomy_version, first_run_id, last_run_id, "
            "loaded_at) VALUES (?, ?, 'steady', ?, ?, 'feed', ?, TRUE, 0.9, ?, 'r', 'r', ?)",
            [
                article_id,
                f"https://news.example.org/{article_id}",
                f"Story {article_id}",
                published_at,
                published_at,
                TAXONOMY,
                published_at,
            ],
        )
        conn.execute(
            "INSERT INTO article_topics VALUES (?, ?, ?, 0.9, 'raid', 'text', 0, 4, 'rule-1')",
            [article_id, subtopic, TAXONOMY],
        )
