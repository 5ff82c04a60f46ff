"""Airflow callbacks. Import-light: DAG files import this at parse time."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("policy_news.failures")


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
