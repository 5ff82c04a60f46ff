-- What an article's text is worth (see extract/page.py EXTRACTION_STATUSES):
--   ok             the page's body text (at least 200 characters)
--   too_short      body text shorter than that
--   metadata_only  no body text: `text` holds the page's meta description, and the
--                  tags come from title, feed summary and that description
-- Rows loaded before this migration had body text (pages without were failures).
ALTER TABLE articles ADD COLUMN extraction_status VARCHAR DEFAULT 'ok';
-- Fetches that produced this row's text; a row that is not `ok` is fetched again by
-- later runs (up to POLICY_NEWS_METADATA_REFETCH_ATTEMPTS) in case the page gains text.
ALTER TABLE articles ADD COLUMN extraction_attempts INTEGER DEFAULT 1;

-- Analysts filter here: `WHERE extraction_status = 'ok'` leaves out metadata-only and
-- too-short articles; the daily views count every story.
CREATE OR REPLACE VIEW article_days AS
SELECT article_id,
       coalesce(published_at, fetched_at)::DATE AS day,
       CASE WHEN published_at IS NULL THEN 'fetched' ELSE date_source END AS day_source,
       extraction_status
FROM articles;
