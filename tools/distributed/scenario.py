"""The distributed run, step by step: set up, four DAG runs, a check after each.

1. A run through both workers with S3 staging: same rows as `policy-news run`, every task on
   its queue's worker, nothing staged on the default worker's disk.
2. The same run again: no new row.
3. A fresh database, and the default worker killed during `fetch_articles`, then started
   again: the run still succeeds, with no duplicate and no missing article.
4. The negative control: staging in a local folder (`file://`). Tasks on different workers
   cannot read each other's files, so the run must fail, with an error that says why.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.distributed import cluster as af
from tools.distributed.compare import misplaced_tasks, row_differences
from tools.distributed.processes import HarnessError, wait_until
from tools.distributed.services import python_bin
from tools.sample_site import DEMO_PORT, SAMPLE_SITE_DIR

if TYPE_CHECKING:
    from pathlib import Path

    from tools.distributed.cluster import Cluster
    from tools.distributed.processes import Managed, ProcessSet
    from tools.distributed.report import Report
    from tools.distributed.services import S3Endpoint

BUCKET = "policy-news-staging"
STAGING_PREFIX = "runs"
RUN_TIMEOUT_S = 360
DB_PATH = af.PRIVATE_DATA_DIR / "policy_news.duckdb"


@dataclass
class Context:
    """What the steps share."""

    cluster: Cluster
    s3: S3Endpoint
    reference: dict[str, Any]
    staged: dict[str, int] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)


def pipeline_env(feeds: Path) -> dict[str, str]:
    """Settings every process gets (the reference run as well): same site, same politeness."""
    return {
        "POLICY_NEWS_FEEDS": str(feeds),
        "POLICY_NEWS_ALLOWED_PRIVATE_NETS": "127.0.0.1/32",
        "POLICY_NEWS_HOST_DELAY_S": "0.3",
        "POLICY_NEWS_EXTRACT_WORKERS": "1",
    }


def s3_staging_env(s3: S3Endpoint) -> dict[str, str]:
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": s3.url, "region_name": "us-east-1"},
    }
    return {
        "POLICY_NEWS_STAGING_URL": f"s3://{BUCKET}/{STAGING_PREFIX}",
        "AIRFLOW_CONN_POLICY_NEWS_STAGING": json.dumps(connection),
    }


def cluster_env(feeds: Path, s3: S3Endpoint) -> dict[str, str]:
    return {
        **pipeline_env(feeds),
        **s3_staging_env(s3),
        "POLICY_NEWS_DATA_DIR": str(af.PRIVATE_DATA_DIR),
        "POLICY_NEWS_DUCKDB_QUEUE": af.DUCKDB_QUEUE,
        "POLICY_NEWS_DUCKDB_POOL": af.DUCKDB_POOL,
    }


def write_feeds(base_url: str, folder: Path) -> Path:
    """The sample site's registry pointed at the port the site was served on."""
    text = (SAMPLE_SITE_DIR / "feeds.yaml").read_text()
    feeds = folder / "feeds.yaml"
    feeds.write_text(text.replace(f"http://127.0.0.1:{DEMO_PORT}", base_url))
    return feeds


def start_reference_run(processes: ProcessSet, feeds: Path, folder: Path) -> Managed:
    """`policy-news run` on one machine, local staging: what the Celery runs must match."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICY_NEWS_")}
    env.update(pipeline_env(feeds))
    env.update(
        {
            "POLICY_NEWS_HOME": str(af.ROOT),
            "POLICY_NEWS_DATA_DIR": str(folder),
            "PYTHONPATH": os.pathsep.join([str(af.ROOT / "include"), str(af.ROOT)]),
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    argv = [python_bin("policy-news"), "run", "--all-feeds"]
    return processes.start("reference-run", argv, env, cwd=af.ROOT)


def inspect(cluster: Cluster, queue: str, kind: str, target: Path) -> Any:
    """Run the store inspector inside a worker's mount namespace and parse its JSON."""
    argv = [python_bin("python"), "-m", "tools.distributed.inspect_store", kind, str(target)]
    done = af.run_in_worker(cluster, queue, argv)
    if done.returncode != 0:
        return {"error": f"inspector failed in the {queue} worker: {done.stderr[-800:]}"}
    return json.loads(done.stdout)


def reference_rows(db_path: Path) -> dict[str, Any]:
    from tools.distributed.inspect_store import stored_rows

    return stored_rows(db_path)


def run_dag(ctx: Context, run_id: str, *, watch_staging: bool = False) -> str:
    """Trigger a run of the ingest DAG and wait for its end; returns its final state."""
    af.trigger(ctx.cluster, run_id, {"poll_all": True})

    def record_staged() -> None:
        if watch_staging:
            ctx.staged.update(ctx.s3.object_sizes(STAGING_PREFIX))

    state = af.wait_for_run(ctx.cluster, run_id, RUN_TIMEOUT_S, on_poll=record_staged)
    ctx.wall_s[run_id] = af.run_wall_time(ctx.cluster, run_id)
    return state


def failure_detail(ctx: Context, run_id: str) -> str:
    runs = af.task_runs(ctx.cluster, run_id)
    failed = [r.task_id for r in runs if r.state in {"failed", "upstream_failed"}]
    lines = [f"tasks: {', '.join(f'{r.task_id}={r.state}' for r in runs)}"]
    for task_id in dict.fromkeys(failed):
        excerpt = af.task_log_excerpt(ctx.cluster, run_id, task_id)
        if excerpt:
            lines.append(f"{task_id} log:\n{excerpt}")
    return "\n".join(lines)


def restart_workers(ctx: Context, extra_env: dict[str, str]) -> None:
    """Fresh workers: new namespaces, so new empty private folders (and no DuckDB file)."""
    processes = ctx.cluster.processes
    for queue in list(ctx.cluster.workers):
        processes.kill(ctx.cluster.workers.pop(queue).name, grace_s=15)
    for queue in (af.DUCKDB_QUEUE, af.DEFAULT_QUEUE):
        af.start_worker(ctx.cluster, queue, extra_env)
    af.wait_workers_ready(ctx.cluster)


def step_first_run(ctx: Context, report: Report) -> None:
    run_id = "distributed_first"
    state = run_dag(ctx, run_id, watch_staging=True)
    if not report.check(
        "first run succeeds through two Celery workers",
        state == "success",
        f"run state {state}\n{failure_detail(ctx, run_id)}",
    ):
        return
    misplaced = misplaced_tasks(af.task_runs(ctx.cluster, run_id))
    report.check("every task ran on its queue's worker", not misplaced, "\n".join(misplaced))
    rows = inspect(ctx.cluster, af.DUCKDB_QUEUE, "rows", DB_PATH)
    problems = row_differences(rows, ctx.reference)
    report.check(
        "same articles, relevance and subtopics as `policy-news run`",
        not problems,
        "\n".join(problems),
    )
    leftover = inspect(ctx.cluster, af.DEFAULT_QUEUE, "files", af.PRIVATE_DATA_DIR)
    report.check(
        "no staged file left on the default worker's disk",
        not leftover,
        "\n".join(f"{p} ({n} B)" for p, n in list(leftover.items())[:8]),
    )
    staged_bytes = sum(ctx.staged.values())
    report.check(
        "staging went through object storage",
        staged_bytes > 0,
        f"no object appeared under s3://{BUCKET}/{STAGING_PREFIX} during the run",
    )
    articles = len(rows.get("articles", {}))
    if staged_bytes and articles:
        report.note(
            f"staged {staged_bytes} B in {len(ctx.staged)} objects for {articles} "
            f"articles: {staged_bytes / articles:.0f} B per article"
        )


def step_second_run(ctx: Context, report: Report) -> None:
    before = inspect(ctx.cluster, af.DUCKDB_QUEUE, "rows", DB_PATH)
    run_id = "distributed_second"
    state = run_dag(ctx, run_id)
    after = inspect(ctx.cluster, af.DUCKDB_QUEUE, "rows", DB_PATH)
    ok = (
        state == "success"
        and "error" not in after
        and after == {**before, "pipeline_runs": after.get("pipeline_runs")}
    )
    report.check(
        "a second run adds no rows",
        ok,
        f"state {state}; rows before {before.get('article_rows', before)}, "
        f"after {after.get('article_rows', after)}",
    )


def step_killed_worker(ctx: Context, report: Report) -> None:
    # Slower fetching gives a window of seconds in which `fetch_articles` is mid-way.
    restart_workers(ctx, {"POLICY_NEWS_HOST_DELAY_S": "1.5"})
    run_id = "distributed_killed_worker"
    af.trigger(ctx.cluster, run_id, {"poll_all": True})

    def fetch_articles_running() -> bool:
        state = af.run_state(ctx.cluster, run_id)
        if state in af.TERMINAL_RUN_STATES:
            raise HarnessError(f"run ended ({state}) before fetch_articles could be interrupted")
        return any(
            r.task_id == "fetch_articles" and r.state == "running"
            for r in af.task_runs(ctx.cluster, run_id)
        )

    try:
        wait_until(fetch_articles_running, RUN_TIMEOUT_S, "fetch_articles to start", 0.5)
    except HarnessError as exc:
        report.check("default worker killed during fetch_articles", False, str(exc))
        return
    time.sleep(4)
    still_running = any(
        r.task_id == "fetch_articles" and r.state == "running"
        for r in af.task_runs(ctx.cluster, run_id)
    )
    default_worker = ctx.cluster.workers.pop(af.DEFAULT_QUEUE)
    ctx.cluster.processes.kill(default_worker.name)  # SIGKILL, its task processes with it
    report.check(
        "default worker killed during fetch_articles",
        still_running,
        "fetch_articles was no longer running when the worker was killed",
    )
    time.sleep(3)
    af.start_worker(ctx.cluster, af.DEFAULT_QUEUE, {"POLICY_NEWS_HOST_DELAY_S": "1.5"})
    af.wait_workers_ready(ctx.cluster)
    state = af.wait_for_run(ctx.cluster, run_id, RUN_TIMEOUT_S + 120)
    ctx.wall_s[run_id] = af.run_wall_time(ctx.cluster, run_id)
    tries = max(
        (r.try_number for r in af.task_runs(ctx.cluster, run_id) if r.task_id == "fetch_articles"),
        default=0,
    )
    report.check(
        "the run succeeds after the worker restart",
        state == "success",
        f"run state {state}\n{failure_detail(ctx, run_id)}",
    )
    report.note(f"fetch_articles took {tries} tries")
    rows = inspect(ctx.cluster, af.DUCKDB_QUEUE, "rows", DB_PATH)
    problems = row_differences(rows, ctx.reference)
    report.check(
        "no duplicate and no missing article after the kill", not problems, "\n".join(problems)
    )


def step_negative_control(ctx: Context, report: Report) -> None:
    local = {
        "POLICY_NEWS_STAGING_URL": f"file://{af.PRIVATE_DATA_DIR}/staging",
        "AIRFLOW_CONN_POLICY_NEWS_STAGING": "",
    }
    restart_workers(ctx, local)
    run_id = "distributed_local_staging"
    state = run_dag(ctx, run_id)
    detail = failure_detail(ctx, run_id)
    rows = inspect(ctx.cluster, af.DUCKDB_QUEUE, "rows", DB_PATH)
    loaded = len(rows.get("articles", {}))
    error_logged = state == "failed" and "log:" in detail
    report.check(
        "negative control: file:// staging across two workers fails loudly",
        error_logged and loaded == 0,
        f"run state {state}, {loaded} articles loaded (expected: failed with an error, none "
        f"loaded)\n{detail}",
    )
    if error_logged:
        report.note("its error: " + detail.split("log:\n", 1)[1].splitlines()[-1][:300])


STEPS = (step_first_run, step_second_run, step_killed_worker, step_negative_control)
