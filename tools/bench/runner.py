"""One measured `run_pipeline` in a fresh process (the harness samples its memory and CPU).

    python -m tools.bench.runner --feeds FEEDS.yaml --workdir DIR --settings JSON --out OUT.json

A fresh process per run keeps one run's memory from inflating the next one's peak,
and is what `policy-news run` (or one Airflow worker) looks like.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def bench_settings(workdir: Path, overrides: dict[str, Any]) -> Any:
    from policy_news.settings import get_settings

    values: dict[str, Any] = {
        "db_path": workdir / "policy_news.duckdb",
        "staging_dir": workdir / "staging",
        "docs_dir": workdir / "data_docs",
        "allowed_private_nets": ("127.0.0.0/8",),
    }
    for key, value in overrides.items():
        values[key] = tuple(value) if isinstance(value, list) else value
    return get_settings(**values)


def run_once(
    feeds: Path,
    workdir: Path,
    overrides: dict[str, Any],
    keep_staging: bool = False,
    poll_all: bool = False,
) -> dict[str, Any]:
    import psutil

    from tools.bench.measure import tree_cpu_total_s

    t0 = time.perf_counter()
    from policy_news.extract import articles
    from policy_news.pipeline import runner as pipeline
    from policy_news.store import connection
    from policy_news.tagging.tagger import get_tagger

    settings = bench_settings(workdir, overrides)
    get_tagger(settings.taxonomy_path)  # the tagger's tables load once per process
    imports_s = time.perf_counter() - t0
    me = psutil.Process()
    cpu0 = me.cpu_times()
    tree0 = tree_cpu_total_s(me)
    profiler = None
    if os.environ.get(
        "POLICY_NEWS_BENCH_PROFILE"
    ):  # debugging: cProfile of this process's main thread
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    summary = pipeline.run_pipeline(
        settings,
        feeds,
        keep_staging=keep_staging,
        poll_all=poll_all,
        progress=lambda msg: print(
            f"{time.perf_counter() - started:8.2f} {msg}", file=sys.stderr, flush=True
        ),
    )
    wall = time.perf_counter() - started
    cpu1 = me.cpu_times()
    tree1 = tree_cpu_total_s(me)  # the forkserver is still alive and has reaped every worker
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.environ["POLICY_NEWS_BENCH_PROFILE"])
    with connection.open_db(settings.db_path, read_only=True) as conn:
        row = conn.execute(
            "SELECT timings, articles_loaded, items_new FROM pipeline_runs WHERE run_id = ?",
            [summary.run_id],
        ).fetchone()
        total = conn.execute("SELECT count(*) FROM articles").fetchone()
        articles_total = total[0] if total else 0
    return {
        "run_id": summary.run_id,
        "outcome": summary.outcome,
        "message": summary.message,
        "wall_s": round(wall, 3),
        "imports_s": round(imports_s, 3),
        "stats": summary.stats,
        "load": {k: v for k, v in summary.load.items() if k not in ("snapshot", "db")},
        "pipeline_runs_timings": json.loads(row[0]) if row and row[0] else None,
        "articles_in_db": articles_total,
        "extraction": dict(articles.EXTRACTION_STATS),
        "cpu_s": {
            "main_user": round(cpu1.user - cpu0.user, 3),
            "main_system": round(cpu1.system - cpu0.system, 3),
            "workers_user": round(cpu1.children_user - cpu0.children_user, 3),
            "workers_system": round(cpu1.children_system - cpu0.children_system, 3),
            # this process, the forkserver, extraction workers, the validation process
            "tree": round(tree1 - tree0, 3),
        },
        "settings": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in settings.__dict__.items()
            if k
            in (
                "host_concurrency",
                "host_delay_s",
                "global_concurrency",
                "extract_workers",
                "article_tasks",
                "article_batch_size",
                "feed_tasks",
            )
        },
        "pid": os.getpid(),
    }


def _exit_with_parent() -> None:
    """The harness started us; if it goes away (killed), so do we (and our workers)."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--settings", default="{}", help="Settings overrides as JSON")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--keep-staging", action="store_true", help="keep the run folder (debugging)"
    )
    parser.add_argument("--poll-all", action="store_true", help="poll every feed, due or not")
    args = parser.parse_args(argv)
    _exit_with_parent()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    result = run_once(
        args.feeds, args.workdir, json.loads(args.settings), args.keep_staging, args.poll_all
    )
    args.out.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
