"""A run's staging folder: where it is, its manifest, and the name of each staged file.

Every task of a run finds the folder from the run id alone, and every staged file's
name comes from its kind and batch index, so no stage derives a name from another's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from policy_news import staging
from policy_news.sources.registry import FeedConfig

if TYPE_CHECKING:
    from pathlib import Path

    from policy_news.settings import Settings


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def run_dir_for(run_id: str, settings: Settings) -> Path:
    return staging.run_dir(settings.staging_dir, run_id)


def batch_file(run_dir: Path, name: str, index: int) -> Path:
    """The staged Parquet file `name` of batch `index` (e.g. articles_0003.parquet)."""
    return run_dir / f"{name}_{index:04d}.parquet"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "manifest.json").read_text()))


def manifest_feeds(manifest: dict[str, Any]) -> list[FeedConfig]:
    return [FeedConfig.model_validate(f) for f in manifest["feeds"]]


def with_items_new(fetches: pa.Table, run_dir: Path) -> pa.Table:
    """The fetch rows with `items_new` per feed, known only once selection de-duplicated
    the run's items (`new_per_feed.json`): the silent-zero check and the loader need it."""
    path = run_dir / "new_per_feed.json"
    new_per_feed: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    counts = [new_per_feed.get(name, 0) for name in fetches.column("feed_name").to_pylist()]
    index = fetches.schema.get_field_index("items_new")
    return fetches.set_column(index, "items_new", pa.array(counts, pa.int32()))
