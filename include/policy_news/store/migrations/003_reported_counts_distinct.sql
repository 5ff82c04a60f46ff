-- A count stated in both the feed summary and the article text is one report, not two.
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
       f.sentence AS evidence
FROM current_article_facts f
JOIN articles a USING (article_id)
JOIN article_days d USING (article_id)
WHERE f.kind = 'count' AND a.relevant
ORDER BY a.article_id, f.normalized, counts, unit,
         (f.field = 'text') DESC, json_extract_string(f.attrs, '$.state') NULLS LAST, f.start_offset;
