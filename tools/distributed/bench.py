"""`python -m tools.distributed.bench`: one ingest run of the bench site, CLI vs Airflow vs Celery.

The same bench site (tools/bench: real corpus pages as templates, one loopback host per
outlet, a fixed latency per request) and the same settings, each way on a fresh database:

- `cli-pool`: `policy-news run --all-feeds` with the project's default extraction pool
  (one process per core), one process tree, local staging;
- `cli`: the same with `POLICY_NEWS_EXTRACT_WORKERS=1`, as the Airflow ways below (see
  EXTRACT_WORKERS);
- `local`: Airflow with the LocalExecutor (scheduler, API server and DAG processor, Postgres
  metadata), the DAG triggered with `poll_all` and run by the scheduler, local staging;
- `celery`: the Celery deployment of `make test-distributed` (tools/distributed/cluster.py):
  Redis, a `duckdb` and a `default` worker in their own mount namespaces, staging in an S3
  endpoint (moto, in this process), triggered the same way.

Wall time: the CLI process from start to exit (imports included); an Airflow run from the
scheduler's `dag_run.start_date` to `end_date`. Beside it, for every way, the pipeline's own
`pipeline_runs.started_at` -> `finished_at` (plan start to load end). Staged bytes are the
objects or files seen in the staging store, polled every second while the run goes (a run's
folder is deleted after its load). Needs root (the workers' mount namespaces); every process
it starts is stopped on the way out, also after --timeout. A benchmark, not a test: neither
`make test` nor `make test-distributed` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.bench.site import running
from tools.bench.site_content import ServerSpec, SiteSpec, corpus_dir, feeds_yaml
from tools.bench.small_runs import SMALL_RUN_ENV
from tools.distributed import cluster as af
from tools.distributed.inspect_store import files_under
from tools.distributed.processes import HarnessError, ProcessSet
from tools.distributed.services import (
    ensure_debian_packages,
    python_bin,
    start_postgres,
    start_redis,
    start_s3,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from types import FrameType

    from tools.distributed.services import S3Endpoint

LOG_DIR = af.ROOT / "data" / "distributed-bench"
MODES = ("cli-pool", "cli", "local", "celery")
DEFAULT_MODES = ("cli-pool", "local", "celery")
# One extraction thread per process (`POLICY_NEWS_EXTRACT_WORKERS=1`), the setting the
# distributed test uses, unless --extract-workers says otherwise (0: the project default,
# a pool of one process a core; Celery's daemonic task processes extract in their thread).
# `cli-pool` is the CLI with the project default.
EXTRACT_WORKERS = 1
BUCKET = "policy-news-bench"
STAGING_PREFIX = "runs"
DB_NAME = "policy_news.duckdb"
RUN_TIMEOUT_S = 900

RUNS_SQL = """
SELECT run_id, started_at, finished_at, outcome, items_new, articles_loaded
FROM pipeline_runs ORDER BY started_at
"""


class BenchTimeout(HarnessError):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    reason = "hard timeout reached" if signum == signal.SIGALRM else f"signal {signum}"
    raise BenchTimeout(f"{reason}: stopping every process")


@dataclass
class RunResult:
    """One ingest run of the site: what the table prints, and the details behind it."""

    mode: str
    repeat: int
    wall_s: float
    wall_what: str
    pipeline_s: float | None
    articles: int
    items_new: int
    outcome: str
    staged_bytes: int
    staged_objects: int
    staged: dict[str, int]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    queued_to_end_s: float | None = None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    in_tasks_s: float | None = None

    @property
    def bytes_per_article(self) -> float | None:
        return self.staged_bytes / self.articles if self.articles and self.staged_bytes else None


class StagingWatch:
    """Polls a listing of the staging store in a thread; keeps every file seen, largest size."""

    def __init__(self, listing: Callable[[], dict[str, int]], every_s: float = 1.0) -> None:
        self.listing = listing
        self.every_s = every_s
        self.seen: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _poll(self) -> None:
        try:
            sizes = self.listing()
        except Exception:  # a folder removed while listed: the next poll sees the rest
            return
        for key, size in sizes.items():
            self.seen[key] = max(size, self.seen.get(key, 0))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._poll()

    def __enter__(self) -> StagingWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def local_listing(folder: Path) -> Callable[[], dict[str, int]]:
    """Staged files under a local folder, without the `.tmp` files being written."""

    def sizes() -> dict[str, int]:
        return {k: v for k, v in files_under(folder).items() if not k.endswith(".tmp")}

    return sizes


def s3_listing(s3: S3Endpoint) -> Callable[[], dict[str, int]]:
    """One boto3 client for every poll: a new client per poll costs ~0.1 CPU-s."""
    client = s3.client()

    def sizes() -> dict[str, int]:
        out: dict[str, int] = {}
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=s3.bucket, Prefix=STAGING_PREFIX
        ):
            for item in page.get("Contents", []):
                out[item["Key"]] = int(item["Size"])
        return out

    return sizes


def pipeline_env(feeds: Path, extract_workers: int | None) -> dict[str, str]:
    """What every process of every way gets: the site, a poll's politeness (the small runs')."""
    env = {
        "POLICY_NEWS_FEEDS": str(feeds),
        "POLICY_NEWS_ALLOWED_PRIVATE_NETS": "127.0.0.0/8",
        **SMALL_RUN_ENV,
    }
    if extract_workers:  # 0: the project default (one extraction process per core)
        env["POLICY_NEWS_EXTRACT_WORKERS"] = str(extract_workers)
    return env


def stored_runs(db_path: Path) -> dict[str, Any]:
    """Articles stored and the pipeline's own record of each run (JSON-ready)."""
    if not db_path.is_file():
        return {"error": f"no database at {db_path}"}
    import duckdb

    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        (articles,) = conn.execute("SELECT count(*) FROM articles").fetchone() or (0,)
        rows = conn.execute(RUNS_SQL).fetchall()
    finally:
        conn.close()
    runs = [
        {
            "run_id": run_id,
            "pipeline_s": (finished - started).total_seconds() if finished else None,
            "outcome": outcome,
            "items_new": items_new,
            "articles_loaded": loaded,
        }
        for run_id, started, finished, outcome, items_new, loaded in rows
    ]
    return {"articles": int(articles), "runs": runs}


def _loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


def _from_store(
    mode: str,
    repeat: int,
    wall_s: float,
    wall_what: str,
    stored: dict[str, Any],
    watch: StagingWatch,
    load_before: tuple[float, float, float],
) -> RunResult:
    if "error" in stored:
        raise HarnessError(f"{mode} run {repeat}: {stored['error']}")
    last = stored["runs"][-1] if stored["runs"] else {}
    return RunResult(
        mode=mode,
        repeat=repeat,
        wall_s=round(wall_s, 2),
        wall_what=wall_what,
        pipeline_s=round(last["pipeline_s"], 2) if last.get("pipeline_s") is not None else None,
        articles=stored["articles"],
        items_new=int(last.get("items_new") or 0),
        outcome=str(last.get("outcome")),
        staged_bytes=sum(watch.seen.values()),
        staged_objects=len(watch.seen),
        staged={k.rsplit("/", 1)[-1]: v for k, v in sorted(watch.seen.items())},
        load_before=load_before,
        load_after=_loadavg(),
    )


# -- the three ways ------------------------------------------------------------------------


def run_cli(
    processes: ProcessSet, env_extra: dict[str, str], folder: Path, mode: str, repeat: int
) -> RunResult:
    """`policy-news run --all-feeds` in a fresh process on a fresh data folder.

    `cli-pool` leaves POLICY_NEWS_EXTRACT_WORKERS out: the project default, a pool.
    """
    data = folder / f"{mode}-{repeat}"
    data.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "POLICY_NEWS_"))}
    env.update(env_extra)
    if mode == "cli-pool":
        env.pop("POLICY_NEWS_EXTRACT_WORKERS", None)
    env.update(
        {
            "POLICY_NEWS_HOME": str(af.ROOT),
            "POLICY_NEWS_DATA_DIR": str(data),
            "PYTHONPATH": os.pathsep.join([str(af.ROOT / "include"), str(af.ROOT)]),
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    load_before = _loadavg()
    with StagingWatch(local_listing(data / "staging")) as watch:
        started = time.perf_counter()
        managed = processes.start(
            f"{mode}-run-{repeat}",
            [python_bin("policy-news"), "run", "--all-feeds"],
            env,
            cwd=af.ROOT,
        )
        code = managed.popen.wait(timeout=RUN_TIMEOUT_S)
        wall = time.perf_counter() - started
    processes.running.pop(managed.name, None)
    if code != 0:
        raise HarnessError(f"policy-news run exited {code}:\n{processes.tail(managed.name, 20)}")
    stored = stored_runs(data / DB_NAME)
    return _from_store(mode, repeat, wall, "process start to exit", stored, watch, load_before)


def task_figures(cluster: af.Cluster, run_id: str) -> tuple[list[dict[str, Any]], float]:
    """Each task instance's wait in the queue and duration; the time covered by any task."""
    rows = cluster.query(
        "SELECT task_id, map_index, queued_dttm, start_date, end_date, try_number, hostname "
        "FROM task_instance WHERE dag_id = %s AND run_id = %s ORDER BY start_date",
        [af.DAG_ID, run_id],
    )
    tasks: list[dict[str, Any]] = []
    spans: list[tuple[datetime, datetime]] = []
    for task_id, map_index, queued, start, end, tries, hostname in rows:
        tasks.append(
            {
                "task": task_id if map_index < 0 else f"{task_id}[{map_index}]",
                "queued_to_start_s": round((start - queued).total_seconds(), 2)
                if start and queued
                else None,
                "duration_s": round((end - start).total_seconds(), 2) if start and end else None,
                "tries": tries,
                "hostname": hostname,
            }
        )
        if start and end:
            spans.append((start, end))
    covered, reach = 0.0, None
    for start, end in sorted(spans):
        if reach is None or start > reach:
            covered += (end - start).total_seconds()
            reach = end
        elif end > reach:
            covered += (end - reach).total_seconds()
            reach = end
    return tasks, round(covered, 2)


def failure_detail(cluster: af.Cluster, run_id: str) -> str:
    runs = af.task_runs(cluster, run_id)
    lines = [f"tasks: {', '.join(f'{r.task_id}={r.state}' for r in runs)}"]
    for task_id in dict.fromkeys(r.task_id for r in runs if r.state == "failed"):
        lines.append(f"{task_id} log:\n{af.task_log_excerpt(cluster, run_id, task_id, 12)}")
    return "\n".join(lines)


def run_airflow_dag(
    cluster: af.Cluster,
    mode: str,
    repeat: int,
    listing: Callable[[], dict[str, int]],
    read_store: Callable[[], dict[str, Any]],
) -> RunResult:
    """Trigger the ingest DAG (poll_all), wait for its end, read the scheduler's times."""
    run_id = f"bench_{mode}_{repeat}"
    load_before = _loadavg()
    with StagingWatch(listing) as watch:
        af.trigger(cluster, run_id, {"poll_all": True})
        state = af.wait_for_run(cluster, run_id, RUN_TIMEOUT_S)
    if state != "success":
        raise HarnessError(f"{mode} run {run_id} ended {state}\n{failure_detail(cluster, run_id)}")
    wall = af.run_wall_time(cluster, run_id)
    result = _from_store(
        mode, repeat, wall, "dag_run start_date to end_date", read_store(), watch, load_before
    )
    rows = cluster.query(
        "SELECT extract(epoch FROM end_date - queued_at) FROM dag_run "
        "WHERE dag_id = %s AND run_id = %s",
        [af.DAG_ID, run_id],
    )
    if rows and rows[0][0] is not None:
        result.queued_to_end_s = round(float(rows[0][0]), 2)
    result.tasks, result.in_tasks_s = task_figures(cluster, run_id)
    return result


def keep_task_logs(cluster: af.Cluster, mode: str) -> None:
    """Copy the task logs out of the temporary Airflow home, next to the processes' logs."""
    if (cluster.home / "logs").is_dir():
        shutil.copytree(cluster.home / "logs", LOG_DIR / mode / "task-logs", dirs_exist_ok=True)


def bench_local(
    processes: ProcessSet, tmp: Path, env_extra: dict[str, str], repeats: int
) -> list[RunResult]:
    """Airflow with the LocalExecutor on Postgres: one machine, local staging."""
    root = tmp / "local"
    data = root / "data"
    postgres = start_postgres(processes, tmp / "pg-local")
    pipeline = {
        **env_extra,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "POLICY_NEWS_DATA_DIR": str(data),
        "POLICY_NEWS_DUCKDB_POOL": af.DUCKDB_POOL,
    }
    # The broker URL is unused by the LocalExecutor.
    cluster = af.start_cluster(processes, root, postgres, "redis://127.0.0.1:1/0", pipeline)
    try:
        af.wait_for_dag(cluster)
        results = []
        for repeat in range(1, repeats + 1):
            shutil.rmtree(data, ignore_errors=True)  # a fresh database (and feed states) each run
            data.mkdir(parents=True)
            results.append(
                run_airflow_dag(
                    cluster,
                    "local",
                    repeat,
                    local_listing(data / "staging"),
                    lambda: stored_runs(data / DB_NAME),
                )
            )
            print_row(results[-1])
        return results
    finally:
        keep_task_logs(cluster, "local")


def bench_celery(
    processes: ProcessSet, tmp: Path, env_extra: dict[str, str], repeats: int
) -> list[RunResult]:
    """The Celery deployment of the distributed test: two workers, staging in S3."""
    s3 = start_s3(BUCKET)
    kept: list[af.Cluster] = []
    try:
        postgres = start_postgres(processes, tmp / "pg-celery")
        broker = start_redis(processes, tmp)
        connection = {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"endpoint_url": s3.url, "region_name": "us-east-1"},
        }
        pipeline = {
            **env_extra,
            "POLICY_NEWS_STAGING_URL": f"s3://{BUCKET}/{STAGING_PREFIX}",
            "AIRFLOW_CONN_POLICY_NEWS_STAGING": json.dumps(connection),
            "POLICY_NEWS_DATA_DIR": str(af.PRIVATE_DATA_DIR),
            "POLICY_NEWS_DUCKDB_QUEUE": af.DUCKDB_QUEUE,
            "POLICY_NEWS_DUCKDB_POOL": af.DUCKDB_POOL,
        }
        cluster = af.start_cluster(processes, tmp / "celery", postgres, broker, pipeline)
        kept.append(cluster)
        for queue in (af.DUCKDB_QUEUE, af.DEFAULT_QUEUE):
            af.start_worker(cluster, queue, {})
        af.wait_for_dag(cluster)
        af.wait_workers_ready(cluster)
        listing = s3_listing(s3)
        db_path = af.PRIVATE_DATA_DIR / DB_NAME

        def read_store() -> dict[str, Any]:
            argv = [
                python_bin("python"),
                "-m",
                "tools.distributed.bench",
                "--inspect",
                str(db_path),
            ]
            done = af.run_in_worker(cluster, af.DUCKDB_QUEUE, argv)
            if done.returncode != 0:
                return {"error": f"inspector failed in the duckdb worker: {done.stderr[-800:]}"}
            return dict(json.loads(done.stdout))

        results = []
        for repeat in range(1, repeats + 1):
            # A fresh database (and feed states) each run: empty the duckdb worker's folder.
            wipe = ["sh", "-c", f"rm -rf {af.PRIVATE_DATA_DIR}/* {af.PRIVATE_DATA_DIR}/.[!.]*"]
            af.run_in_worker(cluster, af.DUCKDB_QUEUE, wipe)
            results.append(run_airflow_dag(cluster, "celery", repeat, listing, read_store))
            print_row(results[-1])
        return results
    finally:
        for cluster in kept:
            keep_task_logs(cluster, "celery")
        s3.server.stop()


# -- report --------------------------------------------------------------------------------


HEADERS = (
    "mode",
    "run",
    "wall s",
    "pipeline s",
    "in tasks s",
    "loaded",
    "staged B/article",
    "load before",
    "load after",
)


def _cells(r: RunResult) -> tuple[str, ...]:
    per_article = r.bytes_per_article
    return (
        r.mode,
        str(r.repeat),
        f"{r.wall_s:.1f}",
        "" if r.pipeline_s is None else f"{r.pipeline_s:.1f}",
        "" if r.in_tasks_s is None else f"{r.in_tasks_s:.1f}",
        str(r.articles),
        "" if per_article is None else f"{per_article:,.0f} ({r.staged_objects} files)",
        " ".join(f"{x:.2f}" for x in r.load_before),
        " ".join(f"{x:.2f}" for x in r.load_after),
    )


def print_row(r: RunResult) -> None:
    extra = "" if r.queued_to_end_s is None else f", trigger to end {r.queued_to_end_s:.1f} s"
    print(
        f"{r.mode} run {r.repeat}: {r.wall_s:.1f} s ({r.wall_what}{extra}), pipeline "
        f"{r.pipeline_s} s, {r.articles} articles loaded ({r.items_new} new items, {r.outcome})",
        flush=True,
    )
    for task in r.tasks:
        print(
            f"    {task['task']:<22} queued->start {task['queued_to_start_s']!s:>6} s  "
            f"ran {task['duration_s']!s:>6} s  on {task['hostname']}",
            flush=True,
        )


def table(results: list[RunResult]) -> str:
    rows = [HEADERS, *(_cells(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-|-".join("-" * w for w in widths))
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def run(args: argparse.Namespace, tmp: Path, results: list[RunResult]) -> None:
    if os.geteuid() != 0 and "celery" in args.modes:
        raise HarnessError("run as root: each Celery worker needs a private mount namespace")
    if {"local", "celery"} & set(args.modes):
        ensure_debian_packages()
    site = SiteSpec(f"c{args.articles}", args.articles, args.feeds, args.feeds)
    spec = ServerSpec(
        sites=[site],
        latency_ms=args.latency_ms,
        lifetime_s=args.timeout,
        corpus=str(corpus_dir()) if corpus_dir().is_dir() else None,
    )
    with running(spec) as (server, content):
        feeds = tmp / "feeds.yaml"
        feeds.write_text(feeds_yaml(content, site))
        env_extra = pipeline_env(feeds, args.extract_workers)
        print(
            f"bench site: {site.articles} articles, {site.feeds} feeds on {site.hosts} hosts, "
            f"{spec.latency_ms:g} ms latency, corpus templates: {spec.corpus is not None}; "
            f"settings {env_extra}; load average {_loadavg()}",
            flush=True,
        )
        for mode in args.modes:
            processes = ProcessSet(LOG_DIR / mode)
            (LOG_DIR / mode).mkdir(parents=True)
            try:
                if mode.startswith("cli"):
                    for repeat in range(1, args.repeats + 1):
                        results.append(run_cli(processes, env_extra, tmp / "cli", mode, repeat))
                        print_row(results[-1])
                elif mode == "local":
                    results.extend(bench_local(processes, tmp, env_extra, args.repeats))
                else:
                    results.extend(bench_celery(processes, tmp, env_extra, args.repeats))
            finally:
                processes.stop_all()
    print(f"site server: {server.stats}", flush=True)


def check_counts(results: list[RunResult], articles: int) -> list[str]:
    """Every run loaded the same number of articles, all of the site's."""
    return [
        f"{r.mode} run {r.repeat} loaded {r.articles} articles, expected {articles}"
        for r in results
        if r.articles != articles
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.distributed.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--articles", type=int, default=300, help="new articles (default 300)")
    parser.add_argument("--feeds", type=int, default=15, help="feeds = hosts (default 15)")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="per request")
    parser.add_argument("--repeats", type=int, default=2, help="runs per way (default 2)")
    parser.add_argument(
        "--modes",
        type=lambda text: [m for m in text.split(",") if m],
        default=list(DEFAULT_MODES),
        help="comma-separated, of cli-pool,cli,local,celery (default cli-pool,local,celery)",
    )
    parser.add_argument(
        "--extract-workers",
        type=int,
        default=EXTRACT_WORKERS,
        help=f"POLICY_NEWS_EXTRACT_WORKERS of every way but cli-pool (default {EXTRACT_WORKERS}; "
        "0: the project default)",
    )
    parser.add_argument("--timeout", type=float, default=2400, help="hard limit in seconds")
    parser.add_argument(
        "--json", type=Path, default=LOG_DIR / "results.json", help="where the results go"
    )
    parser.add_argument("--inspect", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.inspect is not None:  # inside the duckdb worker's namespace (see bench_celery)
        print(json.dumps(stored_runs(args.inspect)))
        return 0
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_alarm)
    signal.alarm(int(args.timeout))
    started = time.monotonic()
    results: list[RunResult] = []
    failure = ""
    load_start = _loadavg()
    try:
        with tempfile.TemporaryDirectory(prefix="policy-news-distributed-bench-") as tmp:
            run(args, Path(tmp), results)
    except HarnessError as exc:
        failure = str(exc)
    except Exception:
        failure = traceback.format_exc()
    finally:
        signal.alarm(0)
    problems = check_counts(results, args.articles) + ([failure] if failure else [])
    print(f"\n{table(results)}")
    print(
        f"load average (1, 5, 15 min): {' '.join(map(str, load_start))} at the start, "
        f"{' '.join(map(str, _loadavg()))} at the end; {os.cpu_count()} cores; "
        f"took {time.monotonic() - started:.0f} s; logs: {LOG_DIR}"
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "runs": [{**asdict(r), "bytes_per_article": r.bytes_per_article} for r in results],
                "problems": problems,
            },
            indent=2,
        )
    )
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems or not results else 0


if __name__ == "__main__":
    sys.exit(main())
