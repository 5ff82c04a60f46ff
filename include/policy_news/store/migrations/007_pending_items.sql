-- Items a run left for later instead of fetching them: over a feed's per-run cap
-- (feed_cap), on a host whose breaker opened (host_breaker), or after the article
-- stage's time budget ran out (budget). Later runs take them first, oldest first; a
-- loaded or failed item leaves the table (failures are retried via fetch_failures).
CREATE TABLE pending_items (
    article_id VARCHAR PRIMARY KEY,
    url VARCHAR NOT NULL,
    original_url VARCHAR,
    feed_name VARCHAR NOT NULL,
    title VARCHAR,
    summary VARCHAR,
    published_at TIMESTAMPTZ,
    guid VARCHAR,
    deferred_reason VARCHAR NOT NULL,
    first_deferred_run_id VARCHAR NOT NULL,
    last_deferred_run_id VARCHAR NOT NULL,
    first_deferred_at TIMESTAMPTZ NOT NULL,
    deferred_at TIMESTAMPTZ NOT NULL,
    times_deferred INTEGER NOT NULL DEFAULT 1
);

-- How many items each run deferred, and why: {"feed_cap": n, "host_breaker": n, "budget": n}.
ALTER TABLE pipeline_runs ADD COLUMN items_deferred INTEGER DEFAULT 0;
ALTER TABLE pipeline_runs ADD COLUMN deferred_reasons JSON;
