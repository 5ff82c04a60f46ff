"""Stage 2: fetch one batch of feeds (mapped over the plan's feed batches).

Reads feeds and their states from the run's manifest, never DuckDB: any worker can run it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from policy_news import staging
from policy_news.pipeline.run_folder import (
    batch_file,
    manifest_feed_states,
    manifest_feeds,
    read_manifest,
)

if TYPE_CHECKING:
    from policy_news.pipeline.contracts import FeedBatch, FeedBatchResult
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath


def fetch_feed_batch(run_dir: StagedPath, batch: FeedBatch, settings: Settings) -> FeedBatchResult:
    """Poll the batch's feeds (conditional GET, body hash); stage fetch rows and items."""
    from policy_news.sources.feed_fetch import fetch_feeds

    started = time.perf_counter()
    manifest = read_manifest(run_dir)
    wanted = set(batch["feed_names"])
    feeds = [f for f in manifest_feeds(manifest) if f.name in wanted]
    states = manifest_feed_states(manifest)
    fetches, items = fetch_feeds(manifest["run_id"], feeds, states, settings)
    fetches_path = batch_file(run_dir, "feed_fetches", batch["index"])
    items_path = batch_file(run_dir, "feed_items", batch["index"])
    staging.write("feed_fetches", fetches, fetches_path)
    staging.write("feed_items", items, items_path)
    return {
        "index": batch["index"],
        "feed_fetches": str(fetches_path),
        "feed_items": str(items_path),
        "feeds": len(fetches),
        "feeds_failed": sum(1 for f in fetches if f.outcome == "error"),
        "items": len(items),
        "seconds": round(time.perf_counter() - started, 3),
    }
