"""The raw-HTML archive: per-run Parquet files registered by the load transaction."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from policy_news import staging
from policy_news.store import connection, html_archive


def _stage(path: Path, ids: list[str]) -> str:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    staging.write(
        "article_html",
        [
            {
                "article_id": i,
                "url": f"https://a.example/{i}",
                "fetched_at": now,
                "raw_html_gz": gzip.compress(f"<html>{i}</html>".encode()),
            }
            for i in ids
        ],
        path,
    )
    return str(path)


def test_write_run_keeps_loaded_articles_once(tmp_path: Path) -> None:
    files = [
        _stage(tmp_path / "h1.parquet", ["a", "b", "c"]),
        _stage(tmp_path / "h2.parquet", ["b", "d"]),
    ]
    db = tmp_path / "db" / "news.duckdb"
    archived = html_archive.write_run("run 1", files, pa.array(["a", "b", "d", None]), db)
    assert archived is not None and archived.articles == 3
    target = html_archive.archive_dir(db) / archived.file_name
    assert target.parent.name == "news_raw_html" and target.exists()
    rows = staging.read("article_html", [target]).column("article_id").to_pylist()
    assert sorted(rows) == ["a", "b", "d"]  # c was not loaded; b only once


def test_nothing_to_archive_writes_no_file(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    files = [_stage(tmp_path / "h1.parquet", ["a"])]
    assert html_archive.write_run("r", files, pa.array([], pa.string()), db) is None
    assert html_archive.write_run("r", files, pa.array(["zz"]), db) is None
    assert not list(html_archive.archive_dir(db).glob("*.parquet"))


def test_sweep_removes_only_unregistered_files(tmp_path: Path) -> None:
    db = tmp_path / "news.duckdb"
    files = [_stage(tmp_path / "h1.parquet", ["a", "b"])]
    kept = html_archive.write_run("kept", files, pa.array(["a"]), db)
    orphan = html_archive.write_run("crashed", files, pa.array(["b"]), db)
    assert kept and orphan
    (html_archive.archive_dir(db) / "half.parquet.tmp").write_bytes(b"x")
    with connection.open_db(db) as conn:
        conn.execute("INSERT INTO html_archive VALUES ('kept', ?, 1, 1, now())", [kept.file_name])
        removed = html_archive.sweep_orphans(conn, db)
    assert sorted(removed) == sorted([orphan.file_name, "half.parquet.tmp"])
    assert [p.name for p in html_archive.archive_dir(db).iterdir()] == [kept.file_name]
