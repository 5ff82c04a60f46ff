"""Measured pipeline runs: one `run_pipeline` per fresh process, sampled from outside.

Each run is `python -m tools.bench.runner` (see runner.py) on its own database; the
harness samples the process tree's memory and CPU and the machine's cores meanwhile,
and derives the figures the tables print (rates, the extraction bound, stage times).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from policy_news.settings import project_home
from tools.bench.measure import run_measured
from tools.bench.report import say
from tools.bench.scenarios import predicted_tasks
from tools.bench.site_content import feeds_yaml

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from tools.bench.site_content import Content, SiteSpec

# Stages that run one after another, outside the concurrent fetch/extract/tag stage.
SERIAL_STAGES = ("plan", "fetch_feeds", "select_new_items", "validate", "load")


def _runner_cmd(
    feeds: Path, workdir: Path, overrides: dict[str, Any], out: Path, poll_all: bool
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tools.bench.runner",
        "--feeds",
        str(feeds),
        "--workdir",
        str(workdir),
        "--settings",
        json.dumps(overrides),
        "--out",
        str(out),
        *(["--poll-all"] if poll_all else []),
    ]


def measure_run(
    label: str,
    feeds: Path,
    workdir: Path,
    overrides: dict[str, Any],
    server_pid: int,
    cores: int,
    poll_all: bool = False,
    timeout_s: float = 900,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One run_pipeline in a fresh process, with memory/CPU sampling from outside.

    `env` (default: ours) is the runner's whole environment, e.g. politeness settings.
    """
    out = workdir / f"{label}.json"
    log = workdir / f"{label}.log"
    sampled = run_measured(
        _runner_cmd(feeds, workdir, overrides, out, poll_all),
        other_pids=[server_pid],
        log_path=str(log),
        timeout_s=timeout_s,
        env=env,
        cwd=project_home(),  # where `-m tools.bench.runner` resolves, whatever our cwd
    )
    if sampled["returncode"] != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise RuntimeError(f"bench run {label} failed (rc {sampled['returncode']}):\n{tail}")
    result = json.loads(out.read_text())
    timeline = sampled.pop("rss_timeline")
    result["process"] = sampled
    result["rss_timeline"] = timeline[:: max(1, len(timeline) // 200)]
    stats, load = result["stats"], result["load"]
    timings = dict(stats["timings"])
    timings["load"] = load.get("seconds", 0.0)
    serial = sum(timings.get(k, 0.0) for k in SERIAL_STAGES)
    wall = result["wall_s"]
    run_tree_cpu = result["cpu_s"]["tree"]
    extraction_cpu = result["extraction"]["cpu_s"]
    bound = extraction_cpu / cores
    server_cpu = float(sampled["other_cpu_s"].get(str(server_pid), 0.0))
    busy = sum(c["busy_s"] for c in sampled["cpu"]["per_core"])
    result["derived"] = {
        "articles_new": stats["items_new"],
        "articles_loaded": load.get("articles", 0),
        "articles_failed": stats["articles_failed"],
        "articles_per_s": round(stats["items_new"] / wall, 2) if wall else 0.0,
        "loaded_per_s": round(load.get("articles", 0) / wall, 2) if wall else 0.0,
        "extraction_cpu_s": round(extraction_cpu, 2),
        "extraction_ms_per_page": round(
            1000 * extraction_cpu / max(1, result["extraction"]["pages"]), 1
        ),
        "extraction_bound_s": round(bound, 2),
        "wall_vs_extraction_bound": round(wall / bound, 3) if bound else None,
        # everything the workers did per page: extraction plus language, fingerprint, gzip
        "worker_page_cpu_s": round(result["extraction"].get("page_cpu_s", 0.0), 2),
        # the article stage's wall time: what the other (serial) stages leave of the run
        "fetch_extract_tag_wall_s": round(wall - serial, 2),
        "stage_timings": timings,
        # sampled every 0.1 s over the whole process (imports included)
        "tree_cpu_s": sampled["tree_cpu_s"],
        # counted by the runner over run_pipeline alone, exited workers included
        "run_tree_cpu_s": round(run_tree_cpu, 2),
        "idle_core_s": round(cores * wall - run_tree_cpu, 2),
        "server_cpu_s": round(server_cpu, 2),
        "other_processes_cpu_s": round(max(0.0, busy - sampled["tree_cpu_s"] - server_cpu), 2),
        "machine_busy_pct": [c["busy_pct"] for c in sampled["cpu"]["per_core"]],
        "peak_rss_mib": sampled["peak_rss_mib"],
        "process_wall_s": sampled["cpu"]["wall_s"],
    }
    return result


def feed_outcomes(db: Path, run_id: str) -> dict[str, int]:
    """How many feeds of the run ended in each outcome (`not_modified`, `ok`, ...)."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM feed_fetches WHERE run_id = ? GROUP BY ALL", [run_id]
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


def section_run(
    work: Path,
    content: Content,
    site: SiteSpec,
    overrides: dict[str, Any],
    server_pid: int,
    cores: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    feeds_path = work / f"feeds_{site.name}.yaml"
    feeds_path.write_text(feeds_yaml(content, content.sites[site.name]))
    say(f"\n== pipeline: {site.articles} new articles, {site.feeds} feeds, {site.hosts} hosts ==")
    run_dir = work / site.name
    run_dir.mkdir(exist_ok=True)
    result = measure_run(
        "run", feeds_path, run_dir, overrides, server_pid, cores, timeout_s=args.run_timeout_s
    )
    result["site"] = site.__dict__
    result["predicted_dag_tasks"] = predicted_tasks(content, content.sites[site.name])
    d = result["derived"]
    say(
        f"wall {result['wall_s']:.1f} s -> {d['articles_per_s']:.1f} articles/s "
        f"({d['articles_loaded']} loaded, {d['articles_failed']} failed); extraction "
        f"{d['extraction_cpu_s']:.1f} CPU-s ({d['extraction_ms_per_page']} ms/page) -> bound "
        f"{d['extraction_bound_s']:.1f} s, wall/bound {d['wall_vs_extraction_bound']} "
        f"(workers' whole per-page CPU {d['worker_page_cpu_s']:.1f} s); main process CPU "
        f"{result['cpu_s']['main_user'] + result['cpu_s']['main_system']:.1f} s; peak RSS "
        f"{d['peak_rss_mib']:.0f} MiB (per process {result['process']['peak_rss_mib_by_process']}); "
        f"other processes used {d['other_processes_cpu_s']} CPU-s meanwhile"
    )
    return result


def section_poll(
    results: dict[str, Any],
    work: Path,
    content: Content,
    last: dict[str, Any],
    overrides: dict[str, Any],
    server_pid: int,
    cores: int,
    args: argparse.Namespace,
) -> None:
    """The largest run's feeds again: all items seen, every feed answers 304."""
    site = content.sites[last["site"]["name"]]
    say(f"\n== no-change poll: {site.feeds} feeds again, nothing new ==")
    poll_dir = work / site.name
    # poll_all: every feed, not only those due by their rhythm; max_article_attempts=1: no
    # retries of the pages that failed in the first run (that would be article work)
    poll = measure_run(
        "poll",
        work / f"feeds_{site.name}.yaml",
        poll_dir,
        {**overrides, "max_article_attempts": 1},
        server_pid,
        cores,
        poll_all=True,
        timeout_s=args.run_timeout_s,
    )
    outcomes = feed_outcomes(poll_dir / "policy_news.duckdb", poll["run_id"])
    results["no_change_poll"] = {
        "feeds": site.feeds,
        "wall_s": poll["wall_s"],
        "process_wall_s": poll["derived"]["process_wall_s"],
        "imports_s": poll["imports_s"],
        "items_new": poll["stats"]["items_new"],
        "outcomes": outcomes,
        "stage_timings": poll["derived"]["stage_timings"],
        "peak_rss_mib": poll["derived"]["peak_rss_mib"],
        "other_processes_cpu_s": poll["derived"]["other_processes_cpu_s"],
    }
    say(
        f"{site.feeds} feeds polled in {poll['wall_s']:.2f} s (fresh process incl. imports "
        f"{poll['derived']['process_wall_s']:.1f} s): feed outcomes {outcomes}, new items "
        f"{poll['stats']['items_new']}; stages {poll['derived']['stage_timings']}"
    )
