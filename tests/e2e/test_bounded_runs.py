"""Runs stay bounded against a 20,000-item flood and a hanging host, and nothing is lost.

The site is `tests.support.bounded_site`: healthy feeds and pages on 127.0.0.1, feed
`flood` listing 20,000 items on 127.0.0.2 whose pages all answer 404, feed `hang`
listing pages on 127.0.0.3 that send nothing until the test says the host is back.
Settings are test-sized: a cap of 50 items per feed, a breaker after 3 troubles, a
60 s budget counted from the run's start.

Run 1 (through `run_pipeline`, what `policy-news run` calls) must end within its
budget, load every healthy article, fetch only the flood's 50 newest items, open the
breaker on the hanging host and keep everything else pending. The next runs (the feeds
are not due again, so only the backlog is left) take the pending items first, each
stopped by the budget, until the backlog is empty: the 404s end as permanent failures,
the hanging host's pages load once it is back, and no article is loaded twice.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from policy_news.pipeline.runner import RunSummary, run_pipeline
from policy_news.settings import Settings
from policy_news.sources.urls import article_id_for
from tests.conftest import isolated_settings
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

# A run that drains the backlog fetches for the whole budget: 20,000 404s take a few.
MAX_DRAIN_RUNS = 20


def bounded_settings(data_dir: Path, **overrides: Any) -> Settings:
    return isolated_settings(data_dir, **{**SETTINGS, **overrides})


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("bounded")
    with (
        HostileServer(second_host="127.0.0.2") as main,
        HostileServer(defaults=False, host="127.0.0.3", second_host=None) as hanging,
    ):
        if main.second_host is None:
            pytest.skip("127.0.0.2 cannot be bound here")
        site, registry = build_site(main, hanging, folder)
        yield site, bounded_settings(folder / "data"), registry, main


@pytest.fixture(scope="module")
def first_run(bounded) -> tuple[RunSummary, float]:
    _site, settings, registry, _main = bounded
    started = time.monotonic()
    summary = run_pipeline(settings, registry)
    return summary, time.monotonic() - started


def test_first_run_ends_within_its_budget(first_run) -> None:
    summary, seconds = first_run
    assert summary.outcome == "success", summary.message
    timings = summary.stats["timings"]
    print(f"\nfirst run {seconds:.1f} s: {timings}, deferred {summary.stats['deferred_reasons']}")
    before_articles = timings["plan"] + timings["fetch_feeds"] + timings["select_new_items"]
    assert before_articles + timings["fetch_articles"] < STAGE_BOUND_S, timings
    assert summary.stats["deferred_reasons"].get("budget", 0) == 0, summary.stats


def test_first_run_loads_every_healthy_article(bounded, first_run) -> None:
    site, settings, _, _ = bounded
    assert_loaded_once(settings.db_path, site.healthy_urls)


def test_flood_is_capped_to_its_newest_items_and_the_rest_kept(bounded, first_run) -> None:
    site, settings, _, main = bounded
    db = settings.db_path
    failed = rows(db, "SELECT url, http_status FROM fetch_failures WHERE feed_name = 'flood'")
    newest = newest_flood_urls(site)
    assert sorted(failed) == sorted((u, 404) for u in newest)
    pending = rows(
        db,
        "SELECT count(*), min(times_deferred), max(times_deferred) FROM pending_items "
        "WHERE feed_name = 'flood' AND deferred_reason = 'feed_cap'",
    )
    assert pending == [(FLOOD - CAP, 1, 1)]
    assert len([h for h in main.log if h.path.startswith("/gone/")]) == CAP


def test_hanging_host_trips_the_breaker_and_its_pages_wait(bounded, first_run) -> None:
    _site, settings, _, _ = bounded
    summary, _ = first_run
    db = settings.db_path
    failed = rows(db, "SELECT error_kind FROM fetch_failures WHERE feed_name = 'hang'")
    waiting = rows(
        db,
        "SELECT count(*) FROM pending_items WHERE feed_name = 'hang' "
        "AND deferred_reason = 'host_breaker'",
    )
    # the breaker counts attempts (two per page: one retry) and opens after 3; requests
    # already in flight (4 slots) still end
    assert -(-BREAKER // 2) <= len(failed) <= BREAKER + 4, failed
    assert {k for (k,) in failed} <= {"timeout", "deadline"}
    assert waiting == [(HANGING_PAGES - len(failed),)]
    reasons = summary.stats["deferred_reasons"]
    assert reasons["feed_cap"] == FLOOD - CAP and reasons["host_breaker"] == waiting[0][0]
    runs = rows(db, "SELECT items_deferred, deferred_reasons FROM pipeline_runs")
    assert runs[0][0] == summary.stats["items_deferred"]


def test_later_runs_drain_the_backlog_and_load_nothing_twice(bounded, first_run) -> None:
    site, settings, registry, main = bounded
    db = settings.db_path
    site.hang = False  # the host is back
    sizes = [sum(backlog(db).values())]
    for _ in range(MAX_DRAIN_RUNS):
        started = time.monotonic()
        summary = run_pipeline(settings, registry)
        seconds = time.monotonic() - started
        assert summary.outcome == "success", summary.message
        timings = summary.stats["timings"]
        stage = timings["plan"] + timings["select_new_items"] + timings["fetch_articles"]
        assert stage < STAGE_BOUND_S, summary.stats
        sizes.append(sum(backlog(db).values()))
        # a run stops with items left only when its budget is spent
        assert set(summary.stats["deferred_reasons"]) <= {"budget"}, summary.stats
        assert bool(sizes[-1]) == bool(summary.stats["deferred_reasons"]), summary.stats
        print(f"\nrun {summary.run_id}: {seconds:.1f} s, backlog {sizes[-1]}, {summary.stats}")
        if not sizes[-1]:
            break
    assert sizes[-1] == 0, sizes
    assert all(a > b for a, b in itertools.pairwise(sizes)), sizes
    loaded = assert_loaded_once(db, site.healthy_urls + site.hanging_urls)
    assert {article_id_for(u) for u in site.hanging_urls} <= {
        r[0] for r in rows(db, "SELECT article_id FROM articles")
    }
    # Every flood page was asked for once: a 404 is permanent, never retried.
    gone = rows(
        db,
        "SELECT count(*), count(DISTINCT url), max(attempts) FROM fetch_failures "
        "WHERE feed_name = 'flood' AND http_status = 404",
    )
    assert gone == [(FLOOD, FLOOD, 1)]
    hits = [h.path for h in main.log if h.path.startswith("/gone/")]
    assert len(hits) == len(set(hits)) == FLOOD
    assert not set(site.flood_urls) & loaded
