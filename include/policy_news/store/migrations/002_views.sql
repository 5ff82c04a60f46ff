-- Views for the questions analysts ask every day. "Current" means the taxonomy
-- version marked is_current; older versions stay queryable in the base tables.

CREATE VIEW current_article_topics AS
SELECT t.* FROM article_topics t
JOIN taxonomy_versions v ON v.taxonomy_version = t.taxonomy_version AND v.is_current;

CREATE VIEW current_article_facts AS
SELECT f.* FROM article_facts f
JOIN taxonomy_versions v ON v.taxonomy_version = f.taxonomy_version AND v.is_current;

-- Day of an article: its publication date when known, else the day we fetched it
-- (day_source says which, so nobody mistakes one for the other).
CREATE VIEW article_days AS
SELECT article_id,
       coalesce(published_at, fetched_at)::DATE AS day,
       CASE WHEN published_at IS NULL THEN 'fetched' ELSE date_source END AS day_source
FROM articles;

CREATE VIEW relevant_daily_by_subtopic AS
SELECT d.day, t.subtopic, count(DISTINCT a.article_id) AS articles
FROM articles a
JOIN article_days d USING (article_id)
JOIN current_article_topics t USING (article_id)
WHERE a.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

CREATE VIEW relevant_daily_by_subtopic_state AS
SELECT d.day, t.subtopic, p.normalized AS state, count(DISTINCT a.article_id) AS articles
FROM articles a
JOIN article_days d USING (article_id)
JOIN current_article_topics t USING (article_id)
JOIN current_article_facts p ON p.article_id = a.article_id AND p.kind = 'place'
     AND json_extract_string(p.attrs, '$.level') = 'state'
WHERE a.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

CREATE VIEW agencies_weekly AS
SELECT date_trunc('week', d.day) AS week, f.normalized AS agency,
       count(DISTINCT f.article_id) AS articles
FROM current_article_facts f
JOIN articles a USING (article_id)
JOIN article_days d USING (article_id)
WHERE f.kind = 'agency' AND a.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

CREATE VIEW reported_counts AS
SELECT a.article_id, a.title, a.url, d.day,
       f.normalized AS number, json_extract_string(f.attrs, '$.counts') AS counts,
       json_extract_string(f.attrs, '$.qualifier') AS qualifier,
       json_extract_string(f.attrs, '$.unit') AS unit,
       json_extract_string(f.attrs, '$.agency') AS agency,
       json_extract_string(f.attrs, '$.state') AS state,
       json_extract_string(f.attrs, '$.operation') AS operation,
       f.sentence AS evidence
FROM current_article_facts f
JOIN articles a USING (article_id)
JOIN article_days d USING (article_id)
WHERE f.kind = 'count' AND a.relevant;

CREATE VIEW feed_summary AS
SELECT fd.feed_name, fd.url, fd.enabled,
       count(a.article_id) AS articles,
       count(a.article_id) FILTER (WHERE a.relevant) AS relevant_articles,
       max(a.published_at) AS last_published_at,
       fd.last_fetch_at, fd.last_success_at, fd.last_new_item_at
FROM feeds fd
LEFT JOIN articles a ON a.feed_name = fd.feed_name
GROUP BY ALL;

CREATE VIEW feed_health AS
WITH fetch_stats AS (
    SELECT feed_name,
           count(*) AS fetches,
           count(*) FILTER (WHERE outcome = 'error') AS failed_fetches,
           avg(items_seen) FILTER (WHERE outcome = 'ok') AS avg_items_per_fetch,
           count(*) FILTER (WHERE items_new > 0) AS fetches_with_new_items
    FROM feed_fetches GROUP BY feed_name
),
last_fetch AS (
    SELECT DISTINCT ON (feed_name) feed_name, outcome AS last_outcome, http_status AS last_status,
           error_kind AS last_error_kind, error AS last_error
    FROM feed_fetches ORDER BY feed_name, fetched_at DESC
)
SELECT f.feed_name, f.url, f.enabled,
       CASE
           WHEN NOT f.enabled THEN 'disabled'
           WHEN f.auto_disabled_at IS NOT NULL THEN 'auto_disabled'
           WHEN f.consecutive_failures > 0 THEN 'failing'
           WHEN s.fetches >= 3 AND f.last_new_item_at IS NULL THEN 'silent'
           WHEN f.last_new_item_at IS NOT NULL AND s.fetches_with_new_items >= 2
                AND f.last_success_at - f.last_new_item_at >
                    GREATEST(INTERVAL 1 DAY, 4 * (f.last_new_item_at - f.added_at) / s.fetches_with_new_items)
               THEN 'silent'
           ELSE 'ok'
       END AS health,
       f.last_success_at, f.last_new_item_at, f.consecutive_failures, f.consecutive_hard_failures,
       f.auto_disabled_at, f.auto_disabled_reason, f.next_poll_at,
       s.fetches, s.failed_fetches, round(s.avg_items_per_fetch, 1) AS avg_items_per_fetch,
       l.last_outcome, l.last_status, l.last_error_kind, l.last_error
FROM feeds f
LEFT JOIN fetch_stats s USING (feed_name)
LEFT JOIN last_fetch l USING (feed_name);
