"""The single writer: one run's tables written in one DuckDB transaction.

Only `load_run` (and retagging) write. Every write is an upsert keyed by the table's
natural key, so rerunning or clearing a task converges on the same rows, and a crash or
error inside the transaction leaves the database as it was.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from policy_news import staging
from policy_news.settings import get_settings
from policy_news.store.load_sql import (
    SQL_ARTICLES,
    SQL_DUPLICATES,
    SQL_FEED_FETCHES,
    SQL_FEED_HEALTH,
    SQL_FEED_HEALTH_BLOCKED,
    SQL_FEEDS,
    SQL_PENDING_DEFERRED,
    SQL_PENDING_TAKEN,
    SQL_POLL_RHYTHM,
    SQL_QUARANTINE_ATTEMPTS,
    SQL_REFETCH_FAILED,
    SQL_RUN,
    SQL_RUN_DEFERRED,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import duckdb

    from policy_news.sources.registry import FeedConfig
    from policy_news.store.html_archive import ArchivedRun

# Feeds answering 404/410 or not resolving this many times in a row stop being polled
# every run; they are re-checked once a week in case they come back.
HARD_FAILURES_TO_DISABLE = 5
DISABLED_RECHECK = timedelta(days=7)


@dataclass
class LoadInput:
    """Everything one run writes, as Arrow tables keyed like staging.SCHEMAS."""

    run_id: str
    started_at: datetime
    feeds: Sequence[FeedConfig]
    tables: Mapping[str, pa.Table]
    taxonomy_version: str
    taxonomy_definition: Mapping[str, Any] | None
    run_stats: Mapping[str, Any]
    # The run's raw-HTML archive file, already written (html_archive.write_run); the
    # transaction registers it.
    archived: ArchivedRun | None = None


def _register(conn: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> list[str]:
    names = []
    for kind, table in tables.items():
        name = f"staged_{kind}"
        conn.register(name, table)
        names.append(name)
    return names


def upsert_tags(
    conn: duckdb.DuckDBPyConnection,
    topics: pa.Table,
    facts: pa.Table,
    relevance: pa.Table,
    taxonomy_version: str,
    taxonomy_definition: Mapping[str, Any] | None,
    *,
    make_current: bool,
) -> None:
    """Replace one taxonomy version's tags for the given articles (caller holds the transaction)."""
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO taxonomy_versions VALUES (?, ?, FALSE, ?) ON CONFLICT (taxonomy_version) "
        "DO UPDATE SET definition = coalesce(excluded.definition, taxonomy_versions.definition)",
        [taxonomy_version, now, json.dumps(taxonomy_definition) if taxonomy_definition else None],
    )
    if make_current:
        conn.execute(
            "UPDATE taxonomy_versions SET is_current = (taxonomy_version = ?)", [taxonomy_version]
        )
    conn.register("staged_tag_relevance", relevance)
    conn.register("staged_tag_topics", topics)
    conn.register("staged_tag_facts", facts)
    try:
        # Articles re-tagged with no topics must lose their old ones too.
        conn.execute(
            "DELETE FROM article_topics WHERE taxonomy_version = ? AND article_id IN "
            "(SELECT article_id FROM staged_tag_relevance)",
            [taxonomy_version],
        )
        conn.execute(
            "DELETE FROM article_facts WHERE taxonomy_version = ? AND article_id IN "
            "(SELECT article_id FROM staged_tag_relevance)",
            [taxonomy_version],
        )
        conn.execute("INSERT INTO article_topics BY NAME SELECT * FROM staged_tag_topics")
        conn.execute("INSERT INTO article_facts BY NAME SELECT * FROM staged_tag_facts")
        conn.execute(
            "INSERT OR REPLACE INTO article_relevance BY NAME SELECT * FROM staged_tag_relevance"
        )
        if make_current:
            conn.execute(
                "UPDATE articles SET relevant = r.relevant, relevance_score = r.relevance_score, "
                "taxonomy_version = r.taxonomy_version, "
                "relevance_probability = r.relevance_probability, needs_review = r.needs_review "
                "FROM staged_tag_relevance r "
                "WHERE articles.article_id = r.article_id"
            )
    finally:
        for name in ("staged_tag_relevance", "staged_tag_topics", "staged_tag_facts"):
            conn.unregister(name)


def _feed_config_table(feeds: Sequence[FeedConfig]) -> pa.Table:
    return pa.table(
        {
            "name": pa.array([f.name for f in feeds], pa.string()),
            "url": pa.array([f.url for f in feeds], pa.string()),
            "enabled": pa.array([f.enabled for f in feeds], pa.bool_()),
            "config": pa.array([json.dumps(f.model_dump(mode="json")) for f in feeds], pa.string()),
        }
    )


def _run_row(load: LoadInput, outcome: str, message: str | None) -> list[Any]:
    stats = load.run_stats
    return [
        load.run_id,
        load.started_at,
        datetime.now(UTC),
        outcome,
        stats.get("trigger"),
        stats.get("feeds_total", 0),
        stats.get("feeds_ok", 0),
        stats.get("feeds_failed", 0),
        stats.get("items_seen", 0),
        stats.get("items_new", 0),
        stats.get("articles_fetched", 0),
        stats.get("articles_failed", 0),
        stats.get("articles_loaded", 0),
        stats.get("relevant_loaded", 0),
        stats.get("quarantined", 0),
        stats.get("checks_passed", 0),
        stats.get("checks_failed", 0),
        json.dumps(stats.get("timings", {})),
        message,
    ]


def load_run(conn: duckdb.DuckDBPyConnection, load: LoadInput) -> dict[str, int]:
    """Write one run in a single transaction; a crash or error leaves the database as it was."""
    tables = dict(load.tables)
    article_ids = tables["articles"].column("article_id").to_pylist()
    if article_ids:
        # Imported before the transaction, and only when there are articles to cluster:
        # datasketch (numpy, scipy) takes seconds to import, more than a poll with nothing
        # new costs.
        from policy_news.stories.persistence import (
            near_duplicate_params,
            staged_signatures,
            story_params,
            update_near_duplicates,
            update_stories,
        )

    tables["feed_config"] = _feed_config_table(load.feeds)
    # runs staged before deferrals (or worker-made sketches) existed
    for kind in ("deferred_items", "pending_taken", "article_sketches"):
        tables.setdefault(kind, staging.SCHEMAS[kind].empty_table())
    now = datetime.now(UTC)
    started = time.perf_counter()
    names = _register(conn, tables)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(SQL_FEEDS, {"now": now})
        conn.execute(SQL_FEED_FETCHES)
        conn.execute(
            SQL_FEED_HEALTH,
            {"limit": HARD_FAILURES_TO_DISABLE, "recheck": DISABLED_RECHECK},
        )
        settings = get_settings()
        poll = {"min": settings.min_poll_minutes, "max": settings.max_poll_minutes, "now": now}
        conn.execute(SQL_POLL_RHYTHM, poll)
        conn.execute(SQL_ARTICLES, {"run_id": load.run_id, "now": now})
        if load.archived is not None:
            conn.execute(
                "INSERT OR REPLACE INTO html_archive VALUES (?, ?, ?, ?, ?)",
                [
                    load.run_id,
                    load.archived.file_name,
                    load.archived.articles,
                    load.archived.bytes,
                    now,
                ],
            )
        conn.execute(
            "INSERT INTO article_feeds SELECT DISTINCT ON (article_id, feed_name) article_id, "
            "feed_name, $run_id, published_at FROM staged_feed_items "
            "WHERE article_id IN (SELECT article_id FROM articles) "
            "ON CONFLICT DO NOTHING",
            {"run_id": load.run_id},
        )
        conn.execute(SQL_DUPLICATES)
        upsert_tags(
            conn,
            tables["article_topics"],
            tables["article_facts"],
            tables["article_relevance"],
            load.taxonomy_version,
            load.taxonomy_definition,
            make_current=True,
        )
        # Near-duplicates first (stories use them), after tags (stories use facts).
        stories_started = time.perf_counter()
        near_duplicates = stories_assigned = new_stories = 0
        if article_ids:
            params = near_duplicate_params(settings)
            near_duplicates = update_near_duplicates(
                conn, article_ids, params, staged_signatures(tables["article_sketches"])
            )
            stories = update_stories(conn, article_ids, story_params(settings))
            stories_assigned, new_stories = stories.stories_assigned, stories.new_stories
        stories_seconds = time.perf_counter() - stories_started
        conn.execute(
            "INSERT INTO fetch_failures SELECT article_id, url, feed_name, title, summary, "
            "feed_published_at, stage, error_kind, error, http_status, 1, failed_at, failed_at, $run_id "
            "FROM staged_failures "
            "ON CONFLICT (article_id) DO UPDATE SET stage = excluded.stage, "
            "error_kind = excluded.error_kind, error = excluded.error, "
            "http_status = excluded.http_status, last_failed_at = excluded.last_failed_at, "
            # the same run loaded twice must not count its failures twice
            "attempts = fetch_failures.attempts + CASE WHEN fetch_failures.last_run_id = "
            "excluded.last_run_id THEN 0 ELSE 1 END, last_run_id = excluded.last_run_id",
            {"run_id": load.run_id},
        )
        conn.execute(SQL_QUARANTINE_ATTEMPTS, {"run_id": load.run_id})
        conn.execute(SQL_REFETCH_FAILED, {"run_id": load.run_id})
        conn.execute(
            "DELETE FROM fetch_failures WHERE article_id IN (SELECT article_id FROM staged_articles)"
        )
        conn.execute(SQL_PENDING_TAKEN)
        conn.execute(SQL_PENDING_DEFERRED, {"run_id": load.run_id, "now": now})
        for table in ("quarantine", "dq_results"):
            conn.execute(f"DELETE FROM {table} WHERE run_id = ?", [load.run_id])
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM staged_{table}")
        timings = {
            **load.run_stats.get("timings", {}),
            "load": round(time.perf_counter() - started, 3),
            "stories": round(stories_seconds, 3),
        }
        load = replace(load, run_stats={**load.run_stats, "timings": timings})
        conn.execute(SQL_RUN, _run_row(load, "success", None))
        conn.execute(
            SQL_RUN_DEFERRED,
            {
                "run_id": load.run_id,
                "items": load.run_stats.get("items_deferred", 0),
                "reasons": json.dumps(load.run_stats.get("deferred_reasons", {})),
            },
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        for name in names:
            conn.unregister(name)
    return {
        "articles": tables["articles"].num_rows,
        "topics": tables["article_topics"].num_rows,
        "facts": tables["article_facts"].num_rows,
        "failures": tables["failures"].num_rows,
        "quarantined": tables["quarantine"].num_rows,
        "near_duplicates": near_duplicates,
        "stories_assigned": stories_assigned,
        "new_stories": new_stories,
        "deferred": tables["deferred_items"].num_rows,
    }


def record_blocked_run(
    conn: duckdb.DuckDBPyConnection, load: LoadInput, dq_results: pa.Table, message: str
) -> None:
    """A blocking check failed: keep the evidence (run row, check results) and the run's
    feed fetches, load no data.

    The fetches count toward each feed's failures (so a dead feed is auto-disabled even
    while it keeps runs blocked); their items were not stored, so `items_new` is recorded
    as 0 and the feeds' validators are left alone (see SQL_FEED_HEALTH_BLOCKED).
    """
    tables: dict[str, pa.Table] = {"dq_results": dq_results}
    fetches = load.tables.get("feed_fetches")
    if fetches is not None:
        zero = pa.array([0] * fetches.num_rows, pa.int32())
        index = fetches.schema.get_field_index("items_new")
        tables["feed_fetches"] = fetches.set_column(index, "items_new", zero)
        tables["feed_config"] = _feed_config_table(load.feeds)
    names = _register(conn, tables)
    conn.execute("BEGIN TRANSACTION")
    try:
        if fetches is not None:
            conn.execute(SQL_FEEDS, {"now": datetime.now(UTC)})
            conn.execute(SQL_FEED_FETCHES)
            conn.execute(
                SQL_FEED_HEALTH_BLOCKED,
                {"limit": HARD_FAILURES_TO_DISABLE, "recheck": DISABLED_RECHECK},
            )
        conn.execute("DELETE FROM dq_results WHERE run_id = ?", [load.run_id])
        conn.execute("INSERT INTO dq_results BY NAME SELECT * FROM staged_dq_results")
        conn.execute(SQL_RUN, _run_row(load, "blocked", message))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        for name in names:
            conn.unregister(name)
