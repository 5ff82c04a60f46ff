"""Parquet hand-off between tasks.

Tasks pass URLs and counts through XCom; records travel as Parquet files in a
run-scoped folder of the staging store (`staging_store`: local or object storage).
Explicit Arrow schemas keep empty batches and all-null columns typed, so the loader
never guesses.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from policy_news.staging_store import StagedPath, locate, safe_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

StagedFile = StagedPath | Path | str

TS = pa.timestamp("us", tz="UTC")


class StagedFileError(RuntimeError):
    """A staged file is missing, unreadable or could not be written; the message names it.

    Never skipped: a run that lost a staged file would silently load less than it fetched.
    """


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
            ("extraction_status", pa.string()),
            ("relevant", pa.bool_()),
            ("relevance_score", pa.float64()),
            ("taxonomy_version", pa.string()),
            ("relevance_probability", pa.float64()),
            ("needs_review", pa.bool_()),
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
    # The text's MinHash values, made by the extraction worker (stories.sketches): the
    # loader's near-duplicate and story checks read them instead of hashing every text.
    "article_sketches": pa.schema(
        [
            ("article_id", pa.string()),
            ("shingle_sketch", pa.binary()),
            ("word_sketch", pa.binary()),
            ("shingle_count", pa.int32()),
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
            ("relevance_probability", pa.float64()),
            ("needs_review", pa.bool_()),
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


def write(kind: str, records: Iterable[Any] | pa.Table, path: StagedFile) -> int:
    """Write records atomically, so a killed task leaves no half file (see staging_store)."""
    table = records if isinstance(records, pa.Table) else to_table(kind, records)
    # Row groups bound the writer's buffers (encoded and compressed pages of a group);
    # one group for a 10,000-article run held ~2x its text on top of the table.
    try:
        with locate(path).open_atomic() as out:
            pq.write_table(
                table, out, row_group_size=_ROW_GROUP_ROWS, **writer_options(table.schema)
            )
    except OSError as exc:
        raise _write_error(kind, path, exc) from exc
    return int(table.num_rows)


def _write_error(kind: str, path: StagedFile, exc: OSError) -> StagedFileError:
    return StagedFileError(
        f"could not write staged {kind} file {path}: {exc} "
        "(is the staging disk full? see POLICY_NEWS_STAGING_URL)"
    )


class StreamWriter:
    """Append batches of records to one Parquet file; the file appears whole on close."""

    def __init__(self, kind: str, path: StagedFile) -> None:
        self.kind = kind
        self.path = locate(path)
        self.rows = 0
        schema = SCHEMAS[kind]
        self._target = ExitStack()
        try:
            out = self._target.enter_context(self.path.open_atomic())
            self._writer = pq.ParquetWriter(out, schema, **writer_options(schema))
        except BaseException as exc:
            self._target.__exit__(type(exc), exc, exc.__traceback__)
            if isinstance(exc, OSError):
                raise _write_error(kind, path, exc) from exc
            raise

    def write(self, records: Iterable[Any]) -> None:
        self.write_table(to_table(self.kind, records))

    def write_table(self, table: pa.Table) -> None:
        """A table already in this kind's schema."""
        if table.num_rows:
            try:
                self._writer.write_table(table)
            except OSError as exc:
                raise _write_error(self.kind, self.path, exc) from exc
            self.rows += table.num_rows

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        try:
            self._writer.close()
        except OSError as error:
            self._target.__exit__(type(error), error, error.__traceback__)
            raise _write_error(self.kind, self.path, error) from error
        # Publishes the file on success, drops it on error.
        try:
            self._target.__exit__(exc_type, exc, tb)
        except OSError as error:
            raise _write_error(self.kind, self.path, error) from error


def _parquet_file(kind: str, path: StagedFile) -> pq.ParquetFile:
    """Open a staged file, or fail naming it: missing, truncated or not Parquet at all."""
    staged = locate(path)
    if not staged.exists():
        raise StagedFileError(f"staged {kind} file {staged} is missing")
    try:
        return pq.ParquetFile(staged.path, filesystem=staged.fs)
    except (pa.ArrowException, OSError) as exc:
        raise StagedFileError(f"staged {kind} file {staged} is unreadable: {exc}") from exc


def iter_rows(kind: str, path: StagedFile, batch_size: int) -> Iterable[list[dict[str, Any]]]:
    """Rows of a staged file in batches, so large runs never sit in memory whole."""
    source = _parquet_file(kind, path)
    try:
        for batch in source.iter_batches(batch_size=batch_size):
            yield pa.Table.from_batches([batch]).cast(SCHEMAS[kind]).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise StagedFileError(f"staged {kind} file {path} is unreadable: {exc}") from exc


def read(kind: str, paths: Sequence[StagedFile], columns: Sequence[str] | None = None) -> pa.Table:
    """Read and concatenate files of one kind (only `columns`, if given).

    A missing or damaged file is a StagedFileError naming it, never an empty batch.
    """
    cols = list(columns) if columns is not None else None
    tables = []
    for path in paths:
        _parquet_file(kind, path)  # missing or truncated: named here
        staged = locate(path)
        try:
            tables.append(
                pq.read_table(staged.path, filesystem=staged.fs, schema=SCHEMAS[kind], columns=cols)
            )
        except (pa.ArrowException, OSError) as exc:
            raise StagedFileError(f"staged {kind} file {staged} is unreadable: {exc}") from exc
    if not tables:
        empty = SCHEMAS[kind].empty_table()
        return empty.select(cols) if cols is not None else empty
    return pa.concat_tables(tables)


def verify(kind: str, paths: Sequence[StagedFile]) -> None:
    """Check staged files exist and end in a Parquet footer (a truncated file does not),
    without reading their data: for the large page files read later by the archive."""
    for path in paths:
        _parquet_file(kind, path)


def run_dir(staging_dir: Path, run_id: str) -> Path:
    return staging_dir / safe_name(run_id)
