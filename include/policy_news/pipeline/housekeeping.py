"""Housekeeping after a run: staged files and the raw-HTML archive stay bounded.

What the ingest DAG's last task (whatever happened before it) and `policy-news run`
call. Policy:

- a run's staging folder goes once the run is loaded (`pipeline_runs.outcome =
  'success'`); a failed or blocked run's stays `staging_retention_days` so someone can
  look at what it staged, then goes too;
- a raw-HTML archive file (one per loaded run) goes `raw_html_retention_days` after it
  was written; the articles keep their text and tags, only the fetched page is gone.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from policy_news.staging_store import StagedPath

if TYPE_CHECKING:
    from collections.abc import Collection

    from policy_news.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class HousekeepingResult:
    staging_removed: list[str] = field(default_factory=list)
    archive_removed: list[str] = field(default_factory=list)


def _manifest_of(folder: StagedPath) -> tuple[str, datetime | None]:
    """The run id and start time in the folder's manifest (folder names are sanitised ids)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        return str(manifest["run_id"]), datetime.fromisoformat(manifest["started_at"])
    except (OSError, ValueError, KeyError):
        return folder.name, None


def _loaded_runs(settings: Settings, run_ids: Collection[str]) -> set[str]:
    from policy_news.store import connection

    if not run_ids or not settings.db_path.exists():
        return set()
    with connection.open_db(settings.db_path, read_only=True) as conn:
        rows = conn.execute(
            "SELECT run_id FROM pipeline_runs WHERE outcome = 'success' AND run_id IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [list(run_ids)],
        ).fetchall()
    return {r[0] for r in rows}


def clean_staging(settings: Settings, now: datetime, keep: Collection[str] = ()) -> list[str]:
    """Remove staging folders of loaded runs, and of other runs past the retention.

    Works on any staging store (a local folder or object storage): a run's age is the
    start time in its manifest; a folder without a readable manifest is a half-written
    one: on a local disk it ages from its last change, elsewhere it is kept.
    """
    from policy_news.staging_store import staging_root

    root = staging_root(settings)
    if not root.exists():
        return []
    folders: dict[str, tuple[StagedPath, datetime | None]] = {}
    for entry in sorted(root.fs.ls(root.path, detail=True), key=lambda e: e["name"]):
        if entry.get("type") != "directory":
            continue
        folder = StagedPath(root.fs, entry["name"])
        run_id, started = _manifest_of(folder)
        if started is None and root.is_local:
            started = datetime.fromtimestamp(Path(folder.path).stat().st_mtime, UTC)
        folders[run_id] = (folder, started)
    loaded = _loaded_runs(settings, list(folders))
    cutoff = now - timedelta(days=settings.staging_retention_days)
    removed = []
    for run_id, (folder, started) in folders.items():
        if run_id in keep or folder.name == "alerts":
            continue
        if run_id in loaded or (started is not None and started < cutoff):
            folder.remove_tree()
            removed.append(folder.name)
    return removed


def expire_raw_html(settings: Settings, now: datetime) -> list[str]:
    """Delete archive files written more than `raw_html_retention_days` ago (0: never).

    The rows go first, in a transaction; the files after the commit. A crash between
    leaves unregistered files, which the next load sweeps (html_archive.sweep_orphans).
    """
    from policy_news.store import connection, html_archive

    if settings.raw_html_retention_days <= 0 or not settings.db_path.exists():
        return []
    cutoff = now - timedelta(days=settings.raw_html_retention_days)
    with connection.open_db(settings.db_path, read_only=True) as conn:
        due = conn.execute(
            "SELECT count(*) FROM html_archive WHERE written_at < ?", [cutoff]
        ).fetchone()
    if not due or not due[0]:
        return []  # nothing to do: never wait for the writer's lock
    with connection.open_db(settings.db_path) as conn:
        conn.execute("BEGIN TRANSACTION")
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "DELETE FROM html_archive WHERE written_at < ? RETURNING file_name", [cutoff]
                ).fetchall()
            ]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    folder = html_archive.archive_dir(settings.db_path)
    for name in names:
        (folder / name).unlink(missing_ok=True)
    return sorted(names)


def housekeep(settings: Settings, keep: Collection[str] = ()) -> HousekeepingResult:
    """Apply the retention policy (module docstring); `keep` names runs to leave alone."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    result = HousekeepingResult(
        staging_removed=clean_staging(settings, now, keep),
        archive_removed=expire_raw_html(settings, now),
    )
    log.info(
        "housekeeping: %d staging folders, %d archive files removed in %.2fs",
        len(result.staging_removed),
        len(result.archive_removed),
        time.perf_counter() - started,
    )
    return result
