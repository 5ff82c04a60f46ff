"""The review loop on a real DuckDB file: export a sheet, fill it, import it, and the
analyst views follow the reviewer, also after re-tagging."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from policy_news.pipeline.retag import retag_articles
from policy_news.settings import get_settings
from policy_news.tagging import review
from policy_news.tagging.tagger import Tagger

ARTICLES = [
    # id, title, summary, text, published_at
    (
        "a-ice",
        "ICE agents arrest 40 in Texas raid",
        None,
        "Immigration and Customs Enforcement agents arrested 40 people in Houston, Texas. "
        "Protesters rallied outside the detention center.",
        datetime(2025, 3, 2, tzinfo=UTC),
    ),
    (
        "b-weather",
        "Mild weather expected",
        None,
        "Forecasters expect a mild, sunny week.",
        datetime(2025, 3, 2, tzinfo=UTC),
    ),
    (
        "c-border",
        "Border wall funding debated",
        None,
        None,
        datetime(2025, 3, 3, tzinfo=UTC),
    ),
    # Scores in the taxonomy's review band: the tagger is unsure.
    (
        "d-parole",
        "Sect leader leaves prison again",
        "Despite parole rules, the inmate met followers online.",
        None,
        datetime(2025, 3, 4, tzinfo=UTC),
    ),
    # A syndicated copy of a-ice: never on a sheet.
    (
        "e-copy",
        "ICE agents arrest 40 in Texas raid",
        None,
        "Immigration and Customs Enforcement agents arrested 40 people in Houston, Texas.",
        datetime(2025, 3, 2, tzinfo=UTC),
    ),
]


@pytest.fixture
def db(migrated_db: Path, tagger: Tagger) -> Path:
    con = duckdb.connect(str(migrated_db))
    now = datetime.now(UTC)
    for article_id, title, summary, text, published in ARTICLES:
        url = f"https://example.org/{article_id}"
        con.execute(
            "INSERT INTO articles (article_id, url, feed_name, title, summary, text, published_at, "
            "date_source, fetched_at, first_run_id, last_run_id, loaded_at) "
            "VALUES (?, ?, 'feed', ?, ?, ?, ?, 'feed', ?, 'r1', 'r1', ?)",
            [article_id, url, title, summary, text, published, published, now],
        )
    con.execute("UPDATE articles SET duplicate_of = 'a-ice' WHERE article_id = 'e-copy'")
    con.close()
    retag_articles(migrated_db, tagger, None, None)
    return migrated_db


def _tagger_with_version(tmp_path: Path, version: str) -> Tagger:
    path = tmp_path / f"tax-{version}.yaml"
    text = get_settings().taxonomy_path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"^version: .*$", f'version: "{version}"', text, flags=re.M), encoding="utf-8"
    )
    return Tagger.from_path(path)


def _export(db: Path, path: Path, **kwargs: Any) -> list[dict[str, str]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        review.export_sheet(conn, path, **kwargs)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or list(review.SHEET_COLUMNS)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _import(db: Path, path: Path, reviewer: str, tagger: Tagger, at: datetime | None = None) -> int:
    with duckdb.connect(str(db)) as conn:
        return review.import_sheet(conn, path, reviewer, tagger.subtopic_ids, reviewed_at=at)


def _fill(rows: list[dict[str, str]], decisions: dict[str, tuple[str, str, str]]) -> None:
    for row in rows:
        if row["article_id"] in decisions:
            answer, subtopics, note = decisions[row["article_id"]]
            row.update(reviewer_relevant=answer, reviewer_subtopics=subtopics, reviewer_note=note)


def _query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _views(db: Path) -> dict[str, Any]:
    """What analysts see, with taxonomy versions left out (they change on re-tagging)."""
    return {
        "relevant": dict(_query(db, "SELECT article_id, relevant FROM current_article_relevance")),
        "topics": sorted(
            _query(db, "SELECT article_id, subtopic, evidence, field FROM current_article_topics")
        ),
        "daily": sorted(
            _query(db, "SELECT day, subtopic, articles FROM relevant_daily_by_subtopic")
        ),
        "fact_articles": sorted(
            {r[0] for r in _query(db, "SELECT article_id FROM current_article_facts")}
        ),
        "count_articles": sorted(
            {r[0] for r in _query(db, "SELECT article_id FROM reported_counts")}
        ),
    }


def test_sheet_holds_borderline_articles_and_a_seeded_sample(db: Path, tmp_path: Path) -> None:
    rows = _export(db, tmp_path / "one.csv", sample_size=1)
    again = _export(db, tmp_path / "two.csv", sample_size=1)
    assert [r["article_id"] for r in rows] == [r["article_id"] for r in again]
    assert rows[0]["article_id"] == "d-parole" and rows[0]["needs_review"] == "yes"
    assert 0.35 <= float(rows[0]["probability"]) <= 0.65
    assert len(rows) == 2 and rows[1]["needs_review"] == "no"
    everything = _export(db, tmp_path / "all.csv")
    assert {r["article_id"] for r in everything} == {"a-ice", "b-weather", "c-border", "d-parole"}
    assert list(everything[0]) == list(review.SHEET_COLUMNS)
    assert all(not r["reviewer_relevant"] and not r["reviewer_subtopics"] for r in everything)
    assert len(_export(db, tmp_path / "capped.csv", limit=1)) == 1


def test_sheet_shows_the_machines_tags_and_evidence(db: Path, tmp_path: Path) -> None:
    rows = {r["article_id"]: r for r in _export(db, tmp_path / "sheet.csv")}
    ice = rows["a-ice"]
    assert ice["relevant"] == "yes" and ice["day"] == "2025-03-02"
    assert ice["link"] == "https://example.org/a-ice"
    assert "arrests_operations" in ice["subtopics"].split("; ")
    assert ice["evidence"].startswith("relevance: ")
    assert "arrests_operations: " in ice["evidence"]
    assert rows["b-weather"]["relevant"] == "no" and rows["b-weather"]["subtopics"] == ""


def test_round_trip_changes_the_views_and_survives_retagging(
    db: Path, tmp_path: Path, tagger: Tagger
) -> None:
    before = _views(db)
    assert before["relevant"]["a-ice"] is True and "a-ice" in before["count_articles"]
    sheet = tmp_path / "sheet.csv"
    rows = _export(db, sheet)
    _fill(
        rows,
        {
            "a-ice": ("no", "", "a drill, not a raid"),
            "c-border": ("yes", "protest_politics; courts_litigation", ""),
            "d-parole": ("Yes", "courts_litigation", "immigration parole after all"),
            "b-weather": ("n", "", ""),
        },
    )
    _write(sheet, rows)
    assert _import(db, sheet, "alice", tagger) == 4

    after = _views(db)
    assert after["relevant"] == {
        "a-ice": False,
        "b-weather": False,
        "c-border": True,
        "d-parole": True,
        "e-copy": True,  # not reviewed: the machine's decision stands
    }
    topics = {(a, s): (e, f) for a, s, e, f in after["topics"]}
    assert not [key for key in topics if key[0] == "a-ice"]
    assert {s for a, s in topics if a == "c-border"} == {"protest_politics", "courts_litigation"}
    assert topics[("c-border", "courts_litigation")] == ("reviewer: alice", "review")
    assert {s for a, s in topics if a == "d-parole"} == {"courts_litigation"}
    assert "a-ice" not in after["fact_articles"] and "a-ice" not in after["count_articles"]
    days = {(str(day), subtopic): n for day, subtopic, n in after["daily"]}
    assert ("2025-03-02", "arrests_operations") not in days  # a-ice was its only article
    assert days[("2025-03-04", "courts_litigation")] == 1
    stored = _query(db, "SELECT note FROM tag_reviews WHERE article_id = 'd-parole'")
    assert stored == [("immigration parole after all",)]

    newer = _tagger_with_version(tmp_path, "next-2")
    retag_articles(db, newer, None, None)
    machine = _query(
        db,
        "SELECT relevant FROM article_relevance WHERE article_id = 'a-ice' AND "
        "taxonomy_version = 'next-2'",
    )
    assert machine == [(True,)]  # the machine still says relevant ...
    assert _views(db) == after  # ... and the reviewer's decision still wins


def test_reimporting_replaces_the_reviewers_earlier_decision(
    db: Path, tmp_path: Path, tagger: Tagger
) -> None:
    sheet = tmp_path / "sheet.csv"
    rows = _export(db, sheet)
    _fill(rows, {"a-ice": ("no", "", "first look")})
    _write(sheet, rows)
    _import(db, sheet, "alice", tagger)
    _fill(rows, {"a-ice": ("yes", "detention", "second look")})
    _write(sheet, rows)
    _import(db, sheet, "alice", tagger)
    assert _query(db, "SELECT reviewer, relevant, subtopics, note FROM tag_reviews") == [
        ("alice", True, ["detention"], "second look")
    ]


def test_latest_decision_wins_across_reviewers(db: Path, tmp_path: Path, tagger: Tagger) -> None:
    sheet = tmp_path / "sheet.csv"
    rows = _export(db, sheet)
    _fill(rows, {"a-ice": ("no", "", "")})
    _write(sheet, rows)
    _import(db, sheet, "alice", tagger, datetime(2026, 1, 1, tzinfo=UTC))
    _fill(rows, {"a-ice": ("yes", "", "")})
    _write(sheet, rows)
    _import(db, sheet, "bob", tagger, datetime(2026, 1, 2, tzinfo=UTC))
    assert _query(
        db, "SELECT relevant, reviewer FROM current_article_relevance WHERE article_id = 'a-ice'"
    ) == [(True, "bob")]
    # bob left the subtopics blank: the machine's stand
    fields = _query(
        db, "SELECT DISTINCT field FROM current_article_topics WHERE article_id = 'a-ice'"
    )
    assert fields and ("review",) not in fields


def _bad_sheet(rows: list[dict[str, str]], fault: str) -> tuple[list[dict[str, str]], list[str]]:
    """A sheet with a good first decision and one fault; returns rows and columns."""
    columns = list(review.SHEET_COLUMNS)
    _fill(rows, {"a-ice": ("no", "", "fine row")})
    if fault == "unknown subtopic":
        _fill(rows, {"c-border": ("yes", "border; detentoin", "")})
    elif fault == "bad yes/no":
        _fill(rows, {"c-border": ("maybe", "", "")})
    elif fault == "unknown article id":
        _fill(rows, {"c-border": ("yes", "", "")})
        for row in rows:
            if row["article_id"] == "c-border":
                row["article_id"] = "zz-missing"
    elif fault == "missing column":
        columns.remove("reviewer_note")
    return rows, columns


@pytest.mark.parametrize(
    ("fault", "column", "message"),
    [
        ("unknown subtopic", "reviewer_subtopics", "unknown subtopic 'detentoin'"),
        ("bad yes/no", "reviewer_relevant", "'maybe' is not yes or no"),
        ("unknown article id", "article_id", "unknown article id 'zz-missing'"),
        ("missing column", "", "missing column(s) reviewer_note"),
    ],
)
def test_bad_sheet_names_row_and_column_and_imports_nothing(
    db: Path, tmp_path: Path, tagger: Tagger, fault: str, column: str, message: str
) -> None:
    sheet = tmp_path / "sheet.csv"
    rows = _export(db, sheet)
    row_number = 2 + [r["article_id"] for r in rows].index("c-border")
    rows, columns = _bad_sheet(rows, fault)
    _write(sheet, rows, columns)
    with pytest.raises(review.SheetError) as raised:
        _import(db, sheet, "alice", tagger)
    text = str(raised.value)
    where = f"row {row_number}, column {column}" if column else "row 1 (header)"
    assert where in text and message in text, text
    assert _query(db, "SELECT count(*) FROM tag_reviews") == [(0,)]


def test_every_bad_cell_is_listed(db: Path, tmp_path: Path, tagger: Tagger) -> None:
    sheet = tmp_path / "sheet.csv"
    rows = _export(db, sheet)
    _fill(rows, {"a-ice": ("maybe", "", ""), "c-border": ("no", "border", "")})
    _write(sheet, rows)
    with pytest.raises(review.SheetError) as raised:
        _import(db, sheet, "alice", tagger)
    assert "column reviewer_relevant: 'maybe'" in str(raised.value)
    assert "subtopics given for an article reviewed as not relevant" in str(raised.value)


def test_unreviewed_rows_are_skipped(db: Path, tmp_path: Path, tagger: Tagger) -> None:
    sheet = tmp_path / "sheet.csv"
    _export(db, sheet)
    assert _import(db, sheet, "alice", tagger) == 0
