"""The analyst views: human decisions over the machine's, and reported counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from policy_news.store import connection, schema

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _article(con: duckdb.DuckDBPyConnection, article_id: str, **columns: Any) -> None:
    values = {
        "article_id": article_id,
        "url": f"https://example.org/{article_id}",
        "feed_name": "wire",
        "title": article_id,
        "published_at": NOW,
        "date_source": "feed",
        "fetched_at": NOW,
        "first_run_id": "r1",
        "last_run_id": "r1",
        "loaded_at": NOW,
        "relevant": True,
        "taxonomy_version": "v1",
        **columns,
    }
    names = ", ".join(values)
    con.execute(
        f"INSERT INTO articles ({names}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def _topic(con: duckdb.DuckDBPyConnection, article_id: str, subtopic: str) -> None:
    con.execute(
        "INSERT INTO article_topics VALUES (?, ?, 'v1', 0.8, 'the sentence', 'text', 0, 5, 'r')",
        [article_id, subtopic],
    )


def _fact(
    con: duckdb.DuckDBPyConnection, article_id: str, index: int, kind: str, value: str, **attrs: Any
) -> None:
    con.execute(
        "INSERT INTO article_facts VALUES (?, 'v1', ?, ?, ?, ?, 'sentence', 'text', 0, 5, 'r', ?)",
        [article_id, index, kind, value, value, json.dumps(attrs)],
    )


def _review(
    con: duckdb.DuckDBPyConnection,
    article_id: str,
    relevant: bool,
    subtopics: list[str] | None = None,
    reviewer: str = "alice",
    day: int = 3,
) -> None:
    con.execute(
        "INSERT INTO tag_reviews VALUES (?, ?, ?, 'v1', ?, ?, NULL)",
        [article_id, reviewer, datetime(2026, 3, day, tzinfo=UTC), relevant, subtopics],
    )


@pytest.fixture
def con(migrated_db: Path) -> Any:
    conn = duckdb.connect(str(migrated_db))
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("INSERT INTO taxonomy_versions VALUES ('v1', ?, TRUE, NULL)", [NOW])
    conn.execute(
        "INSERT INTO feeds (feed_name, url, added_at, updated_at) VALUES ('wire', 'u', ?, ?)",
        [NOW, NOW],
    )
    yield conn
    conn.close()


def test_reviewed_not_relevant_leaves_topics_facts_and_counts(con: Any) -> None:
    _article(con, "a")
    _topic(con, "a", "detention")
    _fact(con, "a", 0, "count", "12", counts="arrests", unit="count")
    _fact(con, "a", 1, "agency", "ICE")
    _review(con, "a", False)
    assert con.execute("SELECT * FROM current_article_topics").fetchall() == []
    assert con.execute("SELECT * FROM current_article_facts").fetchall() == []
    assert con.execute("SELECT * FROM relevant_daily_by_subtopic").fetchall() == []
    assert con.execute("SELECT * FROM agencies_weekly").fetchall() == []
    assert con.execute("SELECT * FROM reported_counts").fetchall() == []
    assert con.execute("SELECT relevant_articles FROM feed_summary").fetchall() == [(0,)]


def test_reviewed_subtopics_replace_the_machines(con: Any) -> None:
    _article(con, "a")
    _topic(con, "a", "detention")
    _review(con, "a", True, ["border", "courts_litigation"], reviewer="bob")
    rows = con.execute(
        "SELECT subtopic, taxonomy_version, evidence, field, start_offset, rule_id "
        "FROM current_article_topics ORDER BY subtopic"
    ).fetchall()
    assert rows == [
        ("border", "v1", "reviewer: bob", "review", None, "review"),
        ("courts_litigation", "v1", "reviewer: bob", "review", None, "review"),
    ]
    daily = con.execute("SELECT subtopic, articles FROM relevant_daily_by_subtopic ORDER BY 1")
    assert daily.fetchall() == [("border", 1), ("courts_litigation", 1)]


def test_relevant_review_without_subtopics_keeps_the_machines(con: Any) -> None:
    _article(con, "a")
    _topic(con, "a", "detention")
    _review(con, "a", True, None)
    assert con.execute("SELECT subtopic, field FROM current_article_topics").fetchall() == [
        ("detention", "text")
    ]


def test_reviewed_relevant_counts_an_article_the_machine_missed(con: Any) -> None:
    _article(con, "a", relevant=False)
    _review(con, "a", True, ["worksite"])
    assert con.execute("SELECT subtopic FROM relevant_daily_by_subtopic").fetchall() == [
        ("worksite",)
    ]
    assert con.execute("SELECT relevant_articles FROM feed_summary").fetchall() == [(1,)]
    relevance = con.execute(
        "SELECT relevant, machine_relevant, reviewed_relevant, reviewer "
        "FROM current_article_relevance"
    ).fetchall()
    assert relevance == [(True, False, True, "alice")]


def test_the_latest_decision_counts(con: Any) -> None:
    _article(con, "a")
    _topic(con, "a", "detention")
    _review(con, "a", False, reviewer="alice", day=3)
    _review(con, "a", True, ["border"], reviewer="bob", day=5)
    assert con.execute("SELECT subtopic, evidence FROM current_article_topics").fetchall() == [
        ("border", "reviewer: bob")
    ]


def test_unreviewed_articles_keep_the_machines_tags(con: Any) -> None:
    _article(con, "a")
    _topic(con, "a", "detention")
    _article(con, "b", relevant=False)
    assert con.execute("SELECT article_id, subtopic FROM current_article_topics").fetchall() == [
        ("a", "detention")
    ]
    assert con.execute("SELECT relevant_articles FROM feed_summary").fetchall() == [(1,)]


def test_reported_counts_leave_out_syndicated_copies_and_shares(con: Any) -> None:
    _article(con, "a")
    _article(con, "copy", duplicate_of="a")
    for article_id in ("a", "copy"):
        _fact(con, article_id, 0, "count", "200", counts="arrests", unit="count")
    _fact(con, "a", 1, "share", "0.4", of="detainees", unit="share")
    rows = con.execute("SELECT article_id, number, counts FROM reported_counts").fetchall()
    assert rows == [("a", "200", "arrests")]


def test_reported_counts_expose_how_exact_a_count_is(con: Any) -> None:
    _article(con, "a")
    _fact(
        con,
        "a",
        0,
        "count",
        "200",
        counts="arrests",
        unit="count",
        approximate=True,
        low=200,
        high=300,
        cumulative=True,
        claimant="DHS",
    )
    _fact(con, "a", 1, "count", "100", counts="people", unit="count", lower_bound=True)
    rows = con.execute(
        "SELECT number, approximate, lower_bound, low, high, cumulative, claimant "
        "FROM reported_counts ORDER BY number DESC"
    ).fetchall()
    assert rows == [
        ("200", True, False, 200.0, 300.0, True, "DHS"),
        ("100", None, True, None, None, False, None),
    ]


def test_stories_view_follows_reviews_when_005_runs_after_006(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Existing databases got 006 before 005 existed: 005 then applies after it."""
    everything = schema.migration_files()
    db = tmp_path / "old.duckdb"
    with monkeypatch.context() as patched:
        patched.setattr(schema, "migration_files", lambda: [m for m in everything if m[0] != 5])
        with connection.open_db(db):
            pass
    with connection.open_db(db) as con:
        applied = con.execute("SELECT name FROM schema_migrations ORDER BY applied_at").fetchall()
        assert applied[-1] == ("005_reviews.sql",)
        con.execute("INSERT INTO taxonomy_versions VALUES ('v1', ?, TRUE, NULL)", [NOW])
        _article(con, "a", story_id="a")
        _topic(con, "a", "detention")
        con.execute(
            "INSERT INTO stories VALUES ('a', ?, ?, 't', 1, 1, ['wire'], NULL, NULL, NULL, NULL, "
            "NULL, ?)",
            [NOW.date(), NOW.date(), NOW],
        )
        _review(con, "a", True, ["border"])
        rows = con.execute("SELECT subtopic, stories FROM stories_daily_by_subtopic").fetchall()
    assert rows == [("border", 1)]
