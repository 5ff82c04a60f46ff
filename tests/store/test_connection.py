"""Opening the database: waiting out another process's lock, migrating on open."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from policy_news.store import connection

if TYPE_CHECKING:
    from pathlib import Path


def test_writer_waits_for_a_lock_then_gives_up_with_a_clear_error(db: Path) -> None:
    with connection.open_db(db):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            "time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(connection.DatabaseBusyError, match="stayed locked"):
            connection.connect(db, deadline_s=0.5)
        assert time.monotonic() - started < 5
        conn = connection.connect(db, deadline_s=20)  # succeeds once the holder exits
        conn.close()
    finally:
        holder.kill()
        holder.wait()


def test_read_only_open_of_a_missing_file_plans_against_an_empty_schema(db: Path) -> None:
    with connection.open_db(db, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    assert not db.exists()
