-- Near-duplicates and stories (see docs/stories.md and policy_news/stories/).
-- near_duplicate_of points at the canonical (earliest) copy of a story reprinted with
-- other headlines or boilerplate, exact copies included (similarity 1.0);
-- duplicate_of keeps meaning "byte-identical words". story_id groups the relevant
-- articles about one event; it is the article_id of the story's first article.
ALTER TABLE articles ADD COLUMN near_duplicate_of VARCHAR;
ALTER TABLE articles ADD COLUMN duplicate_similarity DOUBLE;
ALTER TABLE articles ADD COLUMN story_id VARCHAR;

-- MinHash signatures (LeanMinHash bytes, 128 x uint32, little-endian), kept so a load
-- rebuilds the LSH index of its window without re-reading texts. Exact copies have
-- no row: their original stands for them.
CREATE TABLE article_signatures (
    article_id VARCHAR PRIMARY KEY,
    day DATE NOT NULL,
    shingles BLOB NOT NULL,
    words BLOB NOT NULL,
    shingle_count INTEGER NOT NULL
);

-- One row per story, refreshed by the loader for the stories a load touched.
CREATE TABLE stories (
    story_id VARCHAR PRIMARY KEY,
    first_seen DATE NOT NULL,
    last_seen DATE NOT NULL,
    title VARCHAR,
    articles INTEGER NOT NULL,
    independent_articles INTEGER NOT NULL,
    outlets VARCHAR[] NOT NULL,
    subtopics VARCHAR[],
    states VARCHAR[],
    places VARCHAR[],
    agencies VARCHAR[],
    operations VARCHAR[],
    updated_at TIMESTAMPTZ NOT NULL
);

-- Articles that belong to a story, with the outlet that carried them.
CREATE VIEW story_articles AS
SELECT a.story_id, a.article_id, d.day, coalesce(a.site_name, a.feed_name) AS outlet,
       a.title, a.url,
       (a.duplicate_of IS NOT NULL OR a.near_duplicate_of IS NOT NULL) AS is_copy
FROM articles a
JOIN article_days d USING (article_id)
WHERE a.relevant AND a.story_id IS NOT NULL;

-- New stories per day (the story's first day) and subtopic: each event counted once,
-- however many outlets reprinted it. `articles` leaves copies out (as the other views
-- do); `outlets` counts every outlet that carried the story, copies included.
CREATE VIEW stories_daily_by_subtopic AS
SELECT s.first_seen AS day, t.subtopic, count(DISTINCT s.story_id) AS stories,
       count(DISTINCT sa.article_id) FILTER (WHERE NOT sa.is_copy) AS articles,
       count(DISTINCT sa.outlet) AS outlets
FROM stories s
JOIN story_articles sa USING (story_id)
JOIN current_article_topics t ON t.article_id = sa.article_id
GROUP BY ALL;

CREATE VIEW stories_by_state AS
SELECT s.first_seen AS day, p.normalized AS state, count(DISTINCT s.story_id) AS stories,
       count(DISTINCT sa.article_id) FILTER (WHERE NOT sa.is_copy) AS articles,
       count(DISTINCT sa.outlet) AS outlets
FROM stories s
JOIN story_articles sa USING (story_id)
JOIN current_article_facts p ON p.article_id = sa.article_id AND p.kind = 'place'
     AND json_extract_string(p.attrs, '$.level') = 'state'
GROUP BY ALL;

-- A number reported for a story, taken once: the value most outlets reported (ties:
-- the larger), with the outlets behind each story's count and whether they agree.
CREATE VIEW story_counts AS
WITH reports AS (
    SELECT sa.story_id, sa.outlet, sa.article_id, sa.day, sa.is_copy,
           TRY_CAST(f.normalized AS DOUBLE) AS number,
           json_extract_string(f.attrs, '$.counts') AS counts,
           json_extract_string(f.attrs, '$.unit') AS unit,
           f.sentence AS evidence
    FROM story_articles sa
    JOIN current_article_facts f ON f.article_id = sa.article_id AND f.kind = 'count'
),
votes AS (
    SELECT story_id, counts, unit, number, count(DISTINCT outlet) AS outlets_reporting
    FROM reports GROUP BY ALL
),
chosen AS (
    SELECT DISTINCT ON (story_id, counts, unit) story_id, counts, unit, number
    FROM votes
    ORDER BY story_id, counts, unit, outlets_reporting DESC, number DESC
)
SELECT r.story_id, r.counts, r.unit, c.number,
       max(r.number) AS max_number,
       count(DISTINCT r.number) = 1 AS outlets_agree,
       list(DISTINCT r.outlet ORDER BY r.outlet) AS outlets,
       list(DISTINCT r.number ORDER BY r.number) AS numbers_reported,
       count(DISTINCT r.article_id) FILTER (WHERE NOT r.is_copy) AS independent_reports,
       arg_min(r.evidence, (r.number <> c.number, r.day, r.article_id)) AS evidence
FROM reports r
JOIN chosen c ON c.story_id = r.story_id AND c.counts IS NOT DISTINCT FROM r.counts
     AND c.unit IS NOT DISTINCT FROM r.unit
GROUP BY r.story_id, r.counts, r.unit, c.number;
