"""Stage 3: keep the items not stored yet, add earlier failures due a retry, batch by host."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from policy_news import staging
from policy_news.pipeline.partition import interleave_by_host, partition_by_host
from policy_news.pipeline.run_folder import batch_file, read_manifest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from policy_news.pipeline.contracts import FeedBatchResult, ItemBatch, Selection
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath


def select_new_items(
    run_dir: StagedPath, feed_results: Sequence[FeedBatchResult], settings: Settings
) -> Selection:
    """New items (first feed wins) plus retries, in at most `article_tasks` host groups."""
    from policy_news.store import connection, reads

    started = time.perf_counter()
    manifest = read_manifest(run_dir)
    items = staging.read("feed_items", [r["feed_items"] for r in feed_results])
    with connection.open_db(settings.db_path, read_only=True) as conn:
        unique_ids = list(dict.fromkeys(items.column("article_id").to_pylist()))
        skip = reads.known_article_ids(conn, unique_ids)
        skip |= reads.exhausted_failures(conn, unique_ids, settings.max_article_attempts)
        retries = reads.retryable_failures(conn, settings.max_article_attempts)
        refetches = reads.refetchable_articles(
            conn,
            settings.metadata_refetch_attempts,
            timedelta(hours=settings.metadata_refetch_gap_hours),
            datetime.now(UTC),
        )
        retries = pa.concat_tables([retries, refetches])
    seen: set[str] = set()
    keep = []
    for i, article_id in enumerate(items.column("article_id").to_pylist()):
        if article_id not in skip and article_id not in seen:
            seen.add(article_id)
            keep.append(i)
    new = items.take(pa.array(keep, pa.int64()))
    retry_mask = pc.invert(
        pc.is_in(retries.column("article_id"), value_set=pa.array(list(seen), pa.string()))
    )
    retries = retries.filter(retry_mask).cast(staging.SCHEMAS["feed_items"])
    limit = manifest.get("limit")
    todo = pa.concat_tables([new, retries])
    if limit is not None:
        todo = todo.slice(0, int(limit))
    urls = todo.column("url").to_pylist()
    groups = [
        interleave_by_host(urls, g)
        for g in partition_by_host(urls, settings.article_tasks, settings.article_task_min_items)
    ]
    batches: list[ItemBatch] = []
    for index, group in enumerate(groups):
        path = batch_file(run_dir, "new_items", index)
        staging.write("feed_items", todo.take(pa.array(group, pa.int64())), path)
        batches.append({"index": index, "items": str(path)})
    # items_new per feed is known only here; the loader adds it to the fetch rows.
    new_per_feed: dict[str, int] = {}
    for name in new.column("feed_name").to_pylist():
        new_per_feed[name] = new_per_feed.get(name, 0) + 1
    (run_dir / "new_per_feed.json").write_text(json.dumps(new_per_feed))
    selection: Selection = {
        "item_batches": batches,
        "items_seen": items.num_rows,
        "items_new": new.num_rows,
        "retries": retries.num_rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
    (run_dir / "selection.json").write_text(json.dumps(selection))
    return selection
