"""Housekeeping: staged files of loaded runs go, failed runs' after the retention, old pages too."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from policy_news.pipeline.housekeeping import housekeep
from policy_news.store import connection, html_archive

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from policy_news.settings import Settings


def _staged_run(settings: Settings, run_id: str, age_days: float = 0) -> Path:
    folder = settings.staging_dir / run_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"run_id": run_id}))
    then = time.time() - age_days * 86400
    os.utime(folder, (then, then))
    return folder


def _record_run(settings: Settings, run_id: str, outcome: str) -> None:
    with connection.open_db(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO pipeline_runs (run_id, started_at, outcome) VALUES (?, ?, ?)",
            [run_id, datetime.now(UTC), outcome],
        )


def test_loaded_runs_staging_goes_failed_runs_stays_for_the_retention(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(staging_retention_days=3)
    _record_run(settings, "loaded", "success")
    _record_run(settings, "blocked", "blocked")
    loaded = _staged_run(settings, "loaded")
    blocked = _staged_run(settings, "blocked")
    crashed = _staged_run(settings, "crashed", age_days=1)
    ancient = _staged_run(settings, "ancient", age_days=4)
    kept = _staged_run(settings, "kept")
    _record_run(settings, "kept", "success")
    result = housekeep(settings, keep=("kept",))
    assert sorted(result.staging_removed) == ["ancient", "loaded"]
    assert not loaded.exists() and not ancient.exists()
    assert blocked.exists() and crashed.exists() and kept.exists()


def test_archive_files_past_the_retention_are_deleted_with_their_rows(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(raw_html_retention_days=30)
    folder = html_archive.archive_dir(settings.db_path)
    folder.mkdir(parents=True)
    now = datetime.now(UTC)
    with connection.open_db(settings.db_path) as conn:
        for run_id, age in (("old", 31), ("new", 29)):
            (folder / f"{run_id}.parquet").write_bytes(b"pages")
            conn.execute(
                "INSERT INTO html_archive VALUES (?, ?, 1, 5, ?)",
                [run_id, f"{run_id}.parquet", now - timedelta(days=age)],
            )
    result = housekeep(settings)
    with connection.open_db(settings.db_path, read_only=True) as conn:
        rows = conn.execute("SELECT run_id FROM html_archive").fetchall()
    assert result.archive_removed == ["old.parquet"]
    assert rows == [("new",)]
    assert sorted(p.name for p in folder.iterdir()) == ["new.parquet"]


def test_zero_raw_html_retention_keeps_the_archive(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(raw_html_retention_days=0)
    folder = html_archive.archive_dir(settings.db_path)
    folder.mkdir(parents=True)
    (folder / "old.parquet").write_bytes(b"pages")
    with connection.open_db(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO html_archive VALUES ('old', 'old.parquet', 1, 5, ?)",
            [datetime.now(UTC) - timedelta(days=3650)],
        )
    assert housekeep(settings).archive_removed == []
    assert (folder / "old.parquet").exists()
