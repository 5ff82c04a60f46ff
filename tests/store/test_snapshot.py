"""The analysts' snapshot: published on a first run and after changes, skipped otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from policy_news.store.snapshot import publish_snapshot, snapshot_path_for

if TYPE_CHECKING:
    from pathlib import Path


def test_first_run_publishes_even_when_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    published = publish_snapshot(db, changed=False)
    assert published == snapshot_path_for(db)
    assert published.read_bytes() == b"first"


def test_snapshot_is_not_copied_when_nothing_changed(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    publish_snapshot(db)
    db.write_bytes(b"run bookkeeping only")
    published = publish_snapshot(db, changed=False)
    assert published.read_bytes() == b"first"


def test_snapshot_is_republished_after_a_change(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(b"first")
    publish_snapshot(db)
    db.write_bytes(b"new articles")
    assert publish_snapshot(db, changed=True).read_bytes() == b"new articles"
