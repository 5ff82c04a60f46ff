"""Smoke tests of the benchmark harness: tiny sizes, no timing assertions."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tools.bench import core_seconds, harness, naive, quality
from tools.bench.site import running
from tools.bench.site_content import Content, ServerSpec, SiteSpec, corpus_dir


def test_site_serves_feeds_articles_and_304_on_many_addresses() -> None:
    spec = ServerSpec(
        sites=[SiteSpec("t", 6, 3, 3)],
        latency_ms=0,
        lifetime_s=60,
        corpus=str(corpus_dir()) if corpus_dir().is_dir() else None,
    )
    with running(spec) as (_server, content), httpx.Client(timeout=10) as client:
        site = content.sites["t"]
        hosts = {httpx.URL(content.feed_url(site, j)).host for j in range(site.feeds)}
        assert hosts == {"127.0.1.1", "127.0.1.2", "127.0.1.3"}
        feed = client.get(content.feed_url(site, 1))
        assert feed.status_code == 200 and feed.text.count("<item>") == 2
        again = client.get(
            content.feed_url(site, 1), headers={"If-None-Match": feed.headers["etag"]}
        )
        assert again.status_code == 304
        pages = [client.get(content.article_url(site, i)) for i in (1, 4)]
        assert all(p.status_code == 200 and len(p.content) > 1000 for p in pages)
        assert pages[0].content != pages[1].content  # every article is a distinct page
        assert client.get(f"{content.base(0)}/robots.txt").status_code == 200
        assert client.get(f"{content.base(0)}/t/news/0/99.html").status_code == 404


def test_naive_baseline_picks_whole_feeds() -> None:
    spec = ServerSpec(sites=[SiteSpec("t", 20, 4, 4)], latency_ms=0)
    content = Content(spec)
    feeds = naive.pick_feeds(content, "t", 8, seed=1)
    assert len(feeds) == 2 and len(set(feeds)) == 2


def test_token_f1() -> None:
    assert quality.token_f1("the cat sat", "the cat sat") == (1.0, 1.0, 1.0)
    precision, recall, f1 = quality.token_f1("the cat", "the cat sat down")
    assert precision == 1.0 and recall == 0.5 and round(f1, 3) == 0.667
    assert quality.token_f1("", "x") == (0.0, 0.0, 0.0)


@pytest.mark.slow  # runs the bench end to end on a tiny site (a minute or more)
def test_harness_smoke_run_writes_all_result_keys(tmp_path: Path) -> None:
    out, chart = tmp_path / "results.json", tmp_path / "chart.png"
    code = harness.main(
        [
            "--sizes",
            "20",
            "--feeds",
            "3",
            "--articles-per-host",
            "7",
            "--latency-ms",
            "5",
            "--host-delay-s",
            "0",
            "--naive-articles",
            "5",
            "--query-rows",
            "2000",
            "--tag-seconds",
            "0.2",
            "--skip-small",
            "--skip-airflow",
            "--skip-quality",
            "--json",
            str(out),
            "--chart",
            str(chart),
        ]
    )
    assert code == 0
    results = json.loads(out.read_text())
    for key in (
        "config",
        "runs",
        "no_change_poll",
        "naive",
        "comparison",
        "tagging",
        "queries",
        "targets",
        "total_wall_s",
        "site_server",
        "cost_budget",
    ):
        assert key in results, key
    budget = results["cost_budget"]
    assert budget["startup_cpu_s"]["validation_process"] > 0.5  # importing GX is not free
    run = results["runs"][0]
    for key in (
        "articles_per_s",
        "extraction_cpu_s",
        "extraction_bound_s",
        "wall_vs_extraction_bound",
        "peak_rss_mib",
        "stage_timings",
        "machine_busy_pct",
        "tree_cpu_s",
    ):
        assert key in run["derived"], key
    assert run["site"] == {"name": "n20", "articles": 20, "feeds": 3, "hosts": 3}
    assert run["derived"]["articles_new"] == 20
    assert run["extraction"]["pages"] > 0
    assert results["no_change_poll"]["items_new"] == 0
    assert results["naive"]["articles"] >= 5
    assert set(results["queries"]["timings"]) == set(harness_queries())
    assert chart.stat().st_size > 1000


def test_cost_budget_accounts_for_every_core_second() -> None:
    run = {
        "wall_s": 35.0,
        "cpu_s": {"main_user": 8.0, "main_system": 2.0},
        "settings": {"extract_workers": 2},
        "derived": {
            "extraction_cpu_s": 40.0,
            "worker_page_cpu_s": 45.0,
            "tree_cpu_s": 62.0,
            "server_cpu_s": 1.0,
            "other_processes_cpu_s": 0.5,
            "articles_loaded": 1000,
        },
    }
    startups = {"extraction_worker": 0.7, "validation_process": 3.6}
    budget = core_seconds.cost_budget(run, startups, cores=2, tagging_per_s=1000.0)
    parts = budget["parts_core_s"]
    assert budget["budget_core_s"] == 10.0  # 0.25 x 40 core-s of trafilatura
    assert sum(parts.values()) + 40.0 == pytest.approx(70.0)  # 2 cores x 35 s
    assert parts["idle core time (network waits, serial stages)"] == pytest.approx(6.5)
    rest = "rest of the process tree (validation itself, forkserver, IPC)"
    assert parts["start-up of 2 extraction workers (import trafilatura)"] == pytest.approx(1.4)
    assert parts[rest] == pytest.approx(2.0)
    # (40 + 5 extras + 1.4 + 3.6 start-ups + 1 tagging) / 40
    assert budget["floor_ratio"] == pytest.approx(1.275)
    assert core_seconds.cost_budget(run, startups, cores=2)["floor_ratio"] == pytest.approx(1.25)


def harness_queries() -> list[str]:
    from tools.bench.queries import QUERIES

    return list(QUERIES)


@pytest.mark.skipif(not corpus_dir().is_dir(), reason="shared corpus not present")
def test_ground_truth_pairs_found() -> None:
    pairs = quality.ground_truth(corpus_dir())
    assert len(pairs) >= 20
    assert all(page.is_file() and len(text) > 100 for page, text in pairs)
