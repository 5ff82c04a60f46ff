"""A run's staging folder: where it is, its manifest, and the name of each staged file.

Every task of a run finds the folder from the run id alone, and every staged file's
name comes from its kind and batch index, so no stage derives a name from another's.
The folder lives in the staging store (`policy_news.staging_store`), so a task on any
machine reads what a task on another wrote.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from policy_news.models import FeedState
from policy_news.sources.registry import FeedConfig
from policy_news.staging_store import StagedPath, locate, run_folder

if TYPE_CHECKING:
    from policy_news.settings import Settings

MANIFEST = "manifest.json"


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def run_dir_for(run_id: str, settings: Settings) -> StagedPath:
    return run_folder(settings, run_id)


def batch_file(run_dir: StagedPath, name: str, index: int) -> StagedPath:
    """The staged Parquet file `name` of batch `index` (e.g. articles_0003.parquet)."""
    return run_dir / f"{name}_{index:04d}.parquet"


def read_json(run_dir: StagedPath | str, name: str) -> Any:
    return json.loads((locate(run_dir) / name).read_text())


def write_json(run_dir: StagedPath, name: str, value: Any) -> None:
    (run_dir / name).write_text(json.dumps(value, indent=1))


def read_manifest(run_dir: StagedPath | str) -> dict[str, Any]:
    return dict(read_json(run_dir, MANIFEST))


def manifest_feeds(manifest: dict[str, Any]) -> list[FeedConfig]:
    return [FeedConfig.model_validate(f) for f in manifest["feeds"]]


def manifest_feed_states(manifest: dict[str, Any]) -> dict[str, FeedState]:
    """What the store remembered of the due feeds when the run was planned (ETag, hash)."""
    return {name: FeedState(**state) for name, state in manifest["feed_states"].items()}


def with_items_new(fetches: pa.Table, run_dir: StagedPath) -> pa.Table:
    """The fetch rows with `items_new` per feed, known only once selection de-duplicated
    the run's items (`new_per_feed.json`): the silent-zero check and the loader need it."""
    path = run_dir / "new_per_feed.json"
    new_per_feed: dict[str, int] = json.loads(path.read_text()) if path.exists() else {}
    counts = [new_per_feed.get(name, 0) for name in fetches.column("feed_name").to_pylist()]
    index = fetches.schema.get_field_index("items_new")
    return fetches.set_column(index, "items_new", pa.array(counts, pa.int32()))
