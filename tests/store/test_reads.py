"""Reads for planning: which feeds are due, which articles are stored, what to retry."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from policy_news.store import connection, loader, reads
from tests.store.conftest import FEED, NOW, article, failure, fetch, load_input

if TYPE_CHECKING:
    from pathlib import Path


def test_a_feed_is_due_once_its_next_poll_comes_or_when_polling_all(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [], [fetch("run-1")]))
        (next_poll,) = conn.execute("SELECT next_poll_at FROM feeds").fetchone()
        just_after = NOW + timedelta(minutes=1)
        assert reads.feeds_due(conn, [FEED], just_after) == []
        assert reads.feeds_due(conn, [FEED], just_after, poll_all=True) == [FEED]
        assert reads.feeds_due(conn, [FEED], next_poll) == [FEED]


def test_an_auto_disabled_feed_is_not_due_even_when_polling_all(db: Path) -> None:
    with connection.open_db(db) as conn:
        for i in range(loader.HARD_FAILURES_TO_DISABLE):
            loader.load_run(conn, load_input(f"run-{i}", [], [fetch(f"run-{i}", 410, "error")]))
        an_hour_on = NOW + timedelta(hours=1)
        assert reads.feeds_due(conn, [FEED], an_hour_on) == []
        assert reads.feeds_due(conn, [FEED], an_hour_on, poll_all=True) == []


def test_a_failure_is_retried_until_its_attempts_run_out(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [], failures=[failure("f1")]))
        loader.load_run(conn, load_input("run-2", [], failures=[failure("f1")]))
        retry = reads.retryable_failures(conn, max_attempts=3)
        assert retry.column("article_id").to_pylist() == ["f1"]
        assert reads.retryable_failures(conn, max_attempts=2).num_rows == 0
        assert reads.exhausted_failures(conn, ["f1", "other"], max_attempts=2) == {"f1"}
        assert reads.exhausted_failures(conn, ["f1"], max_attempts=3) == set()


def test_known_article_ids_are_the_stored_ones(db: Path) -> None:
    with connection.open_db(db) as conn:
        loader.load_run(conn, load_input("run-1", [article("a1")]))
        assert reads.known_article_ids(conn, ["a1", "new"]) == {"a1"}
        assert reads.known_article_ids(conn, []) == set()
