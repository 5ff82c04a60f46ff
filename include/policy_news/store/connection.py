"""Opening the DuckDB file: waiting out another process's lock, migrating on open.

DuckDB allows one writing process, and while it holds the file even read-only
connections from other processes fail; so every open retries with backoff for up to
`lock_timeout_s` (setting `POLICY_NEWS_LOCK_TIMEOUT_S`) before giving up clearly.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import duckdb

from policy_news.settings import get_settings
from policy_news.store.schema import migrate

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

log = logging.getLogger(__name__)


class DatabaseBusyError(RuntimeError):
    """Another process kept the DuckDB file locked for longer than we wait."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


def connect(
    db_path: Path, *, read_only: bool = False, deadline_s: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying with backoff while another process holds the lock."""
    wait_s = get_settings().lock_timeout_s if deadline_s is None else deadline_s
    deadline = time.monotonic() + wait_s
    delay = 0.1
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            conn = duckdb.connect(str(db_path), read_only=read_only)
            conn.execute("SET TimeZone = 'UTC'")
            return conn
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseBusyError(
                    f"{db_path} stayed locked by another process; gave up after "
                    f"{wait_s:.1f}s: {exc}"
                ) from exc
            pause = min(delay, remaining)
            log.warning("database %s is locked, retrying in %.1fs", db_path, pause)
            time.sleep(pause)
            delay = min(delay * 2, 5.0)


@contextmanager
def open_db(db_path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Connection with the schema up to date (read-only connections skip migrating).

    A read-only open of a database that does not exist yet gets an empty, migrated
    in-memory one: the first run plans against "nothing stored".
    """
    if read_only and not db_path.exists():
        conn = duckdb.connect(":memory:")
        migrate(conn)
    else:
        conn = connect(db_path, read_only=read_only)
        if not read_only:
            migrate(conn)
    try:
        yield conn
    finally:
        conn.close()
