"""Stage 3: pending items, retries due, new items (capped per feed), batched by host."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from policy_news import staging
from policy_news.http.limits import FEED_CAP
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
    """Pending items first (oldest first), then retries, then new items (first feed wins,
    at most `max_items_per_feed` per feed, newest first), in at most `article_tasks`
    host groups. New items over a feed's cap are staged as deferred, for the loader."""
    from policy_news.store import connection, reads

    started = time.perf_counter()
    manifest = read_manifest(run_dir)
    items = staging.read("feed_items", [r["feed_items"] for r in feed_results])
    limit = manifest.get("limit")
    with connection.open_db(settings.db_path, read_only=True) as conn:
        pending_all = reads.pending_items(conn)
        pending_ids = pending_all.column("article_id").to_pylist()
        unique_ids = list(dict.fromkeys(items.column("article_id").to_pylist()))
        candidates = list(dict.fromkeys(pending_ids + unique_ids))
        skip = reads.known_article_ids(conn, candidates)
        skip |= reads.exhausted_failures(conn, candidates, settings.max_article_attempts)
        retries = reads.retryable_failures(conn, settings.max_article_attempts)
        refetches = reads.refetchable_articles(
            conn,
            settings.metadata_refetch_attempts,
            timedelta(hours=settings.metadata_refetch_gap_hours),
            datetime.now(UTC),
        )
        retries = pa.concat_tables([retries, refetches])
    # Pending items the run cannot take (over `limit`) wait, and are not new either.
    waiting = set(pending_ids)
    pending = pending_all.slice(0, int(limit)) if limit is not None else pending_all
    offered = pending.column("article_id").to_pylist()
    pending = _take_rows(pending, offered, skip, set())
    seen = set(pending.column("article_id").to_pylist())
    new = _take_rows(items, items.column("article_id").to_pylist(), skip | waiting, seen)
    kept, capped = cap_per_feed(new, settings.max_items_per_feed)
    seen |= set(new.column("article_id").to_pylist())
    retry_mask = pc.invert(
        pc.is_in(
            retries.column("article_id"), value_set=pa.array(list(seen | waiting), pa.string())
        )
    )
    retries = retries.filter(retry_mask).cast(staging.SCHEMAS["feed_items"])
    todo = pa.concat_tables([pending, retries, kept])
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
    deferred_path = run_dir / "capped_items.parquet"
    staging.write("deferred_items", deferred_rows(capped, FEED_CAP), deferred_path)
    # Every pending item looked at leaves the backlog once loaded, unless deferred again.
    taken_path = run_dir / "pending_taken.parquet"
    staging.write(
        "pending_taken", pa.table({"article_id": pa.array(offered, pa.string())}), taken_path
    )
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
        "pending": pending.num_rows,
        "capped": capped.num_rows,
        "deferred_items": str(deferred_path),
        "pending_taken": str(taken_path),
        "seconds": round(time.perf_counter() - started, 3),
    }
    (run_dir / "selection.json").write_text(json.dumps(selection))
    return selection


def _take_rows(table: pa.Table, ids: list[str], skip: set[str], seen: set[str]) -> pa.Table:
    """The rows whose id is neither skipped nor seen; the first of repeated ids wins."""
    seen = set(seen)
    keep = []
    for i, article_id in enumerate(ids):
        if article_id not in skip and article_id not in seen:
            seen.add(article_id)
            keep.append(i)
    return table.take(pa.array(keep, pa.int64()))


def cap_per_feed(items: pa.Table, cap: int) -> tuple[pa.Table, pa.Table]:
    """(items kept, items over their feed's cap): each feed's newest `cap`, undated last.

    Kept rows stay in their feed order, so the cap changes nothing for a feed under it.
    """
    names = items.column("feed_name").to_pylist()
    dates = items.column("published_at").to_pylist()
    by_feed: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_feed.setdefault(name, []).append(i)
    over: set[int] = set()
    for rows in by_feed.values():
        if len(rows) > cap:
            # Newest first, undated last; ties keep feed order (sorts are stable).
            ranked = sorted(rows, key=lambda i: (dates[i] is None, -_stamp(dates[i])))
            over.update(ranked[cap:])
    kept = [i for i in range(items.num_rows) if i not in over]
    return (
        items.take(pa.array(kept, pa.int64())),
        items.take(pa.array(sorted(over), pa.int64())),
    )


def _stamp(value: datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def deferred_rows(items: pa.Table, reason: str) -> pa.Table:
    """Feed items as `deferred_items` rows with their reason."""
    reasons = pa.array([reason] * items.num_rows, pa.string())
    table = items.select(staging.SCHEMAS["feed_items"].names).append_column(
        "deferred_reason", reasons
    )
    return table.cast(staging.SCHEMAS["deferred_items"])
