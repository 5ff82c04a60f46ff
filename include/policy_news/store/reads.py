"""Reads the pipeline plans with: which feeds are due, what is stored, what to retry.

Read-only queries on an open connection; `status` backs `policy-news status`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from policy_news.models import FeedState

if TYPE_CHECKING:
    from collections.abc import Sequence

    import duckdb

    from policy_news.sources.registry import FeedConfig

# A run starting a little early (scheduler jitter) still polls feeds due about now.
POLL_SLACK = timedelta(minutes=5)


def feed_states(conn: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    rows = conn.execute("SELECT feed_name, etag, last_modified, body_hash FROM feeds").fetchall()
    return {r[0]: FeedState(etag=r[1], last_modified=r[2], body_hash=r[3]) for r in rows}


def feeds_due(
    conn: duckdb.DuckDBPyConnection,
    feeds: Sequence[FeedConfig],
    now: datetime,
    *,
    poll_all: bool = False,
) -> list[FeedConfig]:
    """Feeds to poll now: those whose next poll time has come (auto-disabled ones weekly).

    `poll_all` ignores each feed's rhythm but still honours auto-disabling.
    """
    rows = conn.execute(
        "SELECT feed_name, auto_disabled_at, next_poll_at FROM feeds WHERE enabled"
    ).fetchall()
    horizon = now + POLL_SLACK
    skip = {
        name
        for name, disabled_at, next_poll in rows
        if next_poll is not None
        and next_poll > horizon
        and (disabled_at is not None or not poll_all)
    }
    return [f for f in feeds if f.name not in skip]


def _ids_matching(
    conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str], sql: str, params: list[Any]
) -> set[str]:
    """The ids among `article_ids` that `sql` selects; it reads them from `candidate_ids`."""
    if not article_ids:
        return set()
    ids = pa.table({"article_id": pa.array(list(article_ids), pa.string())})
    conn.register("candidate_ids", ids)
    try:
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.unregister("candidate_ids")
    return {r[0] for r in rows}


def known_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> set[str]:
    """Which of these ids are already stored."""
    return _ids_matching(
        conn,
        article_ids,
        "SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM candidate_ids)",
        [],
    )


def exhausted_failures(
    conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str], max_attempts: int
) -> set[str]:
    """Which of these ids failed `max_attempts` times or more: not worth another try."""
    return _ids_matching(
        conn,
        article_ids,
        "SELECT article_id FROM fetch_failures WHERE attempts >= ? "
        "AND article_id IN (SELECT article_id FROM candidate_ids)",
        [max_attempts],
    )


def retryable_failures(
    conn: duckdb.DuckDBPyConnection, max_attempts: int, limit: int = 500
) -> pa.Table:
    """Failed articles from earlier runs that deserve another try (as feed items)."""
    rows = conn.execute(
        "SELECT article_id, url, feed_name, coalesce(title, ''), coalesce(summary, ''), "
        "feed_published_at FROM fetch_failures WHERE attempts < ? "
        # permanent failures (refused, wrong type, too big, gone) are not worth a retry
        "AND NOT coalesce(error_kind IN ('ssrf', 'scheme', 'robots', 'content_type', "
        "'too_large') OR http_status IN (404, 410), FALSE) "
        "AND article_id NOT IN (SELECT article_id FROM articles) "
        "ORDER BY last_failed_at LIMIT ?",
        [max_attempts, limit],
    ).fetchall()
    return _as_feed_items(rows)


def refetchable_articles(
    conn: duckdb.DuckDBPyConnection,
    max_attempts: int,
    min_gap: timedelta,
    now: datetime,
    limit: int = 200,
) -> pa.Table:
    """Stored articles without full body text (metadata-only, too short) due another fetch.

    Pages behind a script or a paywall sometimes gain text later (the server renders it,
    the paywall lifts): each gets up to `max_attempts` fetches, `min_gap` apart, and the
    loader upserts it with full text once it appears.
    """
    rows = conn.execute(
        "SELECT article_id, url, feed_name, coalesce(title, ''), coalesce(summary, ''), "
        "published_at FROM articles WHERE coalesce(extraction_status, 'ok') <> 'ok' "
        "AND coalesce(extraction_attempts, 1) < ? AND fetched_at <= ? "
        "ORDER BY fetched_at LIMIT ?",
        [max_attempts, now - min_gap, limit],
    ).fetchall()
    return _as_feed_items(rows)


def pending_items(conn: duckdb.DuckDBPyConnection, limit: int | None = None) -> pa.Table:
    """Items earlier runs deferred, oldest first (as feed items), to be taken before new ones."""
    from policy_news import staging

    table: pa.Table = conn.sql(
        "SELECT article_id, url, original_url, feed_name, coalesce(title, '') AS title, "
        "coalesce(summary, '') AS summary, published_at, guid FROM pending_items "
        "ORDER BY first_deferred_at, article_id LIMIT $limit",
        params={"limit": limit if limit is not None else 2**62},
    ).to_arrow_table()
    return table.cast(staging.SCHEMAS["feed_items"])


def backlog(conn: duckdb.DuckDBPyConnection, now: datetime) -> list[tuple[str, int, float]]:
    """The pending items per deferred reason: (reason, count, age of the oldest in hours)."""
    rows = conn.execute(
        "SELECT deferred_reason, count(*), min(first_deferred_at) FROM pending_items "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return [(r[0], r[1], round((now - r[2]).total_seconds() / 3600, 1)) for r in rows]


def status(conn: duckdb.DuckDBPyConnection, last_runs: int = 5) -> dict[str, Any]:
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        for table in (
            "feeds",
            "feed_fetches",
            "articles",
            "article_topics",
            "article_facts",
            "fetch_failures",
            "quarantine",
            "dq_results",
            "pipeline_runs",
            "html_archive",
            "pending_items",
        )
    }
    relevant = conn.execute("SELECT count(*) FROM articles WHERE relevant").fetchone()
    runs = conn.execute(
        "SELECT run_id, started_at, outcome, feeds_ok, feeds_failed, items_new, articles_loaded, "
        "relevant_loaded, articles_failed, quarantined, checks_failed, message "
        "FROM pipeline_runs ORDER BY started_at DESC LIMIT ?",
        [last_runs],
    ).fetchall()
    return {
        "counts": counts,
        "relevant": relevant[0] if relevant else 0,
        "runs": runs,
        "backlog": backlog(conn, datetime.now(UTC)),
    }


def _as_feed_items(rows: list[Any]) -> pa.Table:
    """(article_id, url, feed_name, title, summary, published_at) rows as feed items to fetch."""
    from policy_news import staging

    keys = ("article_id", "url", "feed_name", "title", "summary", "published_at")
    return staging.to_table(
        "feed_items", [{**dict(zip(keys, r, strict=True)), "original_url": r[1]} for r in rows]
    )
