"""What the checks compare: stored articles, and where each task instance ran."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.distributed.cluster import DEFAULT_QUEUE, DUCKDB_QUEUE, WORKER_NAMES

if TYPE_CHECKING:
    from tools.distributed.cluster import TaskRun

# The tasks that open DuckDB: they must run where the file is.
DUCKDB_TASKS = frozenset(
    {
        "plan_run",
        "select_new_items",
        "validate_batch",
        "load_duckdb",
        "alert_operators",
        "housekeeping",
    }
)


def expected_queue(task_id: str) -> str:
    return DUCKDB_QUEUE if task_id in DUCKDB_TASKS else DEFAULT_QUEUE


def misplaced_tasks(runs: list[TaskRun]) -> list[str]:
    """Task instances that ran on the wrong worker or were sent to the wrong queue."""
    problems = []
    for run in runs:
        if not run.hostname:  # skipped or never started: ran nowhere
            continue
        queue = expected_queue(run.task_id)
        if run.queue != queue or run.hostname != WORKER_NAMES[queue]:
            problems.append(
                f"{run.task_id}[{run.map_index}] ran on {run.hostname} from queue {run.queue!r}; "
                f"expected {WORKER_NAMES[queue]} from {queue!r}"
            )
    return problems


def row_differences(got: dict[str, Any], want: dict[str, Any], limit: int = 8) -> list[str]:
    """Differences between two `inspect_store rows` results; empty when they agree."""
    if "error" in got:
        return [str(got["error"])]
    if "error" in want:
        return [f"reference: {want['error']}"]
    mine, theirs = got["articles"], want["articles"]
    problems = [f"missing article {a}" for a in sorted(set(theirs) - set(mine))]
    problems += [f"extra article {a}" for a in sorted(set(mine) - set(theirs))]
    problems += [
        f"article {a}: {mine[a]} != reference {theirs[a]}"
        for a in sorted(set(mine) & set(theirs))
        if mine[a] != theirs[a]
    ]
    if got["article_rows"] != len(mine):
        problems.append(f"{got['article_rows']} article rows for {len(mine)} ids (duplicates)")
    if not theirs:
        problems.append("the reference run stored no article: nothing was compared")
    return problems[:limit] + (
        [f"... {len(problems) - limit} more"] if len(problems) > limit else []
    )
