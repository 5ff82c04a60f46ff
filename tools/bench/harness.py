"""`make bench`: throughput, memory, scaling, naive baseline, tagging, queries, Airflow.

    python -m tools.bench [--quick] [--sizes 500,2000,10000] [--latency-ms 150]
                                [--skip-airflow] [--json PATH] [--chart PATH]

Everything runs against a synthetic site on loopback addresses (see site.py), with
the project's own settings (politeness included) unless a flag says otherwise; every
figure printed is measured in this run. See docs/benchmarks.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import get_settings, project_home
from tools.bench.measure import CpuWindow, run_measured
from tools.bench.site import Content, ServerSpec, SiteSpec, corpus_dir, feeds_yaml, running

if TYPE_CHECKING:
    from collections.abc import Sequence

TARGETS = {
    "speedup_vs_naive": 8.0,
    "wall_vs_extraction_bound": 1.25,
    "no_change_poll_s": 10.0,
    "peak_rss_mib_10k": 1024.0,
    "tagging_per_core": 500.0,
    "query_s": 0.5,
    "airflow_ratio": 2.0,
}
MAIN_SIZE = 2000
# Rough costs used to keep `make bench` inside its time budget (--budget-s).
NAIVE_S_PER_ARTICLE = 0.2
AIRFLOW_S = 120.0  # migrate + DAG run + CLI run + the small DAG run
AIRFLOW_SMALL_S = 35.0


def default_feeds(articles: int) -> int:
    """20 articles a feed up to 2,000 articles; 10 a feed beyond (10,000 -> 1,000 feeds)."""
    return max(1, articles // 20 if articles <= 2000 else articles // 10)


def say(message: str = "") -> None:
    print(message, flush=True)


class Sections:
    """Runs bench sections; a failing one is recorded in results["errors"] and skipped."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results

    def run(self, name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:  # one broken section must not hide the others' figures
            message = f"{type(exc).__name__}: {exc}"
            self.results.setdefault("errors", {})[name] = message[-4000:]
            say(f"!! {name} failed: {message[-1500:]}")
            return None


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


# --------------------------------------------------------------------------- pipeline runs


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
) -> dict[str, Any]:
    """One run_pipeline in a fresh process, with memory/CPU sampling from outside."""
    out = workdir / f"{label}.json"
    log = workdir / f"{label}.log"
    sampled = run_measured(
        _runner_cmd(feeds, workdir, overrides, out, poll_all),
        other_pids=[server_pid],
        log_path=str(log),
        timeout_s=timeout_s,
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
    serial = sum(
        timings.get(k, 0.0) for k in ("plan", "fetch_feeds", "select_new_items", "validate", "load")
    )
    wall = result["wall_s"]
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
        "tree_cpu_s": sampled["tree_cpu_s"],
        "server_cpu_s": round(server_cpu, 2),
        "other_processes_cpu_s": round(max(0.0, busy - sampled["tree_cpu_s"] - server_cpu), 2),
        "machine_busy_pct": [c["busy_pct"] for c in sampled["cpu"]["per_core"]],
        "peak_rss_mib": sampled["peak_rss_mib"],
        "process_wall_s": sampled["cpu"]["wall_s"],
    }
    return result


def _poll_detail(db: Path, run_id: str) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM feed_fetches WHERE run_id = ? GROUP BY ALL", [run_id]
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


# --------------------------------------------------------------------------- tagging


def measure_tagging(db: Path, seconds: float) -> dict[str, Any]:
    """tagger.tag on the texts the pipeline extracted, one core, rate by CPU time."""
    import duckdb

    from policy_news.tagging.tagger import get_tagger

    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT title, summary, text FROM articles WHERE text IS NOT NULL ORDER BY article_id"
        ).fetchall()
    if not rows:
        return {"articles": 0}
    tagger = get_tagger(get_settings().taxonomy_path)
    for title, summary, text in rows[:20]:
        tagger.tag(title, summary, text)
    rates: list[float] = []
    tagged = 0
    words = statistics.fmean(len((r[2] or "").split()) for r in rows)
    wall0 = time.perf_counter()
    deadline = time.process_time() + seconds
    i = 0
    while time.process_time() < deadline or len(rates) < 3:
        start = time.process_time()
        for _ in range(100):
            title, summary, text = rows[i % len(rows)]
            tagger.tag(title, summary, text)
            i += 1
        rates.append(100 / max(time.process_time() - start, 1e-9))
        tagged += 100
    return {
        "distinct_articles": len(rows),
        "words_per_article": round(words, 1),
        "articles_tagged": tagged,
        "per_core_articles_per_s": round(statistics.median(rates), 1),
        "wall_articles_per_s": round(tagged / (time.perf_counter() - wall0), 1),
    }


# --------------------------------------------------------------------------- the whole bench


def max_dag_tasks() -> int:
    """plan + feed groups + select + (fetch + tag) per item group + validate + load."""
    settings = get_settings()
    return 1 + settings.feed_tasks + 1 + 2 * settings.article_tasks + 2


def predicted_tasks(content: Content, site: SiteSpec) -> int:
    """Task instances of one DAG run for this site: the mapped groups are bounded by settings."""
    from policy_news.pipeline.partition import partition_by_host
    from policy_news.sources.urls import normalise_url

    settings = get_settings()
    feeds = [content.feed_url(site, j) for j in range(site.feeds)]
    urls = [normalise_url(content.article_url(site, i)) for i in range(site.articles)]
    feed_groups = len(partition_by_host(feeds, settings.feed_tasks, settings.feed_task_min_feeds))
    item_groups = len(
        partition_by_host(urls, settings.article_tasks, settings.article_task_min_items)
    )
    return 1 + feed_groups + 1 + 2 * item_groups + 2


def section_quality(results: dict[str, Any], spec: ServerSpec) -> None:
    say("\n== extraction quality and cost per trafilatura setting (corpus pages) ==")
    from tools.bench.quality import evaluate

    if not spec.corpus:
        say("shared corpus not found: skipped")
        return
    quality = evaluate(Path(spec.corpus))
    results["extraction_quality"] = quality
    say(
        table(
            [
                "setting",
                "token F1",
                "precision",
                "recall",
                "CPU ms/page",
                "pages with text",
                "pages != fallbacks",
            ],
            [
                (
                    k,
                    v["f1"],
                    v["precision"],
                    v["recall"],
                    v["cpu_ms_per_page"],
                    v["pages_with_text"],
                    v.get("pages_differing_from_full"),
                )
                for k, v in quality["variants"].items()
            ],
        )
    )
    say(
        f"(F1 over the {quality['pages_with_reference']} pages with reference text; CPU "
        f"and changed pages over all {quality['pages_timed']} corpus pages)"
    )


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
        f"{result['cpu_s']['main_user'] + result['cpu_s']['main_system']:.1f} s; peak RSS {d['peak_rss_mib']:.0f} MiB (per process {result['process']['peak_rss_mib_by_process']}); "
        f"other processes used {d['other_processes_cpu_s']} CPU-s meanwhile"
    )
    return result


# What a fresh process of each kind imports before its first piece of work.
STARTUP_CODE = {
    "extraction_worker": "import py3langid, trafilatura; py3langid.classify('warm up')",
    "validation_process": "import great_expectations",
}


def startup_cpu_s(code: str, repeats: int = 2) -> float:
    """CPU seconds of a fresh interpreter running `code` (the best of `repeats`)."""
    best = math.inf
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return round(best, 2)


def cost_budget(
    run: dict[str, Any],
    startups: dict[str, float],
    cores: int,
    tagging_per_s: float | None = None,
) -> dict[str, Any]:
    """Where the run's core-seconds went, against what wall <= 1.25 x bound leaves.

    wall <= r * E / cores means cores * wall <= r * E: everything but trafilatura's own
    CPU (E), idle cores included, must fit in (r - 1) * E core-seconds. The floor counts
    only work no run can skip: extraction, the workers' per-page extras, process
    start-ups and tagging the run's articles (at the measured per-core rate).
    """
    d, cpu = run["derived"], run["cpu_s"]
    trafilatura = d["extraction_cpu_s"]
    worker_page = d["worker_page_cpu_s"]
    workers = int(run["settings"].get("extract_workers") or 1)
    worker_starts = workers * startups["extraction_worker"] if workers > 1 else 0.0
    validation_start = startups["validation_process"]
    main_cpu = cpu["main_user"] + cpu["main_system"]
    available = cores * run["wall_s"]
    server, others = d["server_cpu_s"], d["other_processes_cpu_s"]
    parts = {
        "workers' other per-page work (language, fingerprint, gzip)": worker_page - trafilatura,
        f"start-up of {workers} extraction workers (import trafilatura)": worker_starts,
        "start-up of the validation process (import Great Expectations)": validation_start,
        "pipeline process (HTTP, feeds, staging, tagging, load)": main_cpu,
        "rest of the process tree (validation itself, forkserver, IPC)": d["tree_cpu_s"]
        - worker_page
        - worker_starts
        - validation_start
        - main_cpu,
        "bench site server (elsewhere in production)": server,
        "other processes on the machine": others,
        "idle core time (network waits, serial stages)": available
        - d["tree_cpu_s"]
        - server
        - others,
    }
    ratio = TARGETS["wall_vs_extraction_bound"]
    tagging = d["articles_loaded"] / tagging_per_s if tagging_per_s else 0.0
    fixed = (worker_page - trafilatura) + worker_starts + validation_start + tagging
    return {
        "trafilatura_core_s": round(trafilatura, 2),
        "available_core_s": round(available, 2),
        "budget_core_s": round((ratio - 1) * trafilatura, 2),
        "parts_core_s": {k: round(v, 2) for k, v in parts.items()},
        "startup_cpu_s": startups,
        "tagging_core_s": round(tagging, 2),
        # The ratio with the pipeline process doing nothing but tagging, no core ever idle.
        "floor_ratio": round((trafilatura + fixed) / trafilatura, 3) if trafilatura else None,
    }


def section_budget(results: dict[str, Any], cores: int) -> None:
    main_size = results["config"]["main_size"]
    run = next((r for r in results.get("runs", []) if r["site"]["articles"] == main_size), None)
    if run is None:
        return
    startups = {kind: startup_cpu_s(code) for kind, code in STARTUP_CODE.items()}
    rate = (results.get("tagging") or {}).get("per_core_articles_per_s")
    budget = cost_budget(run, startups, cores, rate)
    results["cost_budget"] = budget
    ratio = TARGETS["wall_vs_extraction_bound"]
    say(f"\n== where the core-seconds went ({main_size} articles) ==")
    say(
        f"{cores} cores x {run['wall_s']} s wall = {budget['available_core_s']} core-s; "
        f"trafilatura used {budget['trafilatura_core_s']}. Wall <= {ratio} x bound leaves "
        f"{budget['budget_core_s']} core-s for everything else, idle cores included:"
    )
    say(table(["", "core-s"], list(budget["parts_core_s"].items())))
    say(
        f"floor with no core ever idle and the pipeline process doing nothing but tagging "
        f"({budget['tagging_core_s']} core-s): trafilatura + workers' other per-page work + "
        f"process start-ups + tagging = {budget['floor_ratio']} x bound"
    )


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
    outcomes = _poll_detail(poll_dir / "policy_news.duckdb", poll["run_id"])
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


def section_naive(
    results: dict[str, Any],
    work: Path,
    content: Content,
    main_size: int,
    args: argparse.Namespace,
    articles: int,
) -> None:
    from tools.bench.naive import run_naive

    main_site = content.sites[f"n{main_size}"]
    subset = min(articles, main_site.articles)
    say(
        f"\n== naive baseline: sequential fetch / extract (trafilatura defaults) / row inserts, "
        f"on a random subset of {subset} articles of the {main_site.articles}-article site =="
    )
    say("(the naive script costs ~0.2 s an article, so it runs on a subset; rates are per article)")
    with CpuWindow() as naive_cpu:
        naive = run_naive(content, main_site.name, subset, work / "naive.duckdb", seed=args.seed)
    naive["cpu"] = naive_cpu.result()
    results["naive"] = naive
    say(
        f"naive: {naive['articles']} articles from {naive['feeds']} feeds in {naive['wall_s']:.1f} s "
        f"= {naive['articles_per_s']:.2f} articles/s ({naive['s_per_article']} s each: fetch "
        f"{naive['fetch_s']} s, extract {naive['extract_s']} s, insert {naive['insert_s']} s)"
    )
    main_run = next(
        (r for r in results.get("runs", []) if r["site"]["articles"] == main_size), None
    )
    if main_run and naive["articles_per_s"]:
        speedup = main_run["derived"]["articles_per_s"] / naive["articles_per_s"]
        results["comparison"] = {
            "pipeline_articles_per_s": main_run["derived"]["articles_per_s"],
            "naive_articles_per_s": naive["articles_per_s"],
            "speedup": round(speedup, 2),
        }
        say(
            f"pipeline at {main_size}: {main_run['derived']['articles_per_s']:.1f} articles/s -> "
            f"{speedup:.2f}x the naive rate"
        )


def section_airflow(
    results: dict[str, Any],
    work: Path,
    content: Content,
    air: SiteSpec,
    air_small: SiteSpec | None,
    delay: float,
    runs: list[dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    from tools.bench import airflow_overhead

    say(
        f"\n== Airflow: `airflow dags test` vs `policy-news run`, {air.articles} articles "
        f"({air.feeds} feeds, {air.hosts} hosts)"
        + (f"; a second DAG run on {air_small.articles} ==" if air_small else " ==")
    )
    feeds_air = work / "feeds_air.yaml"
    feeds_air.write_text(feeds_yaml(content, content.sites[air.name]))
    feeds_small = None
    if air_small is not None:
        feeds_small = work / "feeds_airsmall.yaml"
        feeds_small.write_text(feeds_yaml(content, content.sites[air_small.name]))
    env = {
        "POLICY_NEWS_ALLOWED_PRIVATE_NETS": "127.0.0.0/8",
        "POLICY_NEWS_HOST_DELAY_S": str(delay),
    }
    if args.extract_workers:
        env["POLICY_NEWS_EXTRACT_WORKERS"] = str(args.extract_workers)
    af = airflow_overhead.compare(work / "airflow", feeds_air, feeds_small, env)
    af["predicted_tasks"] = {
        air.name: predicted_tasks(content, content.sites[air.name]),
        **(
            {air_small.name: predicted_tasks(content, content.sites[air_small.name])}
            if air_small
            else {}
        ),
        **{r["site"]["name"]: r["predicted_dag_tasks"] for r in runs},
    }
    dag = af["dag"]
    longest: dict[str, float] = {}
    for name, seconds in dag.get("tasks_s", {}).items():
        base = name.split("[", 1)[0]
        longest[base] = max(longest.get(base, 0.0), seconds)
    # `dags test` runs mapped task instances one after another; a scheduler with
    # parallelism >= the map width runs them side by side.
    af["dag_with_parallel_mapped_tasks_s"] = round(
        dag["wall_s"] - dag.get("sum_tasks_s", 0.0) + sum(longest.values()), 2
    )
    af["ratio_with_parallel_mapped_tasks"] = (
        round(af["dag_with_parallel_mapped_tasks_s"] / af["cli"]["wall_s"], 2)
        if af["cli"]["wall_s"]
        else None
    )
    results["airflow"] = af
    counts = [c["tasks"] for c in af["task_counts"]]
    say(
        f"DAG run {af['dag']['wall_s']:.1f} s ({af['dag']['articles_loaded']} loaded) vs CLI "
        f"{af['cli']['wall_s']:.1f} s ({af['cli']['articles_loaded']} loaded): ratio {af['ratio']}; "
        f"task instances per DAG run: {counts} for "
        f"{[air.articles] + ([air_small.articles] if air_small else [])} articles; "
        f"predicted from the settings for every site: {af['predicted_tasks']}"
    )
    say(
        f"inside tasks {dag.get('sum_tasks_s')} s (mapped instances one after another: "
        f"{dag.get('tasks_s')}); outside tasks (Airflow itself: start, parse, state) "
        f"{dag.get('outside_tasks_s')} s; with the mapped instances side by side the run would "
        f"take ~{af['dag_with_parallel_mapped_tasks_s']} s = "
        f"{af['ratio_with_parallel_mapped_tasks']}x the CLI"
    )


def section_tagging(results: dict[str, Any], db: Path, args: argparse.Namespace) -> None:
    say("\n== tagging: Tagger.tag on the main run's extracted articles, one core ==")
    tagging = measure_tagging(db, args.tag_seconds)
    results["tagging"] = tagging
    say(
        f"{tagging.get('per_core_articles_per_s')} articles/s per core (CPU time; "
        f"{tagging.get('wall_articles_per_s')}/s wall) over {tagging.get('distinct_articles')} "
        f"articles of ~{tagging.get('words_per_article')} words"
    )


def section_queries(results: dict[str, Any], work: Path, args: argparse.Namespace) -> None:
    from tools.bench import queries

    say(f"\n== analyst queries over {args.query_rows:,} synthetic articles (real schema) ==")
    qdb = work / "analyst.duckdb"
    built = queries.build(qdb, args.query_rows, seed=0.42)
    timed = queries.time_queries(qdb)
    results["queries"] = {"build": built, "timings": timed}
    say(f"built in {built['build_s']} s: {built['counts']}, {built['size_mib']} MiB")
    say(
        table(
            ["query", "rows", "first run s", "median s"],
            [(k, v["rows"], v["first_s"], v["median_s"]) for k, v in timed.items()],
        )
    )


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    bench_started = time.perf_counter()
    cores = os.cpu_count() or 1
    base = get_settings()
    delay = base.host_delay_s if args.host_delay_s is None else args.host_delay_s
    sizes = sorted(set(args.sizes))
    main_size = MAIN_SIZE if MAIN_SIZE in sizes else sizes[len(sizes) // 2]
    sites = [
        SiteSpec(
            f"n{n}",
            n,
            args.feeds or default_feeds(n),
            max(1, math.ceil(n / args.articles_per_host)),
        )
        for n in sizes
    ]
    air = SiteSpec(
        "air",
        args.airflow_articles,
        max(1, args.airflow_articles // 20),
        max(1, math.ceil(args.airflow_articles / args.articles_per_host)),
    )
    air_small = SiteSpec("airsmall", max(1, args.airflow_articles // 10), air.feeds, air.hosts)
    all_sites = sites + ([] if args.skip_airflow else [air, air_small])
    spec = ServerSpec(
        sites=all_sites,
        latency_ms=args.latency_ms,
        seed=args.seed,
        lifetime_s=args.server_lifetime_s,
        corpus=str(corpus_dir()) if corpus_dir().is_dir() else None,
    )
    overrides: dict[str, Any] = {"allowed_private_nets": ["127.0.0.0/8"], "host_delay_s": delay}
    if args.extract_workers:
        overrides["extract_workers"] = args.extract_workers
    work = Path(tempfile.mkdtemp(prefix="policy_news_bench_"))
    results: dict[str, Any] = {
        "config": {
            "sizes": sizes,
            "main_size": main_size,
            "latency_ms": args.latency_ms,
            "cores": cores,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "host_delay_s": delay,
            "host_concurrency": base.host_concurrency,
            "global_concurrency": base.global_concurrency,
            "extract_workers": args.extract_workers or base.extract_workers,
            "article_tasks": base.article_tasks,
            "article_batch_size": base.article_batch_size,
            "feed_tasks": base.feed_tasks,
            "articles_per_host": args.articles_per_host,
            "sites": [s.__dict__ for s in all_sites],
            "corpus": spec.corpus,
            "workdir": str(work),
            "pythonpath": os.environ.get("PYTHONPATH", ""),
        },
    }
    say(
        f"policy-news bench: {cores} cores, latency {args.latency_ms:g} ms per request, "
        f"workdir {work}"
    )
    say(
        f"politeness: {base.host_concurrency} requests at once per host, {delay:g} s between "
        f"request starts per host (project settings; --host-delay-s to change); "
        f"global concurrency {base.global_concurrency}"
    )
    for s in sites:
        say(
            f"  site {s.name}: {s.articles} articles, {s.feeds} feeds, {s.hosts} hosts "
            f"(127.0.1.1 ...), <= {s.max_articles_per_host()} articles per host -> politeness "
            f"floor ~{(s.max_articles_per_host() - 1) * delay:g} s"
        )

    sections = Sections(results)
    if not args.skip_quality:
        sections.run("extraction_quality", section_quality, results, spec)

    with running(spec) as (server, content):
        say(f"\nsite server pid {server.pid} on port {spec.port}, {spec.hosts} loopback addresses")
        runs: list[dict[str, Any]] = []
        results["runs"] = runs
        for site in sites:
            result = sections.run(
                f"run_{site.name}",
                section_run,
                work,
                content,
                site,
                overrides,
                server.pid,
                cores,
                args,
            )
            if result is not None:
                runs.append(result)
        if runs:
            sections.run(
                "no_change_poll",
                section_poll,
                results,
                work,
                content,
                runs[-1],
                overrides,
                server.pid,
                cores,
                args,
            )
        # Time budget: what is left after the runs decides how much of the rest fits.
        reserve = 30.0 + (0.0 if args.skip_airflow else AIRFLOW_S)  # tagging, queries, Airflow
        left = args.budget_s - (time.perf_counter() - bench_started) - reserve
        naive_n = min(args.naive_articles, max(50, int(left / NAIVE_S_PER_ARTICLE)))
        if naive_n < args.naive_articles:
            say(f"\n(time budget: naive subset cut from {args.naive_articles} to {naive_n})")
            results.setdefault("budget_cuts", []).append(f"naive subset {naive_n}")
        sections.run("naive", section_naive, results, work, content, main_size, args, naive_n)
        left = args.budget_s - (time.perf_counter() - bench_started) - 30.0
        if not args.skip_airflow and left < AIRFLOW_S - AIRFLOW_SMALL_S:
            say(f"\n(time budget: {left:.0f} s left, Airflow section skipped)")
            results.setdefault("budget_cuts", []).append("airflow")
        elif not args.skip_airflow:
            second: SiteSpec | None = air_small
            if left < AIRFLOW_S:
                say("\n(time budget: second, smaller DAG run skipped)")
                results.setdefault("budget_cuts", []).append("airflow small run")
                second = None
            sections.run(
                "airflow",
                section_airflow,
                results,
                work,
                content,
                air,
                second,
                delay,
                runs,
                args,
            )
    results["site_server"] = server.stats
    main_db = work / f"n{main_size}" / "policy_news.duckdb"
    if main_db.exists():
        sections.run("tagging", section_tagging, results, main_db, args)
    sections.run("cost_budget", section_budget, results, cores)
    sections.run("queries", section_queries, results, work, args)

    results["total_wall_s"] = round(time.perf_counter() - bench_started, 1)
    results["targets"] = judge(results)
    return results


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue #6 with the measured value and whether it is met."""
    out: list[dict[str, Any]] = []

    def add(name: str, measured: Any, target: str, ok: bool | None) -> None:
        out.append({"target": name, "measured": measured, "goal": target, "met": ok})

    quality = (results.get("extraction_quality") or {}).get("variants") or {}
    from tools.bench.quality import CHOSEN, FULL

    if CHOSEN in quality and FULL in quality:
        chosen, full = quality[CHOSEN], quality[FULL]
        add(
            "extraction F1, chosen setting vs previous (reference pages)",
            f"{chosen['f1']} vs {full['f1']} ({chosen['cpu_ms_per_page']} vs "
            f"{full['cpu_ms_per_page']} ms/page)",
            "no drop",
            chosen["f1"] >= full["f1"],
        )
    runs = results.get("runs", [])
    main_size = results["config"]["main_size"]
    main = next((r for r in runs if r["site"]["articles"] == main_size), None)
    comp = results.get("comparison") or {}
    if comp.get("speedup") is not None:
        add(
            f"speed-up vs naive ({main_size} articles)",
            f"{comp['speedup']}x",
            ">= 8x",
            comp["speedup"] >= TARGETS["speedup_vs_naive"],
        )
    if main:
        ratio = main["derived"]["wall_vs_extraction_bound"]
        floor = (results.get("cost_budget") or {}).get("floor_ratio")
        add(
            f"wall / extraction-bound ({main_size} articles)",
            ratio if floor is None else f"{ratio} (floor {floor})",
            "<= 1.25",
            ratio is not None and ratio <= TARGETS["wall_vs_extraction_bound"],
        )
    poll = results.get("no_change_poll")
    if poll:
        add(
            f"no-change poll of {poll['feeds']} feeds",
            f"{poll['wall_s']} s",
            "< 10 s",
            poll["wall_s"] < TARGETS["no_change_poll_s"] if poll["feeds"] >= 1000 else None,
        )
    big = next((r for r in runs if r["site"]["articles"] >= 10000), None)
    if big:
        peak = big["derived"]["peak_rss_mib"]
        add(
            f"peak RSS, {big['site']['articles']}-article run",
            f"{peak} MiB",
            "< 1024 MiB",
            peak < TARGETS["peak_rss_mib_10k"],
        )
    tagging = results.get("tagging") or {}
    if tagging.get("per_core_articles_per_s") is not None:
        rate = tagging["per_core_articles_per_s"]
        add(
            "tagging per core",
            f"{rate} articles/s",
            ">= 500/s",
            rate >= TARGETS["tagging_per_core"],
        )
    queries = (results.get("queries") or {}).get("timings") or {}
    rows = (results.get("queries") or {}).get("build", {}).get("counts", {}).get("articles", 0)
    for name, t in queries.items():
        if "whole view" in name:
            add(
                f"query {name}, {rows:,} articles",
                f"{t['median_s']} s",
                "< 0.5 s",
                t["median_s"] < TARGETS["query_s"] if rows >= 1_000_000 else None,
            )
    af = results.get("airflow")
    if af:
        add(
            "Airflow DAG run / CLI run (`dags test`)",
            af["ratio"],
            "< 2",
            af["ratio"] is not None and af["ratio"] < 2,
        )
        if af.get("ratio_with_parallel_mapped_tasks") is not None:
            add(
                "  (derived: mapped tasks side by side)",
                af["ratio_with_parallel_mapped_tasks"],
                "< 2",
                None,
            )
        counts = {c["tasks"] for c in af["task_counts"]}
        add(
            "DAG task count independent of articles",
            sorted(counts),
            "bounded by settings",
            max(counts) <= max_dag_tasks() if counts else None,
        )
    return out


def print_summary(results: dict[str, Any]) -> None:
    runs = results.get("runs", [])
    say("\n== scaling ==")
    say(
        table(
            [
                "articles",
                "feeds",
                "hosts",
                "wall s",
                "articles/s",
                "loaded",
                "extract CPU s",
                "bound s",
                "wall/bound",
                "peak RSS MiB",
                "tree CPU s",
                "others' CPU s",
                "core busy %",
            ],
            [
                (
                    r["site"]["articles"],
                    r["site"]["feeds"],
                    r["site"]["hosts"],
                    r["wall_s"],
                    r["derived"]["articles_per_s"],
                    r["derived"]["articles_loaded"],
                    r["derived"]["extraction_cpu_s"],
                    r["derived"]["extraction_bound_s"],
                    r["derived"]["wall_vs_extraction_bound"],
                    r["derived"]["peak_rss_mib"],
                    r["derived"]["tree_cpu_s"],
                    r["derived"]["other_processes_cpu_s"],
                    "/".join(f"{p:.0f}" for p in r["derived"]["machine_busy_pct"]),
                )
                for r in runs
            ],
        )
    )
    say("\nstage seconds (fetch_articles and tag are summed over the concurrent item groups):")
    keys = ["plan", "fetch_feeds", "select_new_items", "fetch_articles", "tag", "validate", "load"]
    say(
        table(
            ["articles", *keys, "article stage wall"],
            [
                (
                    r["site"]["articles"],
                    *[r["derived"]["stage_timings"].get(k) for k in keys],
                    r["derived"]["fetch_extract_tag_wall_s"],
                )
                for r in runs
            ],
        )
    )
    say("\n== targets (issue #6) ==")
    say(
        table(
            ["target", "measured", "goal", "met"],
            [
                (
                    t["target"],
                    t["measured"],
                    t["goal"],
                    {True: "yes", False: "NO", None: "n/a"}[t["met"]],
                )
                for t in results["targets"]
            ],
        )
    )
    if results.get("budget_cuts"):
        say(f"time budget (--budget-s) cut: {', '.join(results['budget_cuts'])}")
    for name, error in (results.get("errors") or {}).items():
        say(f"!! section {name} failed: {error[-300:]}")
    say(f"\ntotal bench wall time {results['total_wall_s']} s")


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = results.get("runs", [])
    if not runs:
        return
    sizes = [r["site"]["articles"] for r in runs]
    rate = [r["derived"]["articles_per_s"] for r in runs]
    bound = [
        r["derived"]["articles_new"] / r["derived"]["extraction_bound_s"]
        if r["derived"]["extraction_bound_s"]
        else 0
        for r in runs
    ]
    peak = [r["derived"]["peak_rss_mib"] for r in runs]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(sizes, rate, "o-", label="pipeline (end to end)")
    ax1.plot(sizes, bound, "s--", label="extraction-bound limit")
    naive = (results.get("naive") or {}).get("articles_per_s")
    if naive:
        ax1.axhline(naive, color="grey", linestyle=":", label=f"naive baseline ({naive:.1f}/s)")
    ax1.set_xscale("log")
    ax1.set_xlabel("new articles per run")
    ax1.set_ylabel("articles / s")
    ax1.set_title("Throughput")
    ax1.legend(fontsize=8)
    ax1.set_ylim(bottom=0)
    ax2.plot(sizes, peak, "o-", color="tab:red", label="peak RSS, process tree")
    ax2.axhline(1024, color="grey", linestyle=":", label="1 GiB target")
    ax2.set_xscale("log")
    ax2.set_xlabel("new articles per run")
    ax2.set_ylabel("MiB")
    ax2.set_title("Peak memory")
    ax2.legend(fontsize=8)
    ax2.set_ylim(bottom=0)
    cfg = results["config"]
    fig.suptitle(
        f"policy-news bench: {cfg['cores']} cores, {cfg['latency_ms']:g} ms latency, "
        f"{cfg['host_delay_s']:g} s per-host delay",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small smoke run: 200 articles, 40-article naive subset, 100k-row queries, no Airflow",
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x.strip()],
        default=None,
        help="articles per run, comma-separated (default 500,2000,10000)",
    )
    parser.add_argument(
        "--feeds", type=int, default=None, help="feeds per site (default: see default_feeds)"
    )
    parser.add_argument(
        "--articles-per-host", type=int, default=5, help="hosts = articles / this (default 5)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=150.0, help="per-request server latency"
    )
    parser.add_argument(
        "--host-delay-s",
        type=float,
        default=None,
        help="per-host delay between request starts (default: the project setting)",
    )
    parser.add_argument("--extract-workers", type=int, default=None)
    parser.add_argument("--naive-articles", type=int, default=300)
    parser.add_argument("--airflow-articles", type=int, default=200)
    parser.add_argument("--skip-airflow", action="store_true")
    parser.add_argument(
        "--skip-quality", action="store_true", help="skip the extraction-quality table"
    )
    parser.add_argument("--query-rows", type=int, default=1_000_000)
    parser.add_argument("--tag-seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=20260110)
    parser.add_argument("--server-lifetime-s", type=float, default=1500.0)
    parser.add_argument("--run-timeout-s", type=float, default=900.0, help="per pipeline run")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=570.0,
        help="whole bench; the naive subset and the Airflow section shrink to fit (default 570)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, help="results file (default data/bench/results.json)"
    )
    parser.add_argument(
        "--chart", type=Path, default=None, help="PNG chart (default docs/bench_scaling.png)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = args.sizes or [200]
        args.naive_articles = min(args.naive_articles, 40)
        args.query_rows = min(args.query_rows, 100_000)
        args.skip_airflow = True
        args.tag_seconds = min(args.tag_seconds, 2.0)
    args.sizes = args.sizes or [500, 2000, 10000]
    home = project_home()
    args.json = args.json or home / "data" / "bench" / "results.json"
    args.chart = args.chart or (
        home / "docs" / "bench_scaling.png"
        if not args.quick
        else home / "data" / "bench" / "bench_scaling_quick.png"
    )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    random.seed(args.seed)
    results = run_bench(args)
    print_summary(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str))
    chart(results, args.chart)
    say(f"results: {args.json}\nchart: {args.chart}")
    if not args.keep:
        shutil.rmtree(results["config"]["workdir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
