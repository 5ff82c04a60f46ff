"""DuckDB storage: migrations, the single-writer loader, reads for the pipeline.

Only `load_run` (and retagging) write. Each load is one transaction and every
write is an upsert keyed by the table's natural key, so rerunning or clearing a
task converges on the same rows. After a successful load a read-only snapshot is
published for analysts, because while a process writes the main file DuckDB locks
out every other process, readers included.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from policy_news.models import FeedState

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from policy_news.sources.registry import FeedConfig
    from policy_news.store.html_archive import ArchivedRun

log = logging.getLogger(__name__)

# Feeds answering 404/410 or not resolving this many times in a row stop being polled
# every run; they are re-checked once a week in case they come back.
HARD_FAILURES_TO_DISABLE = 5
DISABLED_RECHECK = timedelta(days=7)
# Polling adapts to each feed's rhythm: about twice per gap between new items,
# never more often than MIN_POLL nor less often than MAX_POLL.
MIN_POLL_MINUTES = int(os.environ.get("POLICY_NEWS_MIN_POLL_MINUTES") or 15)
MAX_POLL_MINUTES = int(os.environ.get("POLICY_NEWS_MAX_POLL_MINUTES") or 360)
POLL_SLACK = timedelta(minutes=5)
LOCK_RETRY_DEADLINE_S = float(os.environ.get("POLICY_NEWS_LOCK_TIMEOUT_S") or 120)


class DatabaseBusyError(RuntimeError):
    """Another process kept the DuckDB file locked for longer than we wait."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(
    db_path: Path, *, read_only: bool = False, deadline_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying with backoff while another process holds the lock."""
    deadline = time.monotonic() + (LOCK_RETRY_DEADLINE_S if deadline_s is None else deadline_s)
    delay = 0.1
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            conn = duckdb.connect(str(db_path), read_only=read_only)
            conn.execute("SET TimeZone = 'UTC'")
            return conn
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                waited = LOCK_RETRY_DEADLINE_S if deadline_s is None else deadline_s
                raise DatabaseBusyError(
                    f"{db_path} stayed locked by another process; gave up after "
                    f"{waited:.1f}s: {exc}"
                ) from exc
            pause = min(delay, remaining)
            log.warning("database %s is locked, retrying in %.1fs", db_path, pause)
            time.sleep(pause)
            delay = min(delay * 2, 5.0)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("policy_news.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns their names."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations").fetchall()}
    done = []
    for version, name, sql in _migrations():
        if version in applied:
            continue
        conn.execute("BEGIN")
        try:
            conn.execute(sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime.now(UTC)]
            )
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise
        done.append(name)
    return done


@contextmanager
def open_db(db_path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Connection with the schema up to date (read-only connections skip migrating)."""
    if read_only and not db_path.exists():
        conn = duckdb.connect(":memory:")
        migrate(conn)
    else:
        conn = connect(db_path, read_only=read_only)
        if not read_only:
            migrate(conn)
    try:
        yield conn
    finally:
        conn.close()


# --- reads used by the pipeline -------------------------------------------------------


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
    # A run starting a little early (scheduler jitter) still polls feeds due about now.
    horizon = now + POLL_SLACK
    skip = {
        name
        for name, disabled_at, next_poll in rows
        if next_poll is not None
        and next_poll > horizon
        and (disabled_at is not None or not poll_all)
    }
    return [f for f in feeds if f.name not in skip]


def known_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> set[str]:
    """Which of these ids are already stored, or failed too often to try again."""
    if not article_ids:
        return set()
    ids = pa.table({"article_id": pa.array(list(article_ids), pa.string())})
    conn.register("candidate_ids", ids)
    try:
        rows = conn.execute(
            "SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM candidate_ids)"
        ).fetchall()
    finally:
        conn.unregister("candidate_ids")
    return {r[0] for r in rows}


def exhausted_failures(
    conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str], max_attempts: int
) -> set[str]:
    if not article_ids:
        return set()
    ids = pa.table({"article_id": pa.array(list(article_ids), pa.string())})
    conn.register("candidate_ids", ids)
    try:
        rows = conn.execute(
            "SELECT article_id FROM fetch_failures WHERE attempts >= ? "
            "AND article_id IN (SELECT article_id FROM candidate_ids)",
            [max_attempts],
        ).fetchall()
    finally:
        conn.unregister("candidate_ids")
    return {r[0] for r in rows}


def retryable_failures(
    conn: duckdb.DuckDBPyConnection, max_attempts: int, limit: int = 500
) -> pa.Table:
    """Failed articles from earlier runs that deserve another try (as feed items)."""
    from policy_news import staging

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
    return staging.to_table(
        "feed_items",
        [
            {
                "article_id": r[0],
                "url": r[1],
                "original_url": r[1],
                "feed_name": r[2],
                "title": r[3],
                "summary": r[4],
                "published_at": r[5],
            }
            for r in rows
        ],
    )


# --- the loader ------------------------------------------------------------------------


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


_SQL_FEEDS = """
INSERT INTO feeds (feed_name, url, enabled, config, added_at, updated_at)
SELECT name, url, enabled, config, $now, $now FROM staged_feed_config
ON CONFLICT (feed_name) DO UPDATE SET
    url = excluded.url, enabled = excluded.enabled, config = excluded.config,
    updated_at = excluded.updated_at,
    -- a feed whose URL was fixed deserves a fresh start
    consecutive_hard_failures = CASE WHEN feeds.url <> excluded.url THEN 0
        ELSE feeds.consecutive_hard_failures END,
    auto_disabled_at = CASE WHEN feeds.url <> excluded.url THEN NULL ELSE feeds.auto_disabled_at END,
    auto_disabled_reason = CASE WHEN feeds.url <> excluded.url THEN NULL
        ELSE feeds.auto_disabled_reason END
"""

_SQL_FEED_FETCHES = """
INSERT OR REPLACE INTO feed_fetches
SELECT run_id, feed_name, feed_url, fetched_at, outcome, http_status, bytes, etag, last_modified,
       body_hash, items_seen, items_new, error_kind, error, duration_ms
FROM staged_feed_fetches
"""

# Health bookkeeping per feed from this run's fetch (hard failures: 404/410/DNS).
_SQL_FEED_HEALTH = """
UPDATE feeds SET
    etag = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.etag ELSE feeds.etag END,
    last_modified = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.last_modified
        ELSE feeds.last_modified END,
    body_hash = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.body_hash ELSE feeds.body_hash END,
    last_fetch_at = f.fetched_at,
    last_success_at = CASE WHEN f.outcome <> 'error' THEN f.fetched_at ELSE feeds.last_success_at END,
    last_new_item_at = CASE WHEN f.items_new > 0 THEN f.fetched_at ELSE feeds.last_new_item_at END,
    consecutive_failures = CASE WHEN f.outcome = 'error' THEN feeds.consecutive_failures + 1 ELSE 0 END,
    consecutive_hard_failures = CASE WHEN f.hard THEN feeds.consecutive_hard_failures + 1 ELSE 0 END,
    auto_disabled_at = CASE
        WHEN NOT f.hard THEN NULL
        WHEN feeds.consecutive_hard_failures + 1 >= $limit
            THEN coalesce(feeds.auto_disabled_at, f.fetched_at)
        ELSE NULL END,
    auto_disabled_reason = CASE
        WHEN NOT f.hard THEN NULL
        WHEN feeds.consecutive_hard_failures + 1 >= $limit
            THEN (feeds.consecutive_hard_failures + 1)::VARCHAR || ' consecutive hard failures, last: '
                 || coalesce(f.error, 'HTTP ' || f.http_status::VARCHAR)
        ELSE NULL END,
    next_poll_at = CASE
        WHEN f.hard AND feeds.consecutive_hard_failures + 1 >= $limit THEN f.fetched_at + $recheck
        ELSE NULL END
FROM (
    SELECT *, coalesce(http_status IN (404, 410) OR error_kind = 'dns', FALSE) AS hard
    FROM staged_feed_fetches
) AS f
WHERE feeds.feed_name = f.feed_name
"""

_SQL_POLL_RHYTHM = """
UPDATE feeds SET
    poll_interval_minutes = r.minutes,
    next_poll_at = feeds.last_fetch_at + to_minutes(r.minutes)
FROM (
    SELECT feed_name,
           CASE WHEN count(*) FILTER (WHERE items_new > 0) >= 3 THEN
               least($max, greatest($min, (epoch(max(fetched_at) FILTER (WHERE items_new > 0)
                   - min(fetched_at) FILTER (WHERE items_new > 0)) / 60
                   / (count(*) FILTER (WHERE items_new > 0) - 1) / 2)::INTEGER))
           ELSE $min END AS minutes
    FROM feed_fetches
    WHERE fetched_at > $now - INTERVAL 30 DAY
      AND feed_name IN (SELECT feed_name FROM staged_feed_fetches)
    GROUP BY feed_name
) AS r
WHERE feeds.feed_name = r.feed_name AND feeds.auto_disabled_at IS NULL
"""

_ARTICLE_COLUMNS = (
    "article_id, url, final_url, feed_name, title, summary, text, author, site_name, language, "
    "published_at, date_source, fetched_at, http_status, content_hash"
)

_SQL_ARTICLES = f"""
INSERT INTO articles ({_ARTICLE_COLUMNS}, word_count, relevant, relevance_score, taxonomy_version,
                      first_run_id, last_run_id, loaded_at)
SELECT {_ARTICLE_COLUMNS}, len(string_split_regex(trim(text), '\\s+')), relevant, relevance_score,
       taxonomy_version, $run_id, $run_id, $now
FROM staged_articles
ON CONFLICT (article_id) DO UPDATE SET
    url = excluded.url, final_url = excluded.final_url, title = excluded.title,
    summary = excluded.summary, text = excluded.text, author = excluded.author,
    site_name = excluded.site_name, language = excluded.language,
    published_at = excluded.published_at, date_source = excluded.date_source,
    fetched_at = excluded.fetched_at, http_status = excluded.http_status,
    content_hash = excluded.content_hash, word_count = excluded.word_count,
    relevant = excluded.relevant, relevance_score = excluded.relevance_score,
    taxonomy_version = excluded.taxonomy_version, last_run_id = excluded.last_run_id,
    loaded_at = excluded.loaded_at
"""

# Syndicated copies: same words under another URL point at the first one we stored.
_SQL_DUPLICATES = """
UPDATE articles SET duplicate_of = d.original
FROM (
    SELECT a.article_id,
           (SELECT b.article_id FROM articles b
            WHERE b.content_hash = a.content_hash AND b.article_id <> a.article_id
              AND (b.fetched_at, b.article_id) < (a.fetched_at, a.article_id)
            ORDER BY b.fetched_at, b.article_id LIMIT 1) AS original
    FROM articles a
    WHERE a.article_id IN (SELECT article_id FROM staged_articles) AND a.content_hash IS NOT NULL
) AS d
WHERE articles.article_id = d.article_id AND d.original IS NOT NULL
"""


def _delete_then_insert(
    conn: duckdb.DuckDBPyConnection, table: str, staged: str, version_scoped: bool
) -> None:
    scope = " AND taxonomy_version IN (SELECT taxonomy_version FROM {s})" if version_scoped else ""
    conn.execute(
        f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM {staged})"
        + scope.format(s=staged)
    )
    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {staged}")


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
                "taxonomy_version = r.taxonomy_version FROM staged_tag_relevance r "
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


_SQL_RUN = "INSERT OR REPLACE INTO pipeline_runs VALUES (" + ", ".join(["?"] * 19) + ")"


def load_run(conn: duckdb.DuckDBPyConnection, load: LoadInput) -> dict[str, int]:
    """Write one run in a single transaction; a crash or error leaves the database as it was."""
    tables = dict(load.tables)
    tables["feed_config"] = _feed_config_table(load.feeds)
    now = datetime.now(UTC)
    started = time.perf_counter()
    names = _register(conn, tables)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(_SQL_FEEDS, {"now": now})
        conn.execute(_SQL_FEED_FETCHES)
        conn.execute(
            _SQL_FEED_HEALTH,
            {"limit": HARD_FAILURES_TO_DISABLE, "recheck": DISABLED_RECHECK},
        )
        conn.execute(
            _SQL_POLL_RHYTHM, {"min": MIN_POLL_MINUTES, "max": MAX_POLL_MINUTES, "now": now}
        )
        conn.execute(_SQL_ARTICLES, {"run_id": load.run_id, "now": now})
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
        conn.execute(_SQL_DUPLICATES)
        upsert_tags(
            conn,
            tables["article_topics"],
            tables["article_facts"],
            tables["article_relevance"],
            load.taxonomy_version,
            load.taxonomy_definition,
            make_current=True,
        )
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
        conn.execute(
            "DELETE FROM fetch_failures WHERE article_id IN (SELECT article_id FROM staged_articles)"
        )
        for table in ("quarantine", "dq_results"):
            conn.execute(f"DELETE FROM {table} WHERE run_id = ?", [load.run_id])
            conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM staged_{table}")
        timings = {
            **load.run_stats.get("timings", {}),
            "load": round(time.perf_counter() - started, 3),
        }
        load = replace(load, run_stats={**load.run_stats, "timings": timings})
        conn.execute(_SQL_RUN, _run_row(load, "success", None))
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
    }


def record_blocked_run(
    conn: duckdb.DuckDBPyConnection, load: LoadInput, dq_results: pa.Table, message: str
) -> None:
    """A blocking check failed: keep the evidence (run row, check results), load no data."""
    conn.register("staged_dq_results", dq_results)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute("DELETE FROM dq_results WHERE run_id = ?", [load.run_id])
        conn.execute("INSERT INTO dq_results BY NAME SELECT * FROM staged_dq_results")
        conn.execute(_SQL_RUN, _run_row(load, "blocked", message))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("staged_dq_results")


def publish_snapshot(db_path: Path, snapshot_path: Path | None = None) -> Path:
    """Copy the closed database to a snapshot file analysts can hold open without blocking loads."""
    target = snapshot_path or db_path.with_name(db_path.stem + ".snapshot.duckdb")
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(db_path, tmp)
    tmp.replace(target)  # atomic: a reader sees the old or the new file, never half of one
    return target


# --- status ----------------------------------------------------------------------------


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
        )
    }
    relevant = conn.execute("SELECT count(*) FROM articles WHERE relevant").fetchone()
    runs = conn.execute(
        "SELECT run_id, started_at, outcome, feeds_ok, feeds_failed, items_new, articles_loaded, "
        "relevant_loaded, articles_failed, quarantined, checks_failed, message "
        "FROM pipeline_runs ORDER BY started_at DESC LIMIT ?",
        [last_runs],
    ).fetchall()
    return {"counts": counts, "relevant": relevant[0] if relevant else 0, "runs": runs}
