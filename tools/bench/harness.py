"""`make bench`: throughput, memory, scaling, small runs, naive baseline, tagging, queries, Airflow.

    python -m tools.bench [--quick] [--only small] [--sizes 500,2000,10000]
                          [--latency-ms 150] [--skip-airflow] [--json PATH] [--chart PATH]

Everything runs against a synthetic site on loopback addresses (see site.py), with
the project's own settings (politeness included) unless a flag says otherwise; every
figure printed is measured in this run. See docs/benchmarks.md for how to read them.
This module builds the site and runs the sections in order; each section's module
measures and prints its part.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import get_settings, project_home
from tools.bench.airflow_overhead import section_airflow
from tools.bench.core_seconds import section_budget
from tools.bench.pipeline_runs import section_poll, section_run
from tools.bench.report import SectionRunner, say
from tools.bench.scenarios import (
    SMALL_FEEDS,
    SMALL_SIZES,
    airflow_sites,
    main_size,
    scaling_sites,
    small_sites,
)
from tools.bench.sections import (
    section_naive,
    section_quality,
    section_queries,
    section_stories,
    section_tagging,
)
from tools.bench.site import running
from tools.bench.site_content import ServerSpec, corpus_dir
from tools.bench.small_runs import section_small_runs
from tools.bench.summary import print_summary, write_results
from tools.bench.targets import judge

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tools.bench.site_content import Content, SiteSpec

# Rough costs used to keep `make bench` inside its time budget (--budget-s).
NAIVE_S_PER_ARTICLE = 0.2
AIRFLOW_S = 120.0  # migrate + DAG run + CLI run + the small DAG run
AIRFLOW_SMALL_S = 35.0


def _config(
    args: argparse.Namespace, cores: int, delay: float, all_sites: list[SiteSpec], spec: ServerSpec
) -> dict[str, Any]:
    base = get_settings()
    return {
        "only": args.only,
        "sizes": args.sizes,
        "main_size": main_size(args.sizes) if args.sizes else None,
        "small_sizes": args.small_sizes,
        "latency_ms": args.latency_ms,
        "cores": cores,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()),
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
        "pythonpath": os.environ.get("PYTHONPATH", ""),
    }


def _scaling_and_rest(
    results: dict[str, Any],
    sections: SectionRunner,
    work: Path,
    content: Content,
    server_pid: int,
    overrides: dict[str, Any],
    args: argparse.Namespace,
    started: float,
) -> None:
    """The scaling runs, the no-change poll, the small runs, the naive baseline, Airflow."""
    cores = results["config"]["cores"]
    runs: list[dict[str, Any]] = []
    results["runs"] = runs
    for site in scaling_sites(args):
        result = sections.run(
            f"run_{site.name}", section_run, work, content, site, overrides, server_pid, cores, args
        )
        if result is not None:
            runs.append(result)
    if runs:
        poll_args = (results, work, content, runs[-1], overrides, server_pid, cores, args)
        sections.run("no_change_poll", section_poll, *poll_args)
    if args.small_sizes:
        small = small_sites(args.small_sizes, args.small_feeds)
        small_args = (results, work, content, small, overrides, server_pid, cores, args)
        sections.run("small_runs", section_small_runs, *small_args)
    # Time budget: what is left after the runs decides how much of the rest fits.
    reserve = 30.0 + (0.0 if args.skip_airflow else AIRFLOW_S)  # tagging, queries, Airflow
    left = args.budget_s - (time.perf_counter() - started) - reserve
    naive_n = min(args.naive_articles, max(50, int(left / NAIVE_S_PER_ARTICLE)))
    if naive_n < args.naive_articles:
        say(f"\n(time budget: naive subset cut from {args.naive_articles} to {naive_n})")
        results.setdefault("budget_cuts", []).append(f"naive subset {naive_n}")
    main = results["config"]["main_size"]
    sections.run("naive", section_naive, results, work, content, main, args, naive_n)
    if args.skip_airflow:
        return
    left = args.budget_s - (time.perf_counter() - started) - 30.0
    if left < AIRFLOW_S - AIRFLOW_SMALL_S:
        say(f"\n(time budget: {left:.0f} s left, Airflow section skipped)")
        results.setdefault("budget_cuts", []).append("airflow")
        return
    air, small_air = airflow_sites(args)
    second: SiteSpec | None = small_air
    if left < AIRFLOW_S:
        say("\n(time budget: second, smaller DAG run skipped)")
        results.setdefault("budget_cuts", []).append("airflow small run")
        second = None
    delay = results["config"]["host_delay_s"]
    air_args = (results, work, content, air, second, delay, runs, args)
    sections.run("airflow", section_airflow, *air_args)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    cores = os.cpu_count() or 1
    base = get_settings()
    delay = base.host_delay_s if args.host_delay_s is None else args.host_delay_s
    sites = scaling_sites(args)
    small = small_sites(args.small_sizes, args.small_feeds)
    all_sites = sites + small + ([] if args.skip_airflow else list(airflow_sites(args)))
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
    results: dict[str, Any] = {"config": _config(args, cores, delay, all_sites, spec)}
    results["config"]["workdir"] = str(work)
    say(
        f"policy-news bench: {cores} cores, latency {args.latency_ms:g} ms per request, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, workdir {work}"
    )
    say(
        f"politeness: {base.host_concurrency} requests at once per host, {delay:g} s between "
        f"request starts per host (project settings; --host-delay-s to change; the small "
        f"runs set their own); global concurrency {base.global_concurrency}"
    )
    for s in sites:
        say(
            f"  site {s.name}: {s.articles} articles, {s.feeds} feeds, {s.hosts} hosts "
            f"(127.0.1.1 ...), <= {s.max_articles_per_host()} articles per host -> politeness "
            f"floor ~{(s.max_articles_per_host() - 1) * delay:g} s"
        )

    sections = SectionRunner(results)
    if sites and not args.skip_quality:
        sections.run("extraction_quality", section_quality, results, spec)
    with running(spec) as (server, content):
        say(f"\nsite server pid {server.pid} on port {spec.port}, {spec.hosts} loopback addresses")
        if sites:
            _scaling_and_rest(
                results, sections, work, content, server.pid, overrides, args, started
            )
        elif small:
            small_args = (results, work, content, small, overrides, server.pid, cores, args)
            sections.run("small_runs", section_small_runs, *small_args)
    results["site_server"] = server.stats
    if sites:
        main_db = work / f"n{results['config']['main_size']}" / "policy_news.duckdb"
        if main_db.exists():
            sections.run("tagging", section_tagging, results, main_db, args)
        sections.run("stories", section_stories, results)
        sections.run("cost_budget", section_budget, results, cores)
        sections.run("queries", section_queries, results, work, args)

    results["total_wall_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = judge(results)
    return results


def _sizes(text: str) -> list[int]:
    return sorted({int(x) for x in text.split(",") if x.strip()})


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 200 articles, 40-article naive subset, 100k-row queries, "
        "no small runs, no Airflow",
    )
    parser.add_argument(
        "--only",
        choices=["small"],
        default=None,
        help="run only this scenario (small: the small runs, results in data/bench/small_runs.json)",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="articles per run, comma-separated (default 500,2000,10000)",
    )
    parser.add_argument(
        "--small-sizes",
        type=_sizes,
        default=list(SMALL_SIZES),
        help="new articles per small run, comma-separated (default 20,100,300)",
    )
    parser.add_argument(
        "--small-feeds",
        type=int,
        default=SMALL_FEEDS,
        help=f"feeds (= hosts) of every small run (default {SMALL_FEEDS})",
    )
    parser.add_argument("--skip-small", action="store_true", help="leave the small runs out")
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
        default=720.0,
        help="whole bench; the naive subset and the Airflow section shrink to fit (default 720)",
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
    if args.quick or args.skip_small:
        args.small_sizes = []
    if args.only == "small":
        args.sizes, args.skip_airflow, args.skip_quality = [], True, True
        args.small_sizes = args.small_sizes or list(SMALL_SIZES)
    elif not args.sizes:
        args.sizes = [500, 2000, 10000]
    home = project_home()
    results_name = "small_runs.json" if args.only == "small" else "results.json"
    args.json = args.json or home / "data" / "bench" / results_name
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
    write_results(results, args.json, args.chart)
    if not args.keep:
        shutil.rmtree(results["config"]["workdir"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
