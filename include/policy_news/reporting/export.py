"""Files for analysts who work outside DuckDB: Parquet or CSV, partitioned by month.

Exports the analyst tables and views from the read-only snapshot: articles (no raw
HTML), the current taxonomy version's topics and facts, stories, reported counts
(per article and per story) and feed health. Monthly hive folders (`month=2026-01/`) let
pandas, polars and DuckDB read one month or all of them; `README.md` beside them lists
every file's columns as DuckDB describes them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import duckdb

from policy_news.reporting.queries import current_taxonomy

if TYPE_CHECKING:
    from pathlib import Path

FORMATS = ("parquet", "csv")
MARKER = "<!-- written by policy-news export -->"


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    sql: str
    by_month: bool = True  # the query has a `day` column to partition and filter on


DATASETS = (
    Dataset(
        "articles",
        "One row per article (normalised URL), relevant or not; `day` is the publication "
        "day, else the fetch day (`day_source` says which). Raw HTML is not exported.",
        "SELECT a.*, d.day, d.day_source FROM articles a JOIN article_days d USING (article_id)",
    ),
    Dataset(
        "article_topics",
        "Subtopic tags of the current taxonomy version, with the evidence sentence.",
        "SELECT t.*, d.day FROM current_article_topics t JOIN article_days d USING (article_id)",
    ),
    Dataset(
        "article_facts",
        "Facts of the current taxonomy version (agency, program, operation, place, count...); "
        "`attrs` is JSON.",
        "SELECT f.*, d.day FROM current_article_facts f JOIN article_days d USING (article_id)",
    ),
    Dataset(
        "reported_counts",
        "Counts stated by relevant articles with the sentence as evidence (one row per count "
        "and article; syndicated copies included, `articles.duplicate_of` tells them apart).",
        "SELECT * FROM reported_counts",
    ),
    Dataset(
        "stories",
        "Story clusters (articles about the same event); `articles.story_id` points here. "
        "Not filtered by --since.",
        "SELECT * FROM stories",
        by_month=False,
    ),
    Dataset(
        "stories_daily_by_subtopic",
        "Stories and articles per day and subtopic.",
        "SELECT * FROM stories_daily_by_subtopic",
    ),
    Dataset(
        "stories_by_state",
        "Stories and articles per day and state named.",
        "SELECT * FROM stories_by_state",
    ),
    Dataset(
        "story_counts",
        "A number reported for a story, taken once (the value most outlets reported), with "
        "the outlets behind it and whether they agree; `day` is the story's first day.",
        "SELECT c.*, s.first_seen AS day FROM story_counts c JOIN stories s USING (story_id)",
    ),
    Dataset(
        "feed_health",
        "Every configured feed's health at snapshot time (`ok`, `failing`, `silent`, "
        "`auto_disabled`, `disabled`). Not filtered by --since.",
        "SELECT * FROM feed_health",
        by_month=False,
    ),
)


def export(snapshot: Path, out_dir: Path, since: date | None, fmt: str) -> list[Path]:
    """Write every dataset under `out_dir/<name>/` plus `out_dir/README.md`; returns the files.

    A folder written by an earlier export is replaced; any other existing folder of
    the same name is left alone and the export refuses to run.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    readme = out_dir / "README.md"
    previous_export = readme.exists() and MARKER in readme.read_text(encoding="utf-8")
    written: list[Path] = []
    sections: list[str] = []
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        for dataset in DATASETS:
            target = out_dir / dataset.name
            if target.exists():
                if not previous_export:
                    raise FileExistsError(f"{target} exists and was not written by an export")
                shutil.rmtree(target)
            query = _query(dataset, since)
            rows = _copy(conn, query, target, dataset, fmt)
            files = sorted(p for p in target.rglob("*") if p.is_file()) if target.exists() else []
            written.extend(files)
            sections.append(_section(conn, dataset, query, rows, files, fmt))
        header = _header(snapshot, since, fmt, current_taxonomy(conn))
    readme.write_text(header + "\n".join(sections), encoding="utf-8")
    return [*written, readme]


def _query(dataset: Dataset, since: date | None) -> str:
    if not dataset.by_month:
        return dataset.sql
    where = f"WHERE day >= DATE '{since.isoformat()}'" if since else ""
    return f"SELECT *, strftime(day, '%Y-%m') AS month FROM ({dataset.sql}) {where}"


def _copy(
    conn: duckdb.DuckDBPyConnection, query: str, target: Path, dataset: Dataset, fmt: str
) -> int:
    options = ["FORMAT parquet"] if fmt == "parquet" else ["FORMAT csv", "HEADER true"]
    if dataset.by_month:
        options += ["PARTITION_BY (month)", "FILENAME_PATTERN 'part-{i}'"]
        if fmt == "csv":
            # CSV readers rarely understand hive folders: keep `month` in the rows too.
            options.append("WRITE_PARTITION_COLUMNS true")
        destination = target
    else:
        target.mkdir(parents=True)
        destination = target / f"part-0.{fmt}"
    literal = str(destination).replace("'", "''")
    row = conn.execute(f"COPY ({query}) TO '{literal}' ({', '.join(options)})").fetchone()
    return int(row[0]) if row else 0


def _header(snapshot: Path, since: date | None, fmt: str, taxonomy: str | None) -> str:
    scope = f"rows whose `day` is {since.isoformat()} or later" if since else "all rows"
    return (
        f"# policy-news export\n\n{MARKER}\n\n"
        f"From `{snapshot.name}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, current "
        f"taxonomy version `{taxonomy or 'unknown'}`, {scope}, format {fmt}.\n\n"
        "Monthly datasets are hive-partitioned: `<dataset>/month=YYYY-MM/part-0."
        f"{fmt}`, where `month` is the month of `day` (publication day, else fetch day).\n"
        "Reading them from DuckDB, pandas and polars: see `docs/analysts.md` in the project.\n\n"
    )


def _section(
    conn: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    query: str,
    rows: int,
    files: list[Path],
    fmt: str,
) -> str:
    columns = conn.execute(f"DESCRIBE {query}").fetchall()
    pattern = (
        f"{dataset.name}/month=*/part-*.{fmt}"
        if dataset.by_month
        else f"{dataset.name}/part-0.{fmt}"
    )
    lines = [
        f"## {dataset.name}\n",
        f"{dataset.description}\n",
        f"{rows} rows in {len(files)} file(s): `{pattern}`.\n",
        "| column | type |",
        "|---|---|",
    ]
    for name, column_type, *_ in columns:
        note = " (hive partition folder)" if name == "month" and fmt == "parquet" else ""
        lines.append(f"| `{name}`{note} | {column_type} |")
    return "\n".join(lines) + "\n"
