"""Stage 1: pick the feeds due and group them by host; record the run's manifest.

The manifest carries the due feeds' states too, so the mapped fetch tasks never open
DuckDB and may run on any worker.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from policy_news.pipeline.partition import partition_by_host
from policy_news.pipeline.run_folder import MANIFEST, run_dir_for, write_json
from policy_news.sources.registry import load_feeds

if TYPE_CHECKING:
    from pathlib import Path

    from policy_news.pipeline.contracts import FeedBatch, Plan
    from policy_news.settings import Settings

log = logging.getLogger(__name__)


def plan_run(
    run_id: str,
    settings: Settings,
    feeds_path: Path | None = None,
    *,
    trigger: str = "cli",
    limit: int | None = None,
    poll_all: bool = False,
) -> Plan:
    """The feed batches to map over; later stages read the manifest from the run folder."""
    from policy_news.store import connection, reads

    started = time.perf_counter()
    path = feeds_path or settings.feeds_path
    feeds = load_feeds(path)
    with connection.open_db(settings.db_path, read_only=True) as conn:
        due = reads.feeds_due(conn, feeds, datetime.now(UTC), poll_all=poll_all)
        states = reads.feed_states(conn)
    folder = run_dir_for(run_id, settings)
    manifest = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "trigger": trigger,
        "feeds_path": str(path),
        "limit": limit,
        "feeds": [f.model_dump(mode="json") for f in feeds],
        "due": [f.name for f in due],
        "feed_states": {f.name: asdict(states[f.name]) for f in due if f.name in states},
    }
    write_json(folder, MANIFEST, manifest)
    groups = partition_by_host(
        [f.url for f in due], settings.feed_tasks, settings.feed_task_min_feeds
    )
    batches: list[FeedBatch] = [
        {"index": index, "feed_names": [due[i].name for i in group]}
        for index, group in enumerate(groups)
    ]
    log.info("run %s: %d feeds, %d due, %d batches", run_id, len(feeds), len(due), len(batches))
    plan: Plan = {
        "run_dir": str(folder),
        "feed_batches": batches,
        "feeds_total": len(feeds),
        "feeds_due": len(due),
        "seconds": round(time.perf_counter() - started, 3),
    }
    write_json(folder, "plan.json", plan)
    return plan
