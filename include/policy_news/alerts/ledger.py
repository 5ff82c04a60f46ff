"""What was already said: alerts sent per day (DuckDB) and per-day marker files.

DuckDB has a single writer, so only a task on the loader's side calls `record_check`.
The failed-task callback runs wherever the task failed and must not open DuckDB; it
dedupes with marker files in a folder every worker shares (the staging folder is).
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date, datetime
    from pathlib import Path

    import duckdb

MARKER_KEEP_DAYS = 7


def already_sent(conn: duckdb.DuckDBPyConnection, keys: Iterable[str], day: date) -> set[str]:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return set()
    rows = conn.execute(
        "SELECT condition_key FROM alerts_sent WHERE day = ? AND condition_key IN (SELECT unnest(?))",
        [day, wanted],
    ).fetchall()
    return {r[0] for r in rows}


def record_check(
    conn: duckdb.DuckDBPyConnection,
    *,
    sent: Mapping[str, str],
    feed_health: Mapping[str, str],
    day: date,
    now: datetime,
) -> None:
    """In one transaction: the conditions just sent (key -> message) and each feed's health.

    A feed whose alert could not be sent is left out of `feed_health` by the caller, so
    the next check still sees it change and tries again.
    """
    conn.execute("BEGIN TRANSACTION")
    try:
        for key, message in sent.items():
            conn.execute(
                "INSERT INTO alerts_sent VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [key, day, now, message],
            )
        for feed_name, health in feed_health.items():
            conn.execute(
                "INSERT INTO feed_health_seen VALUES (?, ?, ?) ON CONFLICT (feed_name) "
                "DO UPDATE SET health = excluded.health, seen_at = excluded.seen_at",
                [feed_name, health, now],
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _marker_path(marker_dir: Path, key: str, day: date) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", key)
    return marker_dir / f"{day.isoformat()}__{safe}.sent"


def claim_marker(marker_dir: Path, key: str, day: date) -> Path | None:
    """Create today's marker for `key`; None when it exists (someone already sent it).

    O_EXCL makes the claim atomic, so two workers failing at once send one message.
    """
    marker_dir.mkdir(parents=True, exist_ok=True)
    path = _marker_path(marker_dir, key, day)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    os.close(fd)
    _prune_markers(marker_dir)
    return path


def _prune_markers(marker_dir: Path) -> None:
    cutoff = time.time() - MARKER_KEEP_DAYS * 86400
    for old in marker_dir.glob("*.sent"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:  # another worker pruned it first
            pass
