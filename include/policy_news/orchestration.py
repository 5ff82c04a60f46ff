"""What the DAGs share: the DuckDB Asset, default task arguments, where DuckDB tasks run,
the failure callback.

Import-light: DAG files import this at parse time (Airflow's SDK is already loaded there).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset

log = logging.getLogger("policy_news.failures")

# Updated by every load and retag; downstream DAGs (the digest) schedule on it.
POLICY_NEWS_DB = Asset("policy_news_duckdb")


def log_task_failure(context: Any) -> None:
    """One readable line per failed task: which run, which task, why, where the log is."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    log.error(
        "policy-news task failed: dag=%s run=%s task=%s map_index=%s try=%s reason=%s",
        getattr(ti, "dag_id", "?"),
        context.get("run_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "map_index", -1),
        getattr(ti, "try_number", "?"),
        f"{type(exc).__name__}: {exc}" if exc else "unknown (see the task log)",
    )


def on_task_failure(context: Any) -> None:
    """Log the failure; mail operators when the task has failed for good (once a day per task)."""
    log_task_failure(context)
    try:
        from policy_news.alerts.run import notify_failure
        from policy_news.settings import get_settings

        notify_failure(context, get_settings())
    except Exception:  # a callback must never hide the task's own failure
        log.exception("could not send the task-failure alert")


def duckdb_task_args() -> dict[str, Any]:
    """Queue (and pool, if set) of the tasks that open DuckDB.

    The database is a file on one machine: with CeleryExecutor only the workers that
    serve this queue mount it, and a one-slot pool keeps them to one writer at a time.
    Every other task reads and writes the staging store only, on any worker.
    """
    from policy_news.settings import get_settings

    settings = get_settings()
    args: dict[str, Any] = {"queue": settings.duckdb_queue}
    if settings.duckdb_pool:
        args["pool"] = settings.duckdb_pool
    return args


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "policy-news",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "on_failure_callback": on_task_failure,
}
