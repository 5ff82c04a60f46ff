"""`policy-news review export` / `import` from the command line."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from policy_news.cli import main
from policy_news.pipeline.retag import retag_articles
from policy_news.tagging.tagger import Tagger


@pytest.fixture
def db(migrated_db: Path, tagger: Tagger) -> Path:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with duckdb.connect(str(migrated_db)) as con:
        for article_id, title in (
            ("a", "ICE agents arrest 40 in Texas raid"),
            ("b", "Mild weather"),
        ):
            con.execute(
                "INSERT INTO articles (article_id, url, feed_name, title, date_source, fetched_at, "
                "first_run_id, last_run_id, loaded_at) VALUES (?, 'u', 'f', ?, 'unknown', ?, "
                "'r', 'r', ?)",
                [article_id, title, now, now],
            )
    retag_articles(migrated_db, tagger, None, None)
    return migrated_db


def test_export_then_import_from_the_command_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.csv"
    assert main(["review", "export", "--db", str(db), "--out", str(sheet)]) == 0
    assert "2 articles written" in capsys.readouterr().out
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        columns = list(reader.fieldnames or [])
    rows[0]["reviewer_relevant"] = "no"
    with sheet.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    assert main(["review", "import", str(sheet), "--reviewer", "alice", "--db", str(db)]) == 0
    assert "1 decisions by alice stored" in capsys.readouterr().out
    assert (db.parent / f"{db.stem}.snapshot.duckdb").exists()


def test_a_bad_sheet_exits_2_with_the_row_and_column(
    db: Path, tmp_path: Path, tagger: Tagger, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "article_id,taxonomy_version,reviewer_relevant,reviewer_subtopics,reviewer_note\n"
        f"a,{tagger.version},perhaps,,\n",
        encoding="utf-8",
    )
    assert main(["review", "import", str(sheet), "--reviewer", "bob", "--db", str(db)]) == 2
    assert "row 2, column reviewer_relevant: 'perhaps' is not yes or no" in capsys.readouterr().err
