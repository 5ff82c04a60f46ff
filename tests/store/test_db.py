from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from policy_news import staging
from policy_news.models import Article, ArticleFailure, FeedFetch, FeedItem
from policy_news.settings import get_settings
from policy_news.sources.registry import FeedConfig
from policy_news.store import connection, loader, reads, schema, snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
MIGRATIONS_DIR = Path(schema.__file__).resolve().parent / "migrations"
FEED = FeedConfig(name="fixture", url="https://news.example.org/feed.rss")


def _article(article_id: str, text: str = "Deportation flight story. " * 20) -> Article:
    return Article(
        article_id=article_id,
        url=f"https://news.example.org/{article_id}",
        final_url=None or "",
        feed_name="fixture",
        title=f"title {article_id}",
        summary="",
        text=text,
        author=None,
        site_name=None,
        language="en",
        published_at=None,
        date_source="unknown",
        fetched_at=NOW,
        http_status=200,
        raw_html_gz=b"x",
        content_hash=f"hash-{text[:10]}",
        relevant=True,
        relevance_score=0.9,
        taxonomy_version="test-1",
    )


def _fetch(run_id: str, status: int | None = 200, outcome: str = "ok", kind: str | None = None):
    return FeedFetch(
        run_id=run_id,
        feed_name="fixture",
        feed_url=FEED.url,
        fetched_at=NOW,
        outcome=outcome,
        http_status=status,
        error_kind=kind,
        error=None if outcome == "ok" else f"HTTP {status}",
    )


def _load(
    run_id: str,
    articles: list[Article],
    fetches: list[FeedFetch] | None = None,
    failures: list[ArticleFailure] | None = None,
) -> loader.LoadInput:
    items = [
        FeedItem(
            article_id=a.article_id,
            url=a.url,
            original_url=a.url,
            feed_name="fixture",
            title=a.title,
            summary="",
            published_at=None,
        )
        for a in articles
    ]
    topics = [
        {
            "article_id": a.article_id,
            "subtopic": "removal_deportation",
            "taxonomy_version": "test-1",
            "score": 0.8,
            "evidence": "Deportation flight story.",
            "field": "text",
            "start_offset": 0,
            "end_offset": 25,
            "rule_id": "r1",
        }
        for a in articles
    ]
    relevance = [
        {
            "article_id": a.article_id,
            "taxonomy_version": "test-1",
            "relevant": True,
            "relevance_score": 0.9,
            "evidence": "x",
            "rule_id": "r1",
            "tagged_at": NOW,
        }
        for a in articles
    ]
    tables = {
        "feed_fetches": staging.to_table("feed_fetches", fetches or [_fetch(run_id)]),
        "feed_items": staging.to_table("feed_items", items),
        "articles": staging.to_table("articles", articles),
        "failures": staging.to_table("failures", failures or []),
        "article_topics": staging.to_table("article_topics", topics),
        "article_facts": staging.to_table("article_facts", []),
        "article_relevance": staging.to_table("article_relevance", relevance),
        "quarantine": pa.table({"run_id": pa.array([], pa.string())}),
        "dq_results": pa.table({"run_id": pa.array([], pa.string())}),
    }
    return loader.LoadInput(
        run_id=run_id,
        started_at=NOW,
        feeds=[FEED],
        tables=tables,
        taxonomy_version="test-1",
        taxonomy_definition={"version": "test-1"},
        run_stats={"articles_loaded": len(articles)},
    )


def _counts(db: Path) -> dict[str, int]:
    with connection.open_db(db, read_only=True) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in (
                "articles",
                "article_topics",
                "article_relevance",
                "feed_fetches",
                "article_feeds",
                "html_archive",
                "pipeline_runs",
            )
        }


def test_migrations_apply_once(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        assert schema.migrate(conn) == []
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    assert [v[0] for v in versions] == [int(p.name[:3]) for p in files]
    assert "006_stories.sql" in [p.name for p in files]


def test_loading_the_same_run_twice_adds_no_rows(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    load = _load("run-1", [_article("a1"), _article("a2", "Other text entirely. " * 20)])
    with connection.open_db(db) as conn:
        loader.load_run(conn, load)
    first = _counts(db)
    with connection.open_db(db) as conn:
        loader.load_run(conn, load)
    assert _counts(db) == first
    assert first["articles"] == 2 and first["article_topics"] == 2


def test_a_later_run_updates_in_place_and_keeps_first_run_id(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [_article("a1")]))
        loader.load_run(conn, _load("run-2", [_article("a1", "Updated text. " * 30)]))
        row = conn.execute("SELECT first_run_id, last_run_id, text FROM articles").fetchall()
    assert row == [("run-1", "run-2", "Updated text. " * 30)]


def test_failed_load_leaves_the_database_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [_article("a1")]))
    before = _counts(db)
    bad = _load("run-2", [_article("b1")])
    bad.tables["article_topics"] = bad.tables["article_topics"].drop_columns(["evidence"])
    with connection.open_db(db) as conn, pytest.raises(duckdb.Error):
        loader.load_run(conn, bad)
    assert _counts(db) == before


def test_syndicated_copy_is_linked_to_the_first_article(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [_article("a1")]))
        loader.load_run(conn, _load("run-2", [_article("z9")]))  # same text, other URL
        rows = conn.execute("SELECT article_id, duplicate_of FROM articles ORDER BY 1").fetchall()
    assert rows == [("a1", None), ("z9", "a1")]


def test_a_reworded_reprint_is_a_near_duplicate_in_its_originals_story(tmp_path: Path) -> None:
    import dataclasses
    import json

    from policy_news.stories.synthetic import rewrite

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "articles.jsonl"
    texts = {r["article_id"]: r for r in map(json.loads, fixture.read_text().splitlines())}
    reprint = rewrite("a1", texts["a1"]["title"], texts["a1"]["text"], 2).text
    copy = dataclasses.replace(_article("b-copy", reprint), content_hash="hash-reprint")
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        first = loader.load_run(conn, _load("run-1", [_article("a1", texts["a1"]["text"])]))
        second_run = _load("run-2", [copy, _article("c1", texts["c1"]["text"])])
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


def test_feed_is_auto_disabled_after_repeated_hard_failures(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        for i in range(loader.HARD_FAILURES_TO_DISABLE):
            loader.load_run(conn, _load(f"run-{i}", [], [_fetch(f"run-{i}", 410, "error")]))
        health = conn.execute("SELECT health, auto_disabled_reason FROM feed_health").fetchone()
        due = reads.feeds_due(conn, [FEED], NOW + timedelta(hours=1))
    assert health is not None and health[0] == "auto_disabled"
    assert "5 consecutive hard failures" in health[1]
    assert due == []


def test_failures_count_attempts_across_runs_not_reloads(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    failure = ArticleFailure(
        article_id="f1",
        url="https://news.example.org/f1",
        feed_name="fixture",
        title="t",
        summary="",
        feed_published_at=None,
        stage="fetch",
        error_kind="timeout",
        error="read timed out",
        http_status=None,
        failed_at=NOW,
    )
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [], failures=[failure]))
        loader.load_run(conn, _load("run-1", [], failures=[failure]))
        loader.load_run(conn, _load("run-2", [], failures=[failure]))
        attempts = conn.execute("SELECT attempts FROM fetch_failures").fetchone()
        retry = reads.retryable_failures(conn, max_attempts=3)
        exhausted = reads.exhausted_failures(conn, ["f1"], max_attempts=2)
    assert attempts == (2,)
    assert retry.column("article_id").to_pylist() == ["f1"]
    assert exhausted == {"f1"}


def test_snapshot_is_readable_while_the_main_file_is_locked(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [_article("a1")]))
    published = snapshot.publish_snapshot(db)
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


def test_writer_waits_for_a_lock_then_gives_up_with_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with connection.open_db(db):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('held', flush=True); "
            "time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(connection.DatabaseBusyError, match="stayed locked"):
            connection.connect(db, deadline_s=0.5)
        assert time.monotonic() - started < 5
        conn = connection.connect(db, deadline_s=20)  # succeeds once the holder exits
        conn.close()
    finally:
        holder.kill()
        holder.wait()


def test_polling_follows_each_feeds_rhythm(tmp_path: Path) -> None:
    from datetime import timedelta

    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        loader.load_run(conn, _load("run-1", [], [_fetch("run-1")]))
        interval, next_poll = conn.execute(
            "SELECT poll_interval_minutes, next_poll_at FROM feeds"
        ).fetchone()
        just_after = NOW + timedelta(minutes=1)
        assert interval == get_settings().min_poll_minutes
        assert next_poll == NOW + timedelta(minutes=get_settings().min_poll_minutes)
        assert reads.feeds_due(conn, [FEED], just_after) == []
        assert reads.feeds_due(conn, [FEED], just_after, poll_all=True) == [FEED]
        assert reads.feeds_due(conn, [FEED], next_poll) == [FEED]


def test_a_feed_with_new_items_twice_a_day_is_polled_less_often(tmp_path: Path) -> None:
    from dataclasses import replace
    from datetime import timedelta

    db = tmp_path / "x.duckdb"
    with connection.open_db(db) as conn:
        for i in range(4):
            fetch = replace(
                _fetch(f"run-{i}"), fetched_at=NOW + timedelta(hours=12 * i), items_new=3
            )
            loader.load_run(conn, _load(f"run-{i}", [], [fetch]))
        interval = conn.execute("SELECT poll_interval_minutes FROM feeds").fetchone()[0]
    assert interval == 360  # 12 h rhythm -> every 6 h, the cap
