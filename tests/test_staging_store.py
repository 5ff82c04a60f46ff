"""The staging store: run folders on the local disk or in S3, read back whole, never half."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from policy_news import staging
from policy_news.models import FeedItem
from policy_news.pipeline.run_folder import (
    MANIFEST,
    batch_file,
    read_manifest,
    run_dir_for,
    write_json,
)
from policy_news.settings import Settings
from policy_news.staging_store import locate

ITEM = FeedItem(
    article_id="a1",
    url="https://example.org/a1",
    original_url="https://example.org/a1",
    feed_name="feed",
    title="Title",
    summary="Summary",
    published_at=datetime(2025, 3, 2, 12, 0, tzinfo=UTC),
)


def _round_trip(settings: Settings) -> tuple[Any, list[str]]:
    """Stage what a run stages (manifest, a file, a streamed file); return folder and URLs."""
    folder = run_dir_for("manual__2026-12-07T10:00:00+00:00", settings)
    write_json(folder, MANIFEST, {"run_id": "r", "feed_states": {"feed": {"etag": "x"}}})
    items = batch_file(folder, "feed_items", 0)
    assert staging.write("feed_items", [ITEM, ITEM], items) == 2
    streamed = batch_file(folder, "articles", 0)
    with staging.StreamWriter("feed_items", streamed) as out:
        out.write([ITEM])
        out.write([ITEM, ITEM])
    urls = [str(items), str(streamed)]
    assert read_manifest(str(folder))["feed_states"] == {"feed": {"etag": "x"}}
    assert staging.read("feed_items", urls).num_rows == 5
    rows = [len(b) for b in staging.iter_rows("feed_items", urls[1], batch_size=2)]
    assert rows == [2, 1]
    return folder, urls


def test_file_staging_round_trip(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    assert settings.staging_url == (tmp_path / "data" / "staging").resolve().as_uri()
    folder, urls = _round_trip(settings)
    assert all(u.startswith("file://") for u in urls)
    on_disk = sorted(p.name for p in Path(folder.path).iterdir())
    assert on_disk == ["articles_0000.parquet", "feed_items_0000.parquet", MANIFEST]
    folder.remove_tree()
    assert not Path(folder.path).exists()


def test_s3_staging_round_trip_through_the_airflow_connection(
    make_settings: Callable[..., Settings], s3_staging_url: str, s3_endpoint: Any
) -> None:
    settings = make_settings(staging_url=s3_staging_url)
    folder, urls = _round_trip(settings)
    assert type(folder.fs).__name__ == "S3FileSystem"
    assert all(u.startswith(s3_staging_url + "/") for u in urls)
    # What a client of its own sees in the bucket: whole objects, no temp names.
    prefix = s3_staging_url.split("/", 3)[3] + "/manual__2026-12-07T10_00_00_00_00/"
    assert s3_endpoint.keys(prefix) == [
        prefix + "articles_0000.parquet",
        prefix + "feed_items_0000.parquet",
        prefix + MANIFEST,
    ]
    folder.remove_tree()
    assert s3_endpoint.keys(prefix) == []


def test_s3_missing_staged_file_raises_naming_it(
    make_settings: Callable[..., Settings], s3_staging_url: str
) -> None:
    settings = make_settings(staging_url=s3_staging_url)
    missing = str(batch_file(run_dir_for("r1", settings), "feed_items", 7))
    with pytest.raises(staging.StagedFileError, match=r"s3://.*/r1/feed_items_0007\.parquet"):
        staging.read("feed_items", [missing])
    with pytest.raises(staging.StagedFileError, match="feed_items_0007"):
        list(staging.iter_rows("feed_items", missing, batch_size=10))


def test_local_missing_staged_file_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(staging.StagedFileError, match=r"gone\.parquet"):
        staging.read("feed_items", [tmp_path / "gone.parquet"])


@pytest.mark.parametrize("store", ["file", "s3"])
def test_a_writer_that_fails_leaves_no_file(
    store: str, make_settings: Callable[..., Settings], request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("s3_staging_url") if store == "s3" else None
    settings = make_settings(**({"staging_url": url} if url else {}))
    target = batch_file(run_dir_for("r2", settings), "feed_items", 0)
    with (
        pytest.raises(RuntimeError, match="killed"),
        staging.StreamWriter("feed_items", target) as out,
    ):
        out.write([ITEM])
        raise RuntimeError("killed")
    assert not target.exists()
    assert not locate(str(target) + ".tmp").exists()


def test_a_retry_overwrites_the_same_key(
    make_settings: Callable[..., Settings], s3_staging_url: str
) -> None:
    target = batch_file(run_dir_for("r3", make_settings(staging_url=s3_staging_url)), "x", 0)
    staging.write("feed_items", [ITEM, ITEM], target)
    staging.write("feed_items", [ITEM], target)
    assert staging.read("feed_items", [str(target)]).num_rows == 1
