"""Exports: monthly partitions, a README generated from DESCRIBE, no raw HTML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from policy_news.reporting.export import export


def _relative(paths: list[Path], root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in paths}


def _sql(query: str) -> list[tuple]:
    with duckdb.connect() as conn:
        return conn.execute(query).fetchall()


def _columns(pattern: Path) -> list[str]:
    return [row[0] for row in _sql(f"DESCRIBE SELECT * FROM '{pattern}'")]


def test_parquet_datasets_are_partitioned_by_month(snapshot: Path, tmp_path: Path) -> None:
    files = _relative(export(snapshot, tmp_path, None, "parquet"), tmp_path)
    assert {
        "articles/month=2025-12/part-0.parquet",
        "articles/month=2026-01/part-0.parquet",
        "articles/month=2026-02/part-0.parquet",
        "article_topics/month=2026-02/part-0.parquet",
        "article_facts/month=2026-02/part-0.parquet",
        "reported_counts/month=2026-01/part-0.parquet",
        "feed_health/part-0.parquet",
        "README.md",
    } <= files
    rows = _sql(
        f"SELECT month, count(*) FROM read_parquet('{tmp_path}/articles/*/*.parquet', "
        "hive_partitioning = true) GROUP BY 1 ORDER BY 1"
    )
    assert rows == [("2025-12", 1), ("2026-01", 2), ("2026-02", 4)]


def test_only_the_current_taxonomy_version_is_exported(snapshot: Path, tmp_path: Path) -> None:
    export(snapshot, tmp_path, None, "parquet")
    versions = _sql(
        f"SELECT DISTINCT taxonomy_version FROM '{tmp_path}/article_topics/*/*.parquet'"
    )
    assert versions == [("tx-1",)]


def test_no_raw_html_is_exported(snapshot: Path, tmp_path: Path) -> None:
    files = _relative(export(snapshot, tmp_path, None, "parquet"), tmp_path)
    assert not [f for f in files if "html" in f]
    for dataset in ("articles", "article_topics", "article_facts", "reported_counts"):
        columns = _columns(tmp_path / dataset / "*" / "*.parquet")
        assert not [c for c in columns if "html" in c], dataset


def test_readme_lists_every_dataset_and_its_columns(snapshot: Path, tmp_path: Path) -> None:
    export(snapshot, tmp_path, None, "parquet")
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    for dataset in (
        "articles",
        "article_topics",
        "article_facts",
        "reported_counts",
        "stories",
        "stories_daily_by_subtopic",
        "stories_by_state",
        "story_counts",
        "feed_health",
    ):
        assert f"## {dataset}\n" in readme
        pattern = "*.parquet" if dataset in ("feed_health", "stories") else "*/*.parquet"
        for column in _columns(tmp_path / dataset / pattern):
            assert f"| `{column}`" in readme, (dataset, column)
    assert "| `evidence` | VARCHAR |" in readme
    assert "7 rows in 3 file(s): `articles/month=*/part-*.parquet`" in readme


def test_since_keeps_later_days_only(snapshot: Path, tmp_path: Path) -> None:
    files = _relative(export(snapshot, tmp_path, date(2026, 2, 1), "parquet"), tmp_path)
    assert not [f for f in files if "month=2025-12" in f or "month=2026-01" in f]
    days = _sql(f"SELECT min(day) FROM '{tmp_path}/articles/*/*.parquet'")[0]
    assert days == (date(2026, 2, 3),)
    assert "feed_health/part-0.parquet" in files


def test_csv_files_keep_the_month_in_their_rows(snapshot: Path, tmp_path: Path) -> None:
    files = _relative(export(snapshot, tmp_path, None, "csv"), tmp_path)
    assert "articles/month=2026-01/part-0.csv" in files
    header = (tmp_path / "articles/month=2026-01/part-0.csv").read_text().splitlines()[0]
    assert header.split(",")[-1] == "month"


def test_stories_and_their_counts_are_exported(snapshot: Path, tmp_path: Path) -> None:
    files = _relative(export(snapshot, tmp_path, None, "parquet"), tmp_path)
    assert "stories/part-0.parquet" in files
    assert "stories_daily_by_subtopic/month=2026-02/part-0.parquet" in files
    assert "story_id" in _columns(tmp_path / "articles" / "*" / "*.parquet")
    # a1 and its wire copy a5 report 120 arrests: one row, both articles behind it.
    counts = _sql(
        f"SELECT story_id, number, outlets_agree, independent_reports "
        f"FROM '{tmp_path}/story_counts/*/*.parquet' WHERE counts = 'arrests'"
    )
    assert counts == [("a1", 120.0, True, 1)]


def test_a_second_export_replaces_the_first(snapshot: Path, tmp_path: Path) -> None:
    export(snapshot, tmp_path, None, "parquet")
    files = _relative(export(snapshot, tmp_path, date(2026, 2, 1), "parquet"), tmp_path)
    on_disk = _relative([p for p in tmp_path.rglob("*") if p.is_file()], tmp_path)
    assert on_disk == files


def test_a_folder_not_written_by_an_export_is_left_alone(snapshot: Path, tmp_path: Path) -> None:
    mine = tmp_path / "articles" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")
    with pytest.raises(FileExistsError, match="articles"):
        export(snapshot, tmp_path, None, "parquet")
    assert mine.read_text() == "keep me"


def test_unknown_format_is_refused(snapshot: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="xlsx"):
        export(snapshot, tmp_path, None, "xlsx")
