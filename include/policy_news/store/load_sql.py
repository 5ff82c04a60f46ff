"""The loader's SQL: upserts keyed by each table's natural key, feed health, poll rhythm."""

from __future__ import annotations

SQL_FEEDS = """
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

SQL_FEED_FETCHES = """
INSERT OR REPLACE INTO feed_fetches
SELECT run_id, feed_name, feed_url, fetched_at, outcome, http_status, bytes, etag, last_modified,
       body_hash, items_seen, items_new, error_kind, error, duration_ms
FROM staged_feed_fetches
"""

# Failure counting per feed from this run's fetch (hard failures: 404/410/DNS); shared
# by loaded and blocked runs.
_HEALTH_COUNTERS = """
    last_fetch_at = f.fetched_at,
    last_success_at = CASE WHEN f.outcome <> 'error' THEN f.fetched_at ELSE feeds.last_success_at END,
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

# Health bookkeeping per feed from a loaded run's fetch: validators, body hash and the
# last new item too.
SQL_FEED_HEALTH = (
    """
UPDATE feeds SET
    etag = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.etag ELSE feeds.etag END,
    last_modified = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.last_modified
        ELSE feeds.last_modified END,
    body_hash = CASE WHEN f.outcome IN ('ok', 'unchanged') THEN f.body_hash ELSE feeds.body_hash END,
    last_new_item_at = CASE WHEN f.items_new > 0 THEN f.fetched_at ELSE feeds.last_new_item_at END,"""
    + _HEALTH_COUNTERS
)

# A blocked run loaded none of its items: its fetches count toward failures and
# auto-disabling, but the validators (etag, body hash) stay, or the next run would be
# told "unchanged" and never see those items; no poll rhythm, so the feed is due again.
SQL_FEED_HEALTH_BLOCKED = "UPDATE feeds SET" + _HEALTH_COUNTERS

SQL_POLL_RHYTHM = """
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

ARTICLE_COLUMNS = (
    "article_id, url, final_url, feed_name, title, summary, text, author, site_name, language, "
    "published_at, date_source, fetched_at, http_status, content_hash, extraction_status"
)

SQL_ARTICLES = f"""
INSERT INTO articles ({ARTICLE_COLUMNS}, word_count, relevant, relevance_score, taxonomy_version,
                      relevance_probability, needs_review, first_run_id, last_run_id, loaded_at)
SELECT {ARTICLE_COLUMNS}, len(string_split_regex(trim(text), '\\s+')), relevant, relevance_score,
       taxonomy_version, relevance_probability, coalesce(needs_review, FALSE), $run_id, $run_id,
       $now
FROM staged_articles
ON CONFLICT (article_id) DO UPDATE SET
    url = excluded.url, final_url = excluded.final_url, title = excluded.title,
    summary = excluded.summary, text = excluded.text, author = excluded.author,
    site_name = excluded.site_name, language = excluded.language,
    published_at = excluded.published_at, date_source = excluded.date_source,
    fetched_at = excluded.fetched_at, http_status = excluded.http_status,
    content_hash = excluded.content_hash, word_count = excluded.word_count,
    extraction_status = excluded.extraction_status,
    -- the same run loaded twice must not count its fetch twice
    extraction_attempts = articles.extraction_attempts
        + CASE WHEN articles.last_run_id = excluded.last_run_id THEN 0 ELSE 1 END,
    relevant = excluded.relevant, relevance_score = excluded.relevance_score,
    taxonomy_version = excluded.taxonomy_version,
    relevance_probability = excluded.relevance_probability, needs_review = excluded.needs_review,
    last_run_id = excluded.last_run_id,
    loaded_at = excluded.loaded_at
"""

# A stored article fetched again for its body text (not `ok`) whose fetch failed: the
# attempt counts, so the refetches stay bounded.
SQL_REFETCH_FAILED = """
UPDATE articles SET extraction_attempts = extraction_attempts + 1
WHERE extraction_status <> 'ok' AND last_run_id <> $run_id
  AND article_id IN (SELECT article_id FROM staged_failures)
"""

# Articles quarantined by a row-level check count as failed attempts: retried like any
# failure, then left alone after `max_article_attempts` (see reads.exhausted_failures).
SQL_QUARANTINE_ATTEMPTS = """
INSERT INTO fetch_failures
SELECT DISTINCT ON (r.article_id)
       r.article_id, r.url, r.feed_name, r.title, r.summary,
       TRY_CAST(r.published_at AS TIMESTAMPTZ), 'validate', 'quarantined',
       'quarantined by check ' || r.check_name, TRY_CAST(r.http_status AS INTEGER),
       1, r.quarantined_at, r.quarantined_at, $run_id
FROM (
    SELECT json_extract_string(raw_record, '$.article_id') AS article_id,
           json_extract_string(raw_record, '$.url') AS url,
           json_extract_string(raw_record, '$.feed_name') AS feed_name,
           json_extract_string(raw_record, '$.title') AS title,
           json_extract_string(raw_record, '$.summary') AS summary,
           json_extract_string(raw_record, '$.published_at') AS published_at,
           json_extract_string(raw_record, '$.http_status') AS http_status,
           check_name, quarantined_at
    FROM staged_quarantine WHERE stage = 'articles'
) AS r
WHERE r.article_id IS NOT NULL AND r.url IS NOT NULL AND r.feed_name IS NOT NULL
  -- a duplicate copy whose first copy loaded is no failure
  AND r.article_id NOT IN (SELECT article_id FROM staged_articles)
ORDER BY r.article_id, r.check_name
ON CONFLICT (article_id) DO UPDATE SET stage = excluded.stage,
    error_kind = excluded.error_kind, error = excluded.error,
    last_failed_at = excluded.last_failed_at,
    attempts = fetch_failures.attempts + CASE WHEN fetch_failures.last_run_id =
        excluded.last_run_id THEN 0 ELSE 1 END,
    last_run_id = excluded.last_run_id
"""

# Syndicated copies: same words under another URL point at the first one we stored.
SQL_DUPLICATES = """
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

# Columns named: later migrations add columns (with defaults) that other statements set.
RUN_COLUMNS = (
    "run_id, started_at, finished_at, outcome, trigger, feeds_total, feeds_ok, feeds_failed, "
    "items_seen, items_new, articles_fetched, articles_failed, articles_loaded, "
    "relevant_loaded, quarantined, checks_passed, checks_failed, timings, message"
)
SQL_RUN = (
    f"INSERT OR REPLACE INTO pipeline_runs ({RUN_COLUMNS}) VALUES (" + ", ".join(["?"] * 19) + ")"
)

# The run's deferrals, and the backlog they join: pending items taken this run leave
# the table unless deferred again; deferred ones are kept (a reload counts them once).
SQL_PENDING_TAKEN = """
DELETE FROM pending_items
WHERE article_id IN (SELECT article_id FROM staged_pending_taken)
  AND article_id NOT IN (SELECT article_id FROM staged_deferred_items)
   OR article_id IN (SELECT article_id FROM staged_articles)
"""

SQL_PENDING_DEFERRED = """
INSERT INTO pending_items
SELECT DISTINCT ON (article_id) article_id, url, original_url, feed_name, title, summary,
       published_at, guid, deferred_reason, $run_id, $run_id, $now, $now, 1
FROM staged_deferred_items
WHERE article_id NOT IN (SELECT article_id FROM articles)
ON CONFLICT (article_id) DO UPDATE SET
    deferred_reason = excluded.deferred_reason, deferred_at = excluded.deferred_at,
    times_deferred = pending_items.times_deferred + CASE
        WHEN pending_items.last_deferred_run_id = excluded.last_deferred_run_id THEN 0 ELSE 1 END,
    last_deferred_run_id = excluded.last_deferred_run_id
"""

SQL_RUN_DEFERRED = """
UPDATE pipeline_runs SET items_deferred = $items, deferred_reasons = $reasons WHERE run_id = $run_id
"""
