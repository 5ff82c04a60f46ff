"""Staging files: what a stage writes, the next reads back unchanged, in the declared schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policy_news import staging
from policy_news.models import FeedItem

ITEM = FeedItem(
    article_id="a1",
    url="https://example.org/a1",
    original_url="https://example.org/a1?utm=x",
    feed_name="feed",
    title="Title",
    summary="Summary",
    published_at=datetime(2025, 3, 2, 12, 0, tzinfo=UTC),
)


def test_records_round_trip_through_parquet(tmp_path: Path) -> None:
    path = tmp_path / "items.parquet"
    assert staging.write("feed_items", [ITEM], path) == 1
    rows = staging.read("feed_items", [path]).to_pylist()
    assert rows == [{**ITEM.__dict__, "guid": None}]


def test_dicts_missing_fields_become_nulls_in_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "items.parquet"
    staging.write("feed_items", [{"article_id": "a2", "url": "u"}], path)
    table = pq.read_table(path)
    assert table.schema.equals(staging.SCHEMAS["feed_items"])
    assert table.to_pylist()[0]["title"] is None


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        staging.write(
            "feed_items", [{**ITEM.__dict__, "published_at": "yesterday"}], tmp_path / "x"
        )


def test_stream_writer_output_reads_back_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "items.parquet"
    with staging.StreamWriter("feed_items", path) as out:
        out.write([ITEM, ITEM])
        out.write([ITEM])
    batches = list(staging.iter_rows("feed_items", path, batch_size=2))
    assert [len(b) for b in batches] == [2, 1]
    assert batches[0][0]["article_id"] == "a1"


def test_reading_no_files_gives_an_empty_table_of_the_schema() -> None:
    table = staging.read("articles", [])
    assert table.num_rows == 0
    assert table.schema.names == staging.SCHEMAS["articles"].names


def test_a_missing_staged_file_is_an_error_naming_it(tmp_path: Path) -> None:
    present = tmp_path / "items_0000.parquet"
    staging.write("feed_items", [ITEM], present)
    missing = tmp_path / "items_0001.parquet"
    with pytest.raises(staging.StagedFileError, match=r"items_0001\.parquet is missing"):
        staging.read("feed_items", [present, missing])
    with pytest.raises(staging.StagedFileError, match=r"items_0001\.parquet is missing"):
        list(staging.iter_rows("feed_items", missing, 10))


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_staged_file_is_an_error_naming_it(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "items_0000.parquet"
    staging.write("feed_items", [ITEM] * 50, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"x" * len(data))
    with pytest.raises(staging.StagedFileError, match=r"items_0000\.parquet is unreadable"):
        staging.read("feed_items", [path])
    with pytest.raises(staging.StagedFileError, match=r"items_0000\.parquet is unreadable"):
        staging.verify("feed_items", [path])


def test_a_full_disk_fails_the_write_clearly_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq, "write_table", no_space)
    path = tmp_path / "items.parquet"
    with pytest.raises(staging.StagedFileError, match="could not write staged feed_items file"):
        staging.write("feed_items", [ITEM], path)
    assert list(tmp_path.iterdir()) == []
