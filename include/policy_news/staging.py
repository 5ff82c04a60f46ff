"""Parquet hand-off between tasks.

Tasks pass paths and counts through XCom; records travel as Parquet files in a
run-scoped folder. Explicit Arrow schemas keep empty batches and all-null
columns typed, so the loader never guesses.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "feed_fetches": pa.schema(
        [
            ("run_id", pa.string()),
            ("feed_name", pa.string()),
            ("feed_url", pa.string()),
            ("fetched_at", TS),
            ("outcome", pa.string()),
            ("http_status", pa.int32()),
            ("bytes", pa.int64()),
            ("etag", pa.string()),
            ("last_modified", pa.string()),
            ("body_hash", pa.string()),
            ("items_seen", pa.int32()),
            ("items_new", pa.int32()),
            ("error_kind", pa.string()),
            ("error", pa.string()),
            ("duration_ms", pa.int32()),
        ]
    ),
    "feed_items": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("original_url", pa.string()),
            ("feed_name", pa.string()),
            ("title", pa.string()),
            ("summary", pa.string()),
            ("published_at", TS),
            ("guid", pa.string()),
        ]
    ),
    # Items a run left for later (per-feed cap, host breaker, time budget), with why;
    # the loader keeps them in `pending_items`.
    "deferred_items": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("original_url", pa.string()),
            ("feed_name", pa.string()),
            ("title", pa.string()),
            ("summary", pa.string()),
            ("published_at", TS),
            ("guid", pa.string()),
            ("deferred_reason", pa.string()),
        ]
    ),
    # Pending items a run took (or found settled): they leave `pending_items` unless
    # deferred again.
    "pending_taken": pa.schema([("article_id", pa.string())]),
    "articles": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("final_url", pa.string()),
            ("feed_name", pa.string()),
            ("title", pa.string()),
            ("summary", pa.string()),
            ("text", pa.string()),
            ("author", pa.string()),
            ("site_name", pa.string()),
            ("language", pa.string()),
            ("published_at", TS),
            ("date_source", pa.string()),
            ("fetched_at", TS),
            ("http_status", pa.int32()),
            ("content_hash", pa.string()),
            ("relevant", pa.bool_()),
            ("relevance_score", pa.float64()),
            ("taxonomy_version", pa.string()),
        ]
    ),
    # The fetched page, kept apart from the text: it is most of a run's bytes and only
    # the raw-HTML archive reads it (see html_archive.py).
    "article_html": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("fetched_at", TS),
            ("raw_html_gz", pa.binary()),
        ]
    ),
    "failures": pa.schema(
        [
            ("article_id", pa.string()),
            ("url", pa.string()),
            ("feed_name", pa.string()),
            ("title", pa.string()),
            ("summary", pa.string()),
            ("feed_published_at", TS),
            ("stage", pa.string()),
            ("error_kind", pa.string()),
            ("error", pa.string()),
            ("http_status", pa.int32()),
            ("failed_at", TS),
        ]
    ),
    "article_topics": pa.schema(
        [
            ("article_id", pa.string()),
            ("subtopic", pa.string()),
            ("taxonomy_version", pa.string()),
            ("score", pa.float64()),
            ("evidence", pa.string()),
            ("field", pa.string()),
            ("start_offset", pa.int32()),
            ("end_offset", pa.int32()),
            ("rule_id", pa.string()),
        ]
    ),
    "article_facts": pa.schema(
        [
            ("article_id", pa.string()),
            ("taxonomy_version", pa.string()),
            ("fact_index", pa.int32()),
            ("kind", pa.string()),
            ("value", pa.string()),
            ("normalized", pa.string()),
            ("sentence", pa.string()),
            ("field", pa.string()),
            ("start_offset", pa.int32()),
            ("end_offset", pa.int32()),
            ("rule_id", pa.string()),
            ("attrs", pa.string()),
        ]
    ),
    "article_relevance": pa.schema(
        [
            ("article_id", pa.string()),
            ("taxonomy_version", pa.string()),
            ("relevant", pa.bool_()),
            ("relevance_score", pa.float64()),
            ("evidence", pa.string()),
            ("rule_id", pa.string()),
            ("tagged_at", TS),
        ]
    ),
}


def to_table(kind: str, records: Iterable[Any]) -> pa.Table:
    """Dicts or model dataclasses as a table of `kind`'s schema (missing fields are null).

    Read field by field: the models hold scalars only, and `dataclasses.asdict` would
    deep-copy every record first (0.45 vs 0.05 CPU-s for 2,000 articles).
    """
    rows = list(records)
    columns = {
        name: [r.get(name) if isinstance(r, dict) else getattr(r, name, None) for r in rows]
        for name in SCHEMAS[kind].names
    }
    return pa.Table.from_pydict(columns, schema=SCHEMAS[kind])


_ROW_GROUP_ROWS = 1000

# Already-compressed blobs gain nothing from a second codec or a dictionary.
_BLOB_COLUMNS = frozenset({"raw_html_gz"})


def writer_options(schema: pa.Schema) -> dict[str, Any]:
    """Parquet options: zstd for everything but already-gzipped blobs."""
    blobs = [n for n in schema.names if n in _BLOB_COLUMNS]
    if not blobs:
        return {"compression": "zstd"}
    return {
        "compression": {n: ("none" if n in blobs else "zstd") for n in schema.names},
        "use_dictionary": [n for n in schema.names if n not in blobs],
    }


def write(kind: str, records: Iterable[Any] | pa.Table, path: Path) -> int:
    """Write records atomically (temp file then rename) so a killed task leaves no half file."""
    table = records if isinstance(records, pa.Table) else to_table(kind, records)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    # Row groups bound the writer's buffers (encoded and compressed pages of a group);
    # one group for a 10,000-article run held ~2x its text on top of the table.
    pq.write_table(table, tmp, row_group_size=_ROW_GROUP_ROWS, **writer_options(table.schema))
    tmp.replace(path)
    return int(table.num_rows)


class StreamWriter:
    """Append batches of records to one Parquet file; the file appears whole on close."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self.tmp = path.with_suffix(path.suffix + ".tmp")
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        schema = SCHEMAS[kind]
        self._writer = pq.ParquetWriter(self.tmp, schema, **writer_options(schema))

    def write(self, records: Iterable[Any]) -> None:
        self.write_table(to_table(self.kind, records))

    def write_table(self, table: pa.Table) -> None:
        """A table already in this kind's schema."""
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._writer.close()
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def iter_rows(kind: str, path: Path | str, batch_size: int) -> Iterable[list[dict[str, Any]]]:
    """Rows of a staged file in batches, so large runs never sit in memory whole."""
    if not Path(path).exists():
        return
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        yield pa.Table.from_batches([batch]).cast(SCHEMAS[kind]).to_pylist()


def read(kind: str, paths: Sequence[Path | str], columns: Sequence[str] | None = None) -> pa.Table:
    """Read and concatenate files of one kind (only `columns`, if given); missing files count as empty."""
    cols = list(columns) if columns is not None else None
    tables = [
        pq.read_table(p, schema=SCHEMAS[kind], columns=cols) for p in paths if Path(p).exists()
    ]
    if not tables:
        empty = SCHEMAS[kind].empty_table()
        return empty.select(cols) if cols is not None else empty
    return pa.concat_tables(tables)


def run_dir(staging_dir: Path, run_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return staging_dir / safe


def clean_run_dir(staging_dir: Path, run_id: str) -> None:
    shutil.rmtree(run_dir(staging_dir, run_id), ignore_errors=True)
