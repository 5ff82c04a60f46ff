"""The analysts' snapshot: a copy of the database they can hold open while loads run.

While a process writes the main file DuckDB locks out every other process, readers
included, so analysts and the digest read this copy, published after every load that
changed what they read. A load that brought no article, tag, failure or quarantined row
(a poll where every feed answered 304) leaves the snapshot as it is: the copy of the
whole database would cost more than the run itself, and only the run's own bookkeeping
(its pipeline_runs, feed_fetches and dq_results rows) would differ.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def snapshot_path_for(db_path: Path) -> Path:
    """Where the snapshot of `db_path` lives (beside it: policy_news.snapshot.duckdb)."""
    return db_path.with_name(db_path.stem + ".snapshot.duckdb")


def publish_snapshot(
    db_path: Path, snapshot_path: Path | None = None, *, changed: bool = True
) -> Path:
    """Copy the closed database to its snapshot file, atomically.

    `changed=False` (the load wrote no analyst row) skips the copy when a snapshot
    exists; without one (a first run) it is always published.
    """
    target = snapshot_path or snapshot_path_for(db_path)
    if not changed and target.exists():
        return target
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(db_path, tmp)
    tmp.replace(target)  # atomic: a reader sees the old or the new file, never half of one
    return target
