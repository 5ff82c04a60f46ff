"""The bounded-runs scenario through Airflow: the ingest DAG run by `airflow dags test`
(SQLite metadata) against the 20,000-item flood and the hanging host of
`tests.support.bounded_site`, with the same test-sized settings as the CLI test.

The first DAG run must stop its mapped `fetch_articles` tasks within the budget (counted
from the plan's `started_at`, as the CLI's), load every healthy article, open the
breaker on the hanging host and keep the rest pending; the next DAG runs, each stopped
by the budget, shrink the backlog until it is empty (about three more DAG runs: each
404 is a request), the hanging host's pages load, every 404 was asked for exactly once,
and no article is loaded twice.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.airflow_cli import airflow, migrated_airflow_env
from tests.support.bounded_site import (
    BREAKER,
    CAP,
    FLOOD,
    HANGING_PAGES,
    SETTINGS,
    STAGE_BOUND_S,
    assert_loaded_once,
    backlog,
    build_site,
    newest_flood_urls,
    rows,
)
from tests.support.hostile_server import HostileServer

DRAIN_RUNS = 12  # at most; the test stops when the backlog is empty
# A mapped task past the stage's end still writes its staged files and exits.
TASK_END_S = 10.0


@pytest.fixture(scope="module")
def bounded_airflow(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("bounded_airflow")
    with (
        HostileServer(second_host="127.0.0.2") as main,
        HostileServer(defaults=False, host="127.0.0.3", second_host=None) as hanging,
    ):
        if main.second_host is None:
            pytest.skip("127.0.0.2 cannot be bound here")
        site, registry = build_site(main, hanging, home)
        values = {
            # what tests.conftest.isolated_settings sets for the CLI test
            "host_delay_s": 0.0,
            "connect_timeout_s": 2.0,
            "max_retries": 1,
            **SETTINGS,
        }
        env = migrated_airflow_env(home, registry, values)
        yield site, env, home / "data" / "policy_news.duckdb", main


def _dag_run(env: dict[str, str]) -> str:
    """One `airflow dags test` of the ingest DAG; returns its run id (the newest run)."""
    run = airflow(["dags", "test", "policy_news_ingest"], env)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "state=success" in out, out[-6000:]
    db = Path(env["POLICY_NEWS_DATA_DIR"]) / "policy_news.duckdb"
    return rows(db, "SELECT run_id FROM pipeline_runs ORDER BY started_at DESC LIMIT 1")[0][0]


def _article_stage_seconds(env: dict[str, str], db: Path, run_id: str) -> float:
    """From the run's start (the plan's started_at) to the last fetch_articles task's end."""
    started = rows(db, "SELECT started_at FROM pipeline_runs WHERE run_id = ?", [run_id])[0][0]
    metadata = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(metadata) as conn:
        ends = conn.execute(
            "SELECT end_date, state FROM task_instance "
            "WHERE run_id = ? AND task_id = 'fetch_articles'",
            [run_id],
        ).fetchall()
    assert ends and {state for _, state in ends} == {"success"}, ends
    last = max(datetime.fromisoformat(end).replace(tzinfo=UTC) for end, _ in ends)
    return (last - started).total_seconds()


def _stats(db: Path, run_id: str) -> dict[str, Any]:
    (row,) = rows(
        db,
        "SELECT outcome, trigger, items_deferred, deferred_reasons, timings FROM pipeline_runs "
        "WHERE run_id = ?",
        [run_id],
    )
    outcome, trigger, deferred, reasons, timings = row
    return {
        "outcome": outcome,
        "trigger": trigger,
        "items_deferred": deferred,
        "deferred_reasons": json.loads(reasons or "{}"),
        "timings": json.loads(timings or "{}"),
    }


@pytest.fixture(scope="module")
def first_dag_run(bounded_airflow) -> str:
    _site, env, _db, _main = bounded_airflow
    return _dag_run(env)


def test_first_dag_run_ends_within_its_budget_and_loads_every_healthy_article(
    bounded_airflow, first_dag_run
) -> None:
    site, env, db, main = bounded_airflow
    stats = _stats(db, first_dag_run)
    seconds = _article_stage_seconds(env, db, first_dag_run)
    print(f"\nfirst DAG run: article stage ended {seconds:.1f} s after the start, {stats}")
    assert (stats["outcome"], stats["trigger"]) == ("success", "airflow")
    assert seconds < STAGE_BOUND_S + TASK_END_S, stats
    assert_loaded_once(db, site.healthy_urls)
    # the cap: the flood's 50 newest were asked for, the rest wait
    failed = rows(db, "SELECT url, http_status FROM fetch_failures WHERE feed_name = 'flood'")
    assert sorted(failed) == sorted((u, 404) for u in newest_flood_urls(site))
    assert len([h for h in main.log if h.path.startswith("/gone/")]) == CAP
    # the breaker, inside the mapped task: a few hanging pages failed, the rest wait
    hang_failed = rows(db, "SELECT count(*) FROM fetch_failures WHERE feed_name = 'hang'")[0][0]
    assert -(-BREAKER // 2) <= hang_failed <= BREAKER + 4
    assert backlog(db) == {"feed_cap": FLOOD - CAP, "host_breaker": HANGING_PAGES - hang_failed}
    assert stats["deferred_reasons"] == backlog(db)


def test_later_dag_runs_drain_the_backlog_and_load_nothing_twice(
    bounded_airflow, first_dag_run
) -> None:
    site, env, db, main = bounded_airflow
    site.hang = False  # the host is back
    sizes = [sum(backlog(db).values())]
    for _ in range(DRAIN_RUNS):
        run_id = _dag_run(env)
        stats = _stats(db, run_id)
        seconds = _article_stage_seconds(env, db, run_id)
        sizes.append(sum(backlog(db).values()))
        print(f"\n{run_id}: article stage {seconds:.1f} s, backlog {sizes[-1]}, {stats}")
        assert stats["outcome"] == "success"
        assert seconds < STAGE_BOUND_S + TASK_END_S, stats
        # a run stops with items left only when its budget is spent
        assert set(stats["deferred_reasons"]) <= {"budget"}, stats
        assert bool(sizes[-1]) == bool(stats["deferred_reasons"]), stats
        if not sizes[-1]:
            break
    assert all(a > b for a, b in itertools.pairwise(sizes)), sizes
    loaded = assert_loaded_once(db, site.healthy_urls)
    assert not set(site.flood_urls) & loaded
    # the hanging host's pages: loaded once it is back, or still waiting their turn
    waiting = {r[0] for r in rows(db, "SELECT url FROM pending_items WHERE feed_name = 'hang'")}
    assert set(site.hanging_urls) - loaded == waiting
    # every flood page asked for so far was asked for once, and failed for good
    hits = [h.path for h in main.log if h.path.startswith("/gone/")]
    assert len(hits) == len(set(hits))
    gone = rows(
        db,
        "SELECT count(*), count(DISTINCT url), max(attempts) FROM fetch_failures "
        "WHERE feed_name = 'flood' AND http_status = 404",
    )
    assert gone == [(len(hits), len(hits), 1)]
    left = rows(db, "SELECT count(*) FROM pending_items WHERE feed_name = 'flood'")[0][0]
    assert len(hits) + left == FLOOD
    assert sizes[-1] == 0 and len(hits) == FLOOD, sizes
