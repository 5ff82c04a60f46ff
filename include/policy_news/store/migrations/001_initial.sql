-- Initial schema. Migrations are applied in order, each in its own transaction,
-- and recorded in schema_migrations; never edit an applied migration, add a new one.

CREATE TABLE feeds (
    feed_name VARCHAR PRIMARY KEY,
    url VARCHAR NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    config JSON,
    added_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    etag VARCHAR,
    last_modified VARCHAR,
    body_hash VARCHAR,
    last_fetch_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    last_new_item_at TIMESTAMPTZ,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    consecutive_hard_failures INTEGER NOT NULL DEFAULT 0,
    auto_disabled_at TIMESTAMPTZ,
    auto_disabled_reason VARCHAR,
    next_poll_at TIMESTAMPTZ,
    poll_interval_minutes INTEGER
);

CREATE TABLE feed_fetches (
    run_id VARCHAR NOT NULL,
    feed_name VARCHAR NOT NULL,
    feed_url VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    outcome VARCHAR NOT NULL,
    http_status INTEGER,
    bytes BIGINT NOT NULL DEFAULT 0,
    etag VARCHAR,
    last_modified VARCHAR,
    body_hash VARCHAR,
    items_seen INTEGER NOT NULL DEFAULT 0,
    items_new INTEGER NOT NULL DEFAULT 0,
    error_kind VARCHAR,
    error VARCHAR,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, feed_name)
);

CREATE TABLE articles (
    article_id VARCHAR PRIMARY KEY,
    url VARCHAR NOT NULL,
    final_url VARCHAR,
    feed_name VARCHAR NOT NULL,
    title VARCHAR,
    summary VARCHAR,
    text VARCHAR,
    author VARCHAR,
    site_name VARCHAR,
    language VARCHAR,
    published_at TIMESTAMPTZ,
    date_source VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    http_status INTEGER,
    content_hash VARCHAR,
    duplicate_of VARCHAR,
    word_count INTEGER,
    relevant BOOLEAN NOT NULL DEFAULT FALSE,
    relevance_score DOUBLE NOT NULL DEFAULT 0,
    taxonomy_version VARCHAR,
    first_run_id VARCHAR NOT NULL,
    last_run_id VARCHAR NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
);

-- Raw HTML lives apart so analysts' scans of `articles` stay cheap.
CREATE TABLE article_html (
    article_id VARCHAR PRIMARY KEY,
    raw_html_gz BLOB,
    fetched_at TIMESTAMPTZ NOT NULL
);

-- Every feed that carried an article (the same story often appears in several).
CREATE TABLE article_feeds (
    article_id VARCHAR NOT NULL,
    feed_name VARCHAR NOT NULL,
    first_seen_run_id VARCHAR NOT NULL,
    feed_published_at TIMESTAMPTZ,
    PRIMARY KEY (article_id, feed_name)
);

CREATE TABLE taxonomy_versions (
    taxonomy_version VARCHAR PRIMARY KEY,
    loaded_at TIMESTAMPTZ NOT NULL,
    is_current BOOLEAN NOT NULL DEFAULT FALSE,
    definition JSON
);

CREATE TABLE article_relevance (
    article_id VARCHAR NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    relevant BOOLEAN NOT NULL,
    relevance_score DOUBLE NOT NULL,
    evidence VARCHAR,
    rule_id VARCHAR,
    tagged_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, taxonomy_version)
);

CREATE TABLE article_topics (
    article_id VARCHAR NOT NULL,
    subtopic VARCHAR NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    evidence VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    rule_id VARCHAR NOT NULL,
    PRIMARY KEY (article_id, subtopic, taxonomy_version)
);

CREATE TABLE article_facts (
    article_id VARCHAR NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    fact_index INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    normalized VARCHAR NOT NULL,
    sentence VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL,
    rule_id VARCHAR NOT NULL,
    attrs JSON,
    PRIMARY KEY (article_id, taxonomy_version, fact_index)
);

-- Articles that failed to fetch or extract; retried by later runs up to a limit.
CREATE TABLE fetch_failures (
    article_id VARCHAR PRIMARY KEY,
    url VARCHAR NOT NULL,
    feed_name VARCHAR NOT NULL,
    title VARCHAR,
    summary VARCHAR,
    feed_published_at TIMESTAMPTZ,
    stage VARCHAR NOT NULL,
    error_kind VARCHAR NOT NULL,
    error VARCHAR NOT NULL,
    http_status INTEGER,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_failed_at TIMESTAMPTZ NOT NULL,
    last_failed_at TIMESTAMPTZ NOT NULL,
    last_run_id VARCHAR NOT NULL
);

CREATE TABLE pipeline_runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome VARCHAR NOT NULL,
    trigger VARCHAR,
    feeds_total INTEGER,
    feeds_ok INTEGER,
    feeds_failed INTEGER,
    items_seen INTEGER,
    items_new INTEGER,
    articles_fetched INTEGER,
    articles_failed INTEGER,
    articles_loaded INTEGER,
    relevant_loaded INTEGER,
    quarantined INTEGER,
    checks_passed INTEGER,
    checks_failed INTEGER,
    timings JSON,
    message VARCHAR
);

CREATE TABLE quarantine (
    run_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    record_key VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    value VARCHAR,
    raw_record JSON,
    quarantined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, stage, record_key, check_name)
);

CREATE TABLE dq_results (
    run_id VARCHAR NOT NULL,
    suite VARCHAR NOT NULL,
    check_name VARCHAR NOT NULL,
    column_name VARCHAR,
    severity VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    observed_value VARCHAR,
    element_count BIGINT,
    unexpected_count BIGINT,
    details JSON,
    validated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, suite, check_name)
);
