"""Runs of the sizes a scheduled poll brings: 20, 100 and 300 new articles over 15 feeds.

The scaling runs show throughput at thousands of articles; a poll every few minutes
brings tens to hundreds, where process start-ups, validation and politeness weigh
more than extraction. Each size is its own site (15 feeds, each the outlet of its own
loopback host) on a fresh database; the runner gets a poll's politeness from its
environment (SMALL_RUN_ENV). After the largest run its feeds are polled again with
nothing new (poll_all, as `policy-news run --all-feeds`). Every run with new articles
is set against the naive sequential script on the same whole site.

Idle core-seconds are cores x run wall - the CPU the run's process tree used over
run_pipeline (the pipeline process, the forkserver, extraction workers, the
validation process; counted by the runner, exited workers included).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tools.bench.measure import CpuWindow
from tools.bench.naive import run_naive
from tools.bench.pipeline_runs import feed_outcomes, measure_run
from tools.bench.report import say, table
from tools.bench.site_content import feeds_yaml

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from tools.bench.site_content import Content, SiteSpec

# Politeness of a poll across outlets: the runner reads these like any deployment would.
SMALL_RUN_ENV = {"POLICY_NEWS_HOST_CONCURRENCY": "2", "POLICY_NEWS_HOST_DELAY_S": "0.1"}
STAGES = ("plan", "fetch_feeds", "select_new_items", "fetch_articles", "tag", "validate", "load")
NO_CHANGE = "no change"


def small_run_row(
    label: str, run: dict[str, Any], naive: dict[str, Any] | None, cores: int
) -> dict[str, Any]:
    """One table row: wall times, the naive script's wall, stages and core-seconds."""
    d = run["derived"]
    cpu = run["cpu_s"]
    wall = run["wall_s"]
    main_cpu = cpu["main_user"] + cpu["main_system"]
    naive_wall = naive["wall_s"] if naive else None
    pages = run["extraction"]["pages"]
    return {
        "run": label,
        "articles_new": d["articles_new"],
        "articles_loaded": d["articles_loaded"],
        "wall_s": round(wall, 2),
        "process_wall_s": round(d["process_wall_s"], 2),
        "naive_wall_s": naive_wall,
        "naive_over_pipeline": round(naive_wall / wall, 2) if naive_wall and wall else None,
        "stage_s": {k: d["stage_timings"].get(k) for k in STAGES},
        "main_cpu_s": round(main_cpu, 2),
        "tree_cpu_s": d["run_tree_cpu_s"],
        "cores": cores,
        "idle_core_s": d["idle_core_s"],
        "peak_rss_mib": d["peak_rss_mib"],
        "other_processes_cpu_s": d["other_processes_cpu_s"],
        # CPU per extracted page, measured in the workers: trafilatura alone, then the
        # worker's whole page (plus language, fingerprint, gzip); the naive script's
        # trafilatura.extract() beside them
        "extract_ms_per_article": round(1000 * run["extraction"]["cpu_s"] / pages, 1)
        if pages
        else None,
        "page_ms_per_article": round(1000 * run["extraction"]["page_cpu_s"] / pages, 1)
        if pages
        else None,
        "naive_extract_ms_per_article": naive.get("extract_cpu_ms_per_article") if naive else None,
        "main_cpu_ms_per_article": round(1000 * main_cpu / d["articles_new"], 1)
        if d["articles_new"]
        else None,
    }


def _naive(content: Content, site: SiteSpec, work: Path, seed: int) -> dict[str, Any]:
    with CpuWindow() as window:
        naive = run_naive(
            content, site.name, site.articles, work / f"naive_{site.name}.duckdb", seed
        )
    naive["cpu"] = window.result()
    return naive


def section_small_runs(
    results: dict[str, Any],
    work: Path,
    content: Content,
    sites: list[SiteSpec],
    overrides: dict[str, Any],
    server_pid: int,
    cores: int,
    args: argparse.Namespace,
) -> None:
    """Each small site's run and its naive counterpart, then a no-change poll of the last."""
    env = {**os.environ, **SMALL_RUN_ENV}
    # The environment sets the politeness; an override would win over it.
    overrides = {
        k: v for k, v in overrides.items() if k not in ("host_delay_s", "host_concurrency")
    }
    say(
        f"\n== small runs: {sites[0].feeds} feeds on {sites[0].hosts} hosts, "
        f"{content.spec.latency_ms:g} ms latency, "
        + ", ".join(f"{k}={v}" for k, v in SMALL_RUN_ENV.items())
        + " =="
    )
    rows: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    naives: dict[str, Any] = {}
    for site in sites:
        feeds_path = work / f"feeds_{site.name}.yaml"
        feeds_path.write_text(feeds_yaml(content, site))
        run_dir = work / site.name
        run_dir.mkdir(exist_ok=True)
        label = f"{site.articles} new"
        run = measure_run(
            "run",
            feeds_path,
            run_dir,
            overrides,
            server_pid,
            cores,
            timeout_s=args.run_timeout_s,
            env=env,
        )
        naive = _naive(content, site, work, args.seed)
        runs[label], naives[label] = run, naive
        rows.append(small_run_row(label, run, naive, cores))
        say(
            f"{label}: pipeline {run['wall_s']:.2f} s, naive {naive['wall_s']:.2f} s "
            f"({rows[-1]['naive_over_pipeline']}x), idle {rows[-1]['idle_core_s']} core-s"
        )
    last = sites[-1]
    # max_article_attempts=1: no retries of pages that failed in the first run
    poll = measure_run(
        "poll",
        work / f"feeds_{last.name}.yaml",
        work / last.name,
        {**overrides, "max_article_attempts": 1},
        server_pid,
        cores,
        poll_all=True,
        timeout_s=args.run_timeout_s,
        env=env,
    )
    outcomes = feed_outcomes(work / last.name / "policy_news.duckdb", poll["run_id"])
    runs[NO_CHANGE] = poll
    rows.append({**small_run_row(NO_CHANGE, poll, None, cores), "feed_outcomes": outcomes})
    say(f"{NO_CHANGE}: {last.feeds} feeds in {poll['wall_s']:.2f} s, feed outcomes {outcomes}")
    results["small_runs"] = {
        "feeds": last.feeds,
        "hosts": last.hosts,
        "latency_ms": content.spec.latency_ms,
        "env": SMALL_RUN_ENV,
        "rows": rows,
        "runs": runs,
        "naive": naives,
    }


def small_runs_table(small: dict[str, Any]) -> str:
    """The "small runs" table: one row per run, then the stage seconds of each."""
    rows = small["rows"]
    main = table(
        [
            "run",
            "loaded",
            "wall s",
            "process s",
            "naive s",
            "naive/pipeline",
            "tree CPU s",
            "idle core-s",
            "others' CPU s",
            "peak RSS MiB",
        ],
        [
            (
                r["run"],
                r["articles_loaded"],
                r["wall_s"],
                r["process_wall_s"],
                r["naive_wall_s"],
                r["naive_over_pipeline"],
                r["tree_cpu_s"],
                r["idle_core_s"],
                r["other_processes_cpu_s"],
                r["peak_rss_mib"],
            )
            for r in rows
        ],
    )
    stages = table(["run", *STAGES], [(r["run"], *r["stage_s"].values()) for r in rows])
    per_article = table(
        [
            "run",
            "trafilatura ms",
            "worker page ms",
            "naive extract() ms",
            "pipeline process ms",
        ],
        [
            (
                r["run"],
                r.get("extract_ms_per_article"),
                r.get("page_ms_per_article"),
                r.get("naive_extract_ms_per_article"),
                r.get("main_cpu_ms_per_article"),
            )
            for r in rows
        ],
    )
    return (
        f"\n== small runs ({small['feeds']} feeds, {small['hosts']} hosts) ==\n{main}\n"
        f"(wall: run_pipeline; process: the fresh process incl. imports; idle core-s = "
        f"{rows[0]['cores'] if rows else '?'} cores x wall - tree CPU)\n"
        f"\nstage seconds (fetch_articles and tag are summed over the concurrent item groups):\n"
        f"{stages}\n"
        f"\nCPU per new article (workers: per extracted page; pipeline process: per new item):\n"
        f"{per_article}"
    )
