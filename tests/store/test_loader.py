"""The loader: one transaction per run, idempotent, keeping feed health and rhythm."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import duckdb
import pytest

from policy_news import staging
from policy_news.store import connection, loader
from tests.store.conftest import NOW, article, failure, fetch, load_input, row_counts

if TYPE_CHECKING:
    from pathlib import Path

    from policy_news.settings import Settings


def test_loading_the_same_run_twice_adds_no_rows(db: Path) -> None:
    load = load_input("run-1", [article("a1"), article("a2", "Other text entirely. " * 20)])
    with connection.open_db(db) as conn:
        loader.load_run(conn, load)
    first = row_counts(db)
    with connection.open_db(db) as conn:
        loader.load_run(conn, load)
    assert row_counts(db) == first
    assert first["articles"] == 2 and first["article_topics"] == 2


def test_a_later_run_updates_in_place_and_keeps_first_run_id(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [article("a1")]))
        loader.load_run(conn, load_input("run-2", [article("a1", "Updated text. " * 30)]))
        row = conn.execute("SELECT first_run_id, last_run_id, text FROM articles").fetchall()
    assert row == [("run-1", "run-2", "Updated text. " * 30)]


def test_failed_load_leaves_the_database_unchanged(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [article("a1")]))
    before = row_counts(db)
    bad = load_input("run-2", [article("b1")])
    bad.tables["article_topics"] = bad.tables["article_topics"].drop_columns(["evidence"])
    with connection.open_db(db) as conn, pytest.raises(duckdb.Error):
        loader.load_run(conn, bad)
    assert row_counts(db) == before


def test_syndicated_copy_is_linked_to_the_first_article(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [article("a1")]))
        loader.load_run(conn, load_input("run-2", [article("z9")]))  # same text, other URL
        rows = conn.execute("SELECT article_id, duplicate_of FROM articles ORDER BY 1").fetchall()
    assert rows == [("a1", None), ("z9", "a1")]


def test_feed_is_auto_disabled_after_repeated_hard_failures(db: Path) -> None:
    with connection.open_db(db) as conn:
        for i in range(loader.HARD_FAILURES_TO_DISABLE):
            loader.load_run(conn, load_input(f"run-{i}", [], [fetch(f"run-{i}", 410, "error")]))
        health = conn.execute("SELECT health, auto_disabled_reason FROM feed_health").fetchone()
    assert health is not None and health[0] == "auto_disabled"
    assert "5 consecutive hard failures" in health[1]


def test_failures_count_attempts_across_runs_not_reloads(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [], failures=[failure("f1")]))
        loader.load_run(conn, load_input("run-1", [], failures=[failure("f1")]))
        loader.load_run(conn, load_input("run-2", [], failures=[failure("f1")]))
        attempts = conn.execute("SELECT attempts FROM fetch_failures").fetchone()
    assert attempts == (2,)


def test_a_new_feed_is_next_polled_after_the_shortest_interval(
    db: Path, settings: Settings
) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [], [fetch("run-1")]))
        interval, next_poll = conn.execute(
            "SELECT poll_interval_minutes, next_poll_at FROM feeds"
        ).fetchone()
    assert interval == settings.min_poll_minutes
    assert next_poll == NOW + timedelta(minutes=settings.min_poll_minutes)


def test_a_feed_with_new_items_twice_a_day_is_polled_less_often(db: Path) -> None:
    with connection.open_db(db) as conn:
        for i in range(4):
            twelve_hourly = replace(
                fetch(f"run-{i}"), fetched_at=NOW + timedelta(hours=12 * i), items_new=3
            )
            loader.load_run(conn, load_input(f"run-{i}", [], [twelve_hourly]))
        interval = conn.execute("SELECT poll_interval_minutes FROM feeds").fetchone()[0]
    assert interval == 360  # 12 h rhythm -> every 6 h, the cap


def test_load_keeps_the_probability_and_review_flag(db: Path) -> None:
    load = load_input("run-1", [article("a1")])
    relevance = load.tables["article_relevance"].to_pylist()
    relevance[0].update(relevance_probability=0.42, needs_review=True)
    tables = {**load.tables, "article_relevance": staging.to_table("article_relevance", relevance)}
    with connection.open_db(db) as conn:
        loader.load_run(conn, replace(load, tables=tables))
        stored = conn.execute(
            "SELECT r.relevance_probability, r.needs_review, a.relevance_probability, "
            "a.needs_review FROM article_relevance r JOIN articles a USING (article_id)"
        ).fetchall()
    assert stored == [(0.42, True, 0.42, True)]


def test_a_reworded_reprint_is_a_near_duplicate_in_its_originals_story(db: Path) -> None:
    import json
    from pathlib import Path as _Path

    from policy_news.stories.synthetic import rewrite

    fixture = _Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "articles.jsonl"
    texts = {r["article_id"]: r for r in map(json.loads, fixture.read_text().splitlines())}
    reprint = rewrite("a1", texts["a1"]["title"], texts["a1"]["text"], 2).text
    copy = replace(article("b-copy", reprint), content_hash="hash-reprint")
    with connection.open_db(db) as conn:
        first = loader.load_run(conn, load_input("run-1", [article("a1", texts["a1"]["text"])]))
        second_run = load_input("run-2", [copy, article("c1", texts["c1"]["text"])])
        second = loader.load_run(conn, second_run)
        again = loader.load_run(conn, second_run)
        rows = conn.execute(
            "SELECT article_id, duplicate_of, near_duplicate_of, story_id FROM articles ORDER BY 1"
        ).fetchall()
        timings = conn.execute(
            "SELECT timings FROM pipeline_runs WHERE run_id = 'run-2'"
        ).fetchone()
    assert rows == [
        ("a1", None, None, "a1"),
        ("b-copy", None, "a1", "a1"),
        ("c1", None, None, "c1"),
    ]
    assert (first["near_duplicates"], first["stories_assigned"], first["new_stories"]) == (0, 1, 1)
    assert (second["near_duplicates"], second["stories_assigned"], second["new_stories"]) == (
        1,
        2,
        1,
    )
    # Reloading the batch finds the copy again but assigns nothing new.
    assert (again["near_duplicates"], again["stories_assigned"]) == (1, 0)
    assert timings is not None and "stories" in json.loads(timings[0])
