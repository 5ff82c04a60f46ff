"""The analysts' snapshot: a copy of the database they can hold open while loads run.

While a process writes the main file DuckDB locks out every other process, readers
included, so analysts and the digest read this copy, published after every load.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def snapshot_path_for(db_path: Path) -> Path:
    """Where the snapshot of `db_path` lives (beside it: policy_news.snapshot.duckdb)."""
    return db_path.with_name(db_path.stem + ".snapshot.duckdb")


def publish_snapshot(db_path: Path, snapshot_path: Path | None = None) -> Path:
    """Copy the closed database to its snapshot file, atomically."""
    target = snapshot_path or snapshot_path_for(db_path)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(db_path, tmp)
    tmp.replace(target)  # atomic: a reader sees the old or the new file, never half of one
    return target
