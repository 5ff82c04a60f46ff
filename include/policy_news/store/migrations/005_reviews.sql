-- Human review of the tagger (see docs/taxonomy.md, "Reviewing the tagger").
-- The tagger's calibrated probability of relevance and its "worth a human look" flag
-- are kept per article and version; a reviewer's decision, keyed by article (not by
-- version, so it survives re-tagging), overrides the machine's in the analyst views.
-- Written to apply before or after 006: it touches nothing 006 creates, and the views
-- 006 builds on current_article_topics/current_article_facts follow the new ones.

ALTER TABLE article_relevance ADD COLUMN relevance_probability DOUBLE;
ALTER TABLE article_relevance ADD COLUMN needs_review BOOLEAN DEFAULT FALSE;
ALTER TABLE articles ADD COLUMN relevance_probability DOUBLE;
ALTER TABLE articles ADD COLUMN needs_review BOOLEAN DEFAULT FALSE;

-- One decision per article and reviewer; importing a reviewer's sheet again replaces it.
-- subtopics NULL: the reviewer left the machine's subtopics as they are.
CREATE TABLE tag_reviews (
    article_id VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    reviewed_at TIMESTAMPTZ NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    relevant BOOLEAN NOT NULL,
    subtopics VARCHAR[],
    note VARCHAR,
    PRIMARY KEY (article_id, reviewer)
);

-- The decision that counts for an article: the most recent one, whoever made it.
CREATE VIEW latest_tag_reviews AS
SELECT DISTINCT ON (article_id) *
FROM tag_reviews
ORDER BY article_id, reviewed_at DESC, reviewer;

-- Relevance as the analyst views count it: the reviewer's when there is one, else the
-- tagger's (current version, stored on `articles`).
CREATE VIEW current_article_relevance AS
SELECT a.article_id,
       coalesce(r.relevant, a.relevant) AS relevant,
       a.relevant AS machine_relevant,
       a.relevance_score, a.relevance_probability, a.needs_review, a.taxonomy_version,
       r.relevant AS reviewed_relevant, r.reviewer, r.reviewed_at
FROM articles a
LEFT JOIN latest_tag_reviews r USING (article_id);

-- Reviewed subtopics replace the tagger's; an article reviewed as not relevant has none.
CREATE OR REPLACE VIEW current_article_topics AS
SELECT t.article_id, t.subtopic, t.taxonomy_version, t.score, t.evidence, t.field,
       t.start_offset, t.end_offset, t.rule_id
FROM article_topics t
JOIN taxonomy_versions v ON v.taxonomy_version = t.taxonomy_version AND v.is_current
LEFT JOIN latest_tag_reviews r ON r.article_id = t.article_id
WHERE r.article_id IS NULL OR (r.relevant AND r.subtopics IS NULL)
UNION ALL
SELECT r.article_id, s.subtopic, v.taxonomy_version, 1.0 AS score,
       'reviewer: ' || r.reviewer AS evidence, 'review' AS field,
       NULL::INTEGER AS start_offset, NULL::INTEGER AS end_offset, 'review' AS rule_id
FROM latest_tag_reviews r
CROSS JOIN (SELECT taxonomy_version FROM taxonomy_versions WHERE is_current) v
CROSS JOIN unnest(r.subtopics) AS s(subtopic)
WHERE r.relevant;

-- Facts of an article reviewed as not relevant leave the views with it.
CREATE OR REPLACE VIEW current_article_facts AS
SELECT f.* FROM article_facts f
JOIN taxonomy_versions v ON v.taxonomy_version = f.taxonomy_version AND v.is_current
WHERE f.article_id NOT IN (SELECT article_id FROM latest_tag_reviews WHERE NOT relevant);

CREATE OR REPLACE VIEW relevant_daily_by_subtopic AS
SELECT d.day, t.subtopic, count(DISTINCT a.article_id) AS articles
FROM articles a
JOIN current_article_relevance c USING (article_id)
JOIN article_days d USING (article_id)
JOIN current_article_topics t USING (article_id)
WHERE c.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

CREATE OR REPLACE VIEW relevant_daily_by_subtopic_state AS
SELECT d.day, t.subtopic, p.normalized AS state, count(DISTINCT a.article_id) AS articles
FROM articles a
JOIN current_article_relevance c USING (article_id)
JOIN article_days d USING (article_id)
JOIN current_article_topics t USING (article_id)
JOIN current_article_facts p ON p.article_id = a.article_id AND p.kind = 'place'
     AND json_extract_string(p.attrs, '$.level') = 'state'
WHERE c.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

CREATE OR REPLACE VIEW agencies_weekly AS
SELECT date_trunc('week', d.day) AS week, f.normalized AS agency,
       count(DISTINCT f.article_id) AS articles
FROM current_article_facts f
JOIN articles a USING (article_id)
JOIN current_article_relevance c USING (article_id)
JOIN article_days d USING (article_id)
WHERE f.kind = 'agency' AND c.relevant AND a.duplicate_of IS NULL
GROUP BY ALL;

-- Counts only (a share such as "40% of detainees" is kind 'share'), syndicated copies
-- left out, with how exact the text says the number is: `approximate` ("about 200"),
-- `lower_bound` ("hundreds" stored as 100), `low`/`high` (a range, stored as its low
-- end), `cumulative` (a running total such as "since January"), `claimant` (who says so).
-- approximate is NULL for facts tagged before the tagger recorded it.
CREATE OR REPLACE VIEW reported_counts AS
SELECT DISTINCT ON (a.article_id, f.normalized, json_extract_string(f.attrs, '$.counts'),
                    json_extract_string(f.attrs, '$.unit'))
       a.article_id, a.title, a.url, d.day,
       f.normalized AS number, json_extract_string(f.attrs, '$.counts') AS counts,
       json_extract_string(f.attrs, '$.qualifier') AS qualifier,
       json_extract_string(f.attrs, '$.unit') AS unit,
       json_extract_string(f.attrs, '$.agency') AS agency,
       json_extract_string(f.attrs, '$.state') AS state,
       json_extract_string(f.attrs, '$.operation') AS operation,
       f.sentence AS evidence,
       TRY_CAST(json_extract_string(f.attrs, '$.approximate') AS BOOLEAN) AS approximate,
       coalesce(TRY_CAST(json_extract_string(f.attrs, '$.lower_bound') AS BOOLEAN), FALSE)
           AS lower_bound,
       TRY_CAST(json_extract_string(f.attrs, '$.low') AS DOUBLE) AS low,
       TRY_CAST(json_extract_string(f.attrs, '$.high') AS DOUBLE) AS high,
       coalesce(TRY_CAST(json_extract_string(f.attrs, '$.cumulative') AS BOOLEAN), FALSE)
           AS cumulative,
       json_extract_string(f.attrs, '$.claimant') AS claimant
FROM current_article_facts f
JOIN articles a USING (article_id)
JOIN current_article_relevance c USING (article_id)
JOIN article_days d USING (article_id)
WHERE f.kind = 'count' AND c.relevant AND a.duplicate_of IS NULL
ORDER BY a.article_id, f.normalized, counts, unit,
         (f.field = 'text') DESC, json_extract_string(f.attrs, '$.state') NULLS LAST, f.start_offset;

CREATE OR REPLACE VIEW feed_summary AS
SELECT fd.feed_name, fd.url, fd.enabled,
       count(a.article_id) AS articles,
       count(a.article_id) FILTER (WHERE c.relevant) AS relevant_articles,
       max(a.published_at) AS last_published_at,
       fd.last_fetch_at, fd.last_success_at, fd.last_new_item_at
FROM feeds fd
LEFT JOIN articles a ON a.feed_name = fd.feed_name
LEFT JOIN current_article_relevance c ON c.article_id = a.article_id
GROUP BY ALL;
