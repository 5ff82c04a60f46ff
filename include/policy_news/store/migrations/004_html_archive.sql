-- Raw HTML leaves DuckDB: each loaded run's pages go to one Parquet file in a folder
-- beside the database (<db stem>_raw_html/), written before the run's transaction and
-- registered here inside it. See html_archive.py.
-- article_html keeps the pages of runs loaded before this migration; new runs do not
-- write it.
CREATE TABLE html_archive (
    run_id VARCHAR PRIMARY KEY,
    file_name VARCHAR NOT NULL,
    articles INTEGER NOT NULL,
    bytes BIGINT NOT NULL,
    written_at TIMESTAMPTZ NOT NULL
);
