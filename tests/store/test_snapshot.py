"""The analysts' snapshot: readable while the main file is locked; copied only after changes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from policy_news.store import connection, loader, snapshot
from tests.store.conftest import article, load_input


def test_snapshot_sits_beside_the_database() -> None:
    assert snapshot.snapshot_path_for(Path("/d/news.duckdb")) == Path("/d/news.snapshot.duckdb")


def test_snapshot_is_readable_while_the_main_file_is_locked(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [article("a1")]))
    published = snapshot.publish_snapshot(db)
    assert published == snapshot.snapshot_path_for(db)
    with connection.open_db(db):  # this process now holds the writer lock
        code = textwrap.dedent(f"""
            import duckdb
            print(duckdb.connect({str(published)!r}, read_only=True)
                  .execute('select count(*) from articles').fetchone()[0])
        """)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"


def test_first_run_publishes_even_when_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    published = snapshot.publish_snapshot(db, changed=False)
    assert published == snapshot.snapshot_path_for(db)
    assert published.read_bytes() == b"first"


def test_snapshot_is_not_copied_when_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    snapshot.publish_snapshot(db)
    db.write_bytes(b"run bookkeeping only")
    published = snapshot.publish_snapshot(db, changed=False)
    assert published.read_bytes() == b"first"


def test_snapshot_is_republished_after_a_change(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    snapshot.publish_snapshot(db)
    db.write_bytes(b"new articles")
    assert snapshot.publish_snapshot(db, changed=True).read_bytes() == b"new articles"
