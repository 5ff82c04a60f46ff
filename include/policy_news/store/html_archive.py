"""Raw HTML archive: one Parquet file per loaded run, in a folder beside the database.

The fetched pages are most of a run's bytes. Written into DuckDB they would sit inside
the run's load transaction, which DuckDB holds in memory until it commits (about
1.6 GB for 10,000 articles), and every analyst snapshot would copy them again.

The loader writes a run's file while it holds the database (so no other loader can
sweep it) and before its transaction; the transaction then registers the file in
`html_archive`. A file is part of the store only once its run committed: after a crash
the next load removes files no committed run registered (`sweep_orphans`).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from policy_news import staging
from policy_news.staging_store import locate, safe_name

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import duckdb

# Rows per Parquet row group: bounds memory while copying (~60 KB of gzip per page).
_BATCH_ROWS = 256


@dataclass(frozen=True)
class ArchivedRun:
    """One run's archive file, as registered in the `html_archive` table."""

    file_name: str
    articles: int
    bytes: int


def archive_dir(db_path: Path) -> Path:
    """`data/policy_news.duckdb` -> `data/policy_news_raw_html/`."""
    return db_path.parent / f"{db_path.stem}_raw_html"


def file_name_for(run_id: str) -> str:
    return safe_name(run_id) + ".parquet"


def write_run(
    run_id: str, html_files: Sequence[str], article_ids: pa.Array, db_path: Path
) -> ArchivedRun | None:
    """Copy the staged pages of the articles being loaded into the run's archive file.

    The staged files are read from the staging store (local or object storage). Streams
    row groups, so memory stays at one batch whatever the run's size; the first copy of
    an article wins. Returns None when there is nothing to archive.
    """
    keep = pc.unique(article_ids.cast(pa.string()).drop_null())
    if len(keep) == 0:
        return None
    schema = staging.SCHEMAS["article_html"]
    target = archive_dir(db_path) / file_name_for(run_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    written: set[str] = set()
    rows = 0
    with pq.ParquetWriter(tmp, schema, **staging.writer_options(schema)) as writer:
        for path in html_files:
            staged = locate(path).require()
            # pre_buffer=False: read one row group's pages at a time (pre-buffering held
            # ~90 MB more after the copy of a 10,000-article run)
            source = pq.ParquetFile(staged.path, pre_buffer=False, filesystem=staged.fs)
            for batch in source.iter_batches(batch_size=_BATCH_ROWS):
                table = pa.Table.from_batches([batch]).cast(schema)
                table = table.filter(pc.is_in(table.column("article_id"), value_set=keep))
                fresh = []
                for index, article_id in enumerate(table.column("article_id").to_pylist()):
                    if article_id not in written:
                        written.add(article_id)
                        fresh.append(index)
                if len(fresh) < table.num_rows:
                    table = table.take(pa.array(fresh, pa.int64()))
                if table.num_rows:
                    writer.write_table(table)
                    rows += table.num_rows
    if rows == 0:
        tmp.unlink(missing_ok=True)
        return None
    tmp.replace(target)  # a rerun of the same run replaces its file whole
    return ArchivedRun(target.name, rows, target.stat().st_size)


def sweep_orphans(conn: duckdb.DuckDBPyConnection, db_path: Path) -> list[str]:
    """Remove archive files no committed run registered (a load killed before COMMIT).

    Call while holding the database: the single-writer lock means no other loader is
    between writing its file and committing.
    """
    folder = archive_dir(db_path)
    if not folder.is_dir():
        return []
    registered = {r[0] for r in conn.execute("SELECT file_name FROM html_archive").fetchall()}
    removed = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".parquet.tmp") or (
            path.suffix == ".parquet" and path.name not in registered
        ):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def read_html(conn: duckdb.DuckDBPyConnection, db_path: Path, article_id: str) -> bytes | None:
    """The fetched page of a stored article (decompressed), or None if it has none.

    Looks in the run's archive file, then in `article_html` (pages loaded before the
    archive existed).
    """
    files = conn.execute(
        "SELECT h.file_name FROM articles a JOIN html_archive h "
        "ON h.run_id IN (a.first_run_id, a.last_run_id) WHERE a.article_id = ? "
        "ORDER BY h.run_id = a.first_run_id DESC",
        [article_id],
    ).fetchall()
    blob = None
    for (name,) in files:
        path = archive_dir(db_path) / name
        if blob is None and path.exists():
            found = conn.execute(
                "SELECT raw_html_gz FROM read_parquet(?) WHERE article_id = ?",
                [str(path), article_id],
            ).fetchone()
            blob = found[0] if found else None
    if blob is None:
        legacy = conn.execute(
            "SELECT raw_html_gz FROM article_html WHERE article_id = ?", [article_id]
        ).fetchone()
        blob = legacy[0] if legacy else None
    return gzip.decompress(blob) if blob is not None else None
