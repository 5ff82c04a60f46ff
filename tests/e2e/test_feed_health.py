"""Feed operations over several runs: dead feeds are parked, silent ones are flagged.

The registry is the bundled sample site (three healthy feeds and `moved-away`, a 404)
plus three feeds on the hostile server: `gone` (410 until a test brings it back),
`quiet` (a valid feed that stopped publishing: the history below gives it a daily
rhythm a month ago) and `never` (a valid feed that has never had an item).

Fixture `history` loads that history, then runs the pipeline six times in a row, as
the scheduler would with `poll_all` (every feed polled each run except auto-disabled
ones), and records what the server saw. The tests read the resulting database; the
re-check test works on a copy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import yaml

from policy_news import staging
from policy_news.cli import main
from policy_news.models import FeedFetch
from policy_news.pipeline.runner import RunSummary, run_pipeline
from policy_news.settings import Settings, get_settings
from policy_news.sources.registry import FeedConfig, load_feeds
from policy_news.store import connection, loader, reads
from tests.store.conftest import quarantine_table
from tests.support.hostile_server import RSS, RSS_TEMPLATE, HostileRequest, HostileServer, Reply
from tools.sample_site import DEMO_PORT, SAMPLE_SITE_DIR

RUNS = 6
SAMPLE_OK = ("capitol-wire", "gulf-coast-ledger", "office-of-public-affairs-sample")
EMPTY_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    b"<title>Nothing lately</title><link>http://example.org/</link>"
    b"<description>A feed that stopped publishing</description></channel></rss>\n"
)


@dataclass
class History:
    settings: Settings
    feeds_path: Path
    server: HostileServer
    runs: list[RunSummary] = field(default_factory=list)
    gone_hits: list[int] = field(default_factory=list)  # cumulative hits after each run
    health: list[dict[str, str]] = field(default_factory=list)  # feed_health after each run
    gone_back: dict[str, bool] = field(default_factory=dict)


def _settings(tmp: Path) -> Settings:
    return get_settings(
        db_path=tmp / "data" / "policy_news.duckdb",
        staging_dir=tmp / "data" / "staging",
        docs_dir=tmp / "data" / "data_docs",
        allowed_private_nets=("127.0.0.1/32",),
        host_delay_s=0.0,
        connect_timeout_s=2.0,
        read_timeout_s=3.0,
        request_deadline_s=10.0,
        max_retries=1,
        extract_workers=1,
    )


def _health(db: Path) -> dict[str, str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return dict(conn.execute("SELECT feed_name, health FROM feed_health").fetchall())


def _empty_tables() -> dict[str, pa.Table]:
    tables = {
        kind: staging.to_table(kind, [])
        for kind in (
            "feed_items",
            "articles",
            "failures",
            "article_topics",
            "article_facts",
            "article_relevance",
        )
    }
    tables["quarantine"] = quarantine_table([])
    tables["dq_results"] = pa.table({"run_id": pa.array([], pa.string())})
    return tables


def _load_fetches(db: Path, feed: FeedConfig, fetches: list[FeedFetch]) -> None:
    """Load each fetch as its own past run, the way the loader records a real one."""
    with connection.open_db(db) as conn:
        for fetch in fetches:
            tables = {**_empty_tables(), "feed_fetches": staging.to_table("feed_fetches", [fetch])}
            loader.load_run(
                conn,
                loader.LoadInput(
                    run_id=fetch.run_id,
                    started_at=fetch.fetched_at,
                    feeds=[feed],
                    tables=tables,
                    taxonomy_version="history",
                    taxonomy_definition=None,
                    run_stats={"trigger": "history"},
                ),
            )


def _load_rhythm(db: Path, feed: FeedConfig, days_ago: tuple[int, ...]) -> None:
    """Past runs in which `feed` fetched fine with new items (a daily rhythm)."""
    now = datetime.now(UTC)
    _load_fetches(
        db,
        feed,
        [
            FeedFetch(
                run_id=f"history__{days:02d}d",
                feed_name=feed.name,
                feed_url=feed.url,
                fetched_at=now - timedelta(days=days),
                outcome="ok",
                http_status=200,
                items_seen=5,
                items_new=2,
            )
            for days in days_ago
        ],
    )


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, sample_site: str):
    tmp = tmp_path_factory.mktemp("feed_health")
    settings = _settings(tmp)
    state: dict[str, bool] = {}

    def gone(req: HostileRequest) -> Reply:
        if state.get("back"):  # publishing again: two items linking to good pages
            return Reply(200, RSS, RSS_TEMPLATE.format(base=req.base_url).encode())
        return Reply(410, {"Content-Type": "text/html"}, b"<p>gone for good</p>")

    routes = {
        "/feeds/gone.xml": gone,
        "/feeds/quiet.xml": Reply(200, RSS, EMPTY_FEED),
        "/feeds/never.xml": Reply(200, RSS, EMPTY_FEED.replace(b"lately", b"ever")),
    }
    with HostileServer(routes=routes, second_host=None) as server:
        data = yaml.safe_load((SAMPLE_SITE_DIR / "feeds.yaml").read_text())
        for entry in data["feeds"]:
            entry["url"] = entry["url"].replace(f"http://127.0.0.1:{DEMO_PORT}", sample_site)
        data["feeds"] += [
            {"name": "gone", "url": server.url("/feeds/gone.xml")},
            {"name": "quiet", "url": server.url("/feeds/quiet.xml")},
            {"name": "never", "url": server.url("/feeds/never.xml")},
        ]
        feeds_path = tmp / "feeds.yaml"
        feeds_path.write_text(yaml.safe_dump(data, sort_keys=False))
        quiet = next(f for f in load_feeds(feeds_path) if f.name == "quiet")
        _load_rhythm(settings.db_path, quiet, days_ago=(29, 28, 27))

        result = History(settings, feeds_path, server, gone_back=state)
        for _ in range(RUNS):
            summary = run_pipeline(settings, feeds_path, poll_all=True)
            assert summary.outcome == "success", summary.message
            result.runs.append(summary)
            result.gone_hits.append(len(server.hits("/feeds/gone.xml")))
            result.health.append(_health(settings.db_path))
        yield result


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


# --------------------------------------------------------------------------- dead feeds


@pytest.mark.parametrize(("feed", "status"), [("gone", 410), ("moved-away", 404)])
def test_feed_gone_five_times_in_a_row_is_auto_disabled_with_reason(
    history: History, feed: str, status: int
) -> None:
    # failing for four runs, parked by the fifth
    assert [h[feed] for h in history.health[:4]] == ["failing"] * 4
    assert history.health[4][feed] == "auto_disabled"
    row = _rows(
        history.settings.db_path,
        "SELECT consecutive_hard_failures, auto_disabled_at, auto_disabled_reason, "
        "next_poll_at, last_fetch_at FROM feeds WHERE feed_name = ?",
        [feed],
    )[0]
    failures, disabled_at, reason, next_poll, last_fetch = row
    assert failures == loader.HARD_FAILURES_TO_DISABLE == 5
    assert disabled_at is not None
    assert "5 consecutive hard failures" in reason and str(status) in reason
    assert next_poll == last_fetch + loader.DISABLED_RECHECK


def test_auto_disabled_feed_is_not_polled_by_later_runs(history: History) -> None:
    # hits: one per run for five runs (a 410 is not retried), then none in run 6
    assert history.gone_hits == [1, 2, 3, 4, 5, 5]
    last_run = history.runs[-1].run_id
    polled = {
        r[0]
        for r in _rows(
            history.settings.db_path,
            "SELECT feed_name FROM feed_fetches WHERE run_id = ?",
            [last_run],
        )
    }
    assert "gone" not in polled and "moved-away" not in polled
    assert set(SAMPLE_OK) | {"quiet", "never"} <= polled
    assert history.runs[-1].stats["feeds_failed"] == 0


def test_auto_disabled_feed_is_due_again_at_its_recheck_time(history: History) -> None:
    feeds = load_feeds(history.feeds_path)
    now = datetime.now(UTC)
    with connection.open_db(history.settings.db_path, read_only=True) as conn:
        for poll_all in (False, True):
            due = {f.name for f in reads.feeds_due(conn, feeds, now, poll_all=poll_all)}
            assert "gone" not in due and "moved-away" not in due
        later = now + loader.DISABLED_RECHECK + timedelta(minutes=1)
        due_later = {f.name for f in reads.feeds_due(conn, feeds, later)}
    assert {"gone", "moved-away"} <= due_later


def test_recheck_keeps_a_dead_feed_parked_and_revives_one_that_is_back(
    history: History, tmp_path: Path
) -> None:
    """A week later (simulated by moving next_poll_at into the past on a copy of the
    database), the re-check polls the feed: still 410 -> parked for another week;
    answering again -> back to normal polling."""
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(history.settings.db_path, db)
    settings = history.settings.model_copy(
        update={"db_path": db, "staging_dir": tmp_path / "staging"}
    )

    def a_week_passes() -> None:
        with duckdb.connect(str(db)) as conn:
            conn.execute(
                "UPDATE feeds SET next_poll_at = now() - INTERVAL 1 MINUTE WHERE feed_name = 'gone'"
            )

    hits = len(history.server.hits("/feeds/gone.xml"))
    a_week_passes()
    still_gone = run_pipeline(settings, history.feeds_path)
    assert still_gone.outcome == "success", still_gone.message
    assert len(history.server.hits("/feeds/gone.xml")) == hits + 1
    ((health, next_poll, failures),) = _rows(
        db,
        "SELECT h.health, f.next_poll_at, f.consecutive_hard_failures "
        "FROM feed_health h JOIN feeds f USING (feed_name) WHERE feed_name = 'gone'",
    )
    assert health == "auto_disabled" and failures == 6
    assert next_poll > datetime.now(UTC) + loader.DISABLED_RECHECK - timedelta(minutes=5)

    history.gone_back["back"] = True
    try:
        a_week_passes()
        back = run_pipeline(settings, history.feeds_path)
    finally:
        history.gone_back["back"] = False
    assert back.outcome == "success", back.message
    ((health, disabled_at, reason, failures, next_poll),) = _rows(
        db,
        "SELECT h.health, f.auto_disabled_at, f.auto_disabled_reason, "
        "f.consecutive_hard_failures, f.next_poll_at FROM feed_health h "
        "JOIN feeds f USING (feed_name) WHERE feed_name = 'gone'",
    )
    assert (health, disabled_at, reason, failures) == ("ok", None, None, 0)
    # back on its own rhythm: polled again at the minimum interval, not in a week
    assert next_poll is not None
    assert next_poll < datetime.now(UTC) + timedelta(minutes=get_settings().min_poll_minutes + 1)
    assert back.stats["items_new"] == 2


def test_feed_answering_again_after_four_hard_failures_is_never_parked(tmp_path: Path) -> None:
    """404 four times, then a good fetch: the streak is broken, so no auto-disable."""
    db = tmp_path / "x.duckdb"
    feed = FeedConfig(name="flaky", url="http://127.0.0.1:9/feed.xml")
    now = datetime.now(UTC)
    fetches = [
        FeedFetch(
            run_id=f"run-{i}",
            feed_name=feed.name,
            feed_url=feed.url,
            fetched_at=now - timedelta(hours=5 - i),
            outcome="error",
            http_status=404,
            error_kind="http_status",
            error="HTTP 404 Not Found",
        )
        for i in range(loader.HARD_FAILURES_TO_DISABLE - 1)
    ]
    fetches.append(
        FeedFetch(
            run_id="run-ok",
            feed_name=feed.name,
            feed_url=feed.url,
            fetched_at=now,
            outcome="ok",
            http_status=200,
            items_seen=3,
            items_new=3,
        )
    )
    _load_fetches(db, feed, fetches)
    rows = _rows(
        db,
        "SELECT h.health, f.auto_disabled_at, f.auto_disabled_reason, "
        "f.consecutive_hard_failures FROM feed_health h JOIN feeds f USING (feed_name)",
    )
    assert rows == [("ok", None, None, 0)]


# --------------------------------------------------------------------------- silent feeds


def test_feed_that_fetches_fine_but_stopped_publishing_is_silent(history: History) -> None:
    db = history.settings.db_path
    health = _health(db)
    assert health["quiet"] == "silent"
    ((outcome, failures, last_new),) = _rows(
        db,
        "SELECT l.outcome, f.consecutive_failures, f.last_new_item_at FROM feeds f "
        "JOIN feed_fetches l ON l.feed_name = f.feed_name AND l.run_id = ? "
        "WHERE f.feed_name = 'quiet'",
        [history.runs[-1].run_id],
    )
    assert outcome in ("ok", "unchanged") and failures == 0  # it fetches fine ...
    assert last_new < datetime.now(UTC) - timedelta(days=26)  # ... but nothing new for weeks
    # the run's checks flagged it too (a warning, not a blocking failure)
    flagged = _rows(
        db,
        "SELECT success, severity FROM dq_results WHERE run_id = ? AND check_name = 'silent_zero'",
        [history.runs[0].run_id],
    )
    assert flagged == [(False, "warn")]


def test_feed_that_never_had_an_item_is_silent_after_three_fetches(history: History) -> None:
    assert [h["never"] for h in history.health[:RUNS]] == ["ok", "ok"] + ["silent"] * (RUNS - 2)


def test_feeds_with_their_usual_rhythm_are_ok(history: History) -> None:
    health = _health(history.settings.db_path)
    assert {name: health[name] for name in SAMPLE_OK} == dict.fromkeys(SAMPLE_OK, "ok")


# --------------------------------------------------------------------------- the CLI


def test_feeds_command_lists_dead_and_silent_feeds(history: History, capsys) -> None:
    assert main(["feeds", "--db", str(history.settings.db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows = lines[0].split(), [line.split() for line in lines[1:]]
    assert header[:2] == ["feed", "health"]
    listed = {row[0]: row[1] for row in rows}
    assert listed == {
        **dict.fromkeys(SAMPLE_OK, "ok"),
        "gone": "auto_disabled",
        "moved-away": "auto_disabled",
        "quiet": "silent",
        "never": "silent",
    }
    # problem feeds first, each with its reason
    assert {row[0] for row in rows[:4]} == {"gone", "moved-away", "quiet", "never"}
    gone_line = next(line for line in lines if line.startswith("gone "))
    assert "5 consecutive hard failures" in gone_line and "410" in gone_line
    assert "404" in next(line for line in lines if line.startswith("moved-away "))
