"""Conditions worth waking an operator for, read from DuckDB or an Airflow callback context.

Every function here only reads. Each result carries a `key` that names the condition
stably across runs: the ledger sends a key at most once per day.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import duckdb

# Statuses of the feed_health view that need a person; 'disabled' was a person's choice.
BAD_FEED_HEALTH = ("failing", "silent", "auto_disabled")


@dataclass(frozen=True)
class FailedCheck:
    suite: str
    check_name: str
    column_name: str | None
    observed_value: str | None
    unexpected_count: int | None
    element_count: int | None


@dataclass(frozen=True)
class BlockedLoad:
    """The latest run stopped before loading because a blocking check failed."""

    run_id: str
    started_at: Any
    message: str
    failed_checks: tuple[FailedCheck, ...]

    @property
    def key(self) -> str:
        names = sorted({c.check_name for c in self.failed_checks})
        return "blocked_load:" + (",".join(names) or "unknown")


@dataclass(frozen=True)
class FeedHealthChange:
    """A feed whose health turned bad since the last check (previous None: never seen)."""

    feed_name: str
    url: str
    previous: str | None
    health: str
    consecutive_failures: int
    last_success_at: Any
    last_new_item_at: Any
    auto_disabled_reason: str | None
    last_error: str | None

    @property
    def key(self) -> str:
        return f"feed:{self.feed_name}:{self.health}"


@dataclass(frozen=True)
class SpikeRule:
    """A day's count is a spike when count >= max(min_count, mean + k * max(std, sqrt(mean))).

    mean and std (population) are over the `window_days` days before it, a day without
    articles counting as 0. The spread is at least sqrt(mean), a Poisson count's, so a
    subtopic that was perfectly steady does not alert on one article more. Days before
    the database's first relevant article are not history; with fewer than
    `min_history_days` of it there is no baseline, so no spike.
    """

    window_days: int = 28
    k: float = 3.0
    min_count: int = 5
    min_history_days: int = 7


@dataclass(frozen=True)
class SubtopicSpike:
    subtopic: str
    day: date
    articles: int
    mean: float
    std: float
    threshold: float
    history_days: int

    @property
    def key(self) -> str:
        return f"spike:{self.subtopic}"


@dataclass(frozen=True)
class FailedTask:
    """A task instance that failed for good: no retry will follow."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    max_tries: int
    exception: str
    log_url: str | None

    @property
    def key(self) -> str:
        # Per task, not per run or map index: a task failing every half hour is one alert a day.
        return f"task_failed:{self.dag_id}:{self.task_id}"


# --- blocked load --------------------------------------------------------------------


def blocked_load(conn: duckdb.DuckDBPyConnection) -> BlockedLoad | None:
    """The most recent run, if it was blocked, with the blocking checks that failed."""
    row = conn.execute(
        "SELECT run_id, started_at, outcome, coalesce(message, '') FROM pipeline_runs "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1"
    ).fetchone()
    if row is None or row[2] != "blocked":
        return None
    checks = conn.execute(
        "SELECT suite, check_name, column_name, observed_value, unexpected_count, element_count "
        "FROM dq_results WHERE run_id = ? AND NOT success AND severity = 'block' "
        "ORDER BY suite, check_name",
        [row[0]],
    ).fetchall()
    return BlockedLoad(
        run_id=row[0],
        started_at=row[1],
        message=row[3],
        failed_checks=tuple(FailedCheck(*c) for c in checks),
    )


# --- feed health ---------------------------------------------------------------------


def current_feed_health(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(conn.execute("SELECT feed_name, health FROM feed_health").fetchall())


def feed_health_changes(conn: duckdb.DuckDBPyConnection) -> list[FeedHealthChange]:
    """Feeds now failing, silent or auto-disabled that were not in that state at the last check."""
    rows = conn.execute(
        "SELECT h.feed_name, h.url, s.health, h.health, h.consecutive_failures, "
        "h.last_success_at, h.last_new_item_at, h.auto_disabled_reason, h.last_error "
        "FROM feed_health h LEFT JOIN feed_health_seen s USING (feed_name) "
        "WHERE h.health IN (SELECT unnest($bad)) AND h.health IS DISTINCT FROM s.health "
        "ORDER BY h.health, h.feed_name",
        {"bad": list(BAD_FEED_HEALTH)},
    ).fetchall()
    return [FeedHealthChange(*row) for row in rows]


# --- spikes --------------------------------------------------------------------------


def spike_threshold(history: Sequence[int], rule: SpikeRule) -> tuple[float, float, float]:
    """(mean, std, threshold) of a subtopic's daily counts before the day in question."""
    mean = statistics.fmean(history) if history else 0.0
    std = statistics.pstdev(history) if len(history) > 1 else 0.0
    spread = max(std, math.sqrt(mean))
    return mean, std, max(float(rule.min_count), mean + rule.k * spread)


def is_spike(count: int, history: Sequence[int], rule: SpikeRule) -> bool:
    if len(history) < rule.min_history_days:
        return False
    return count >= spike_threshold(history, rule)[2]


def subtopic_spikes(
    conn: duckdb.DuckDBPyConnection, day: date, rule: SpikeRule | None = None
) -> list[SubtopicSpike]:
    """Subtopics whose relevant-article count on `day` is far above their own recent days."""
    rule = rule or SpikeRule()
    first = conn.execute("SELECT min(day) FROM relevant_daily_by_subtopic").fetchone()
    if first is None or first[0] is None:
        return []
    start = max(first[0], day - timedelta(days=rule.window_days))
    history_days = [start + timedelta(days=i) for i in range((day - start).days)]
    counts: dict[str, dict[date, int]] = {}
    for subtopic, when, articles in conn.execute(
        "SELECT subtopic, day, articles FROM relevant_daily_by_subtopic WHERE day BETWEEN ? AND ?",
        [start, day],
    ).fetchall():
        counts.setdefault(subtopic, {})[when] = int(articles)
    spikes = []
    for subtopic, by_day in sorted(counts.items()):
        today = by_day.get(day, 0)
        history = [by_day.get(d, 0) for d in history_days]
        if today and is_spike(today, history, rule):
            mean, std, threshold = spike_threshold(history, rule)
            spikes.append(SubtopicSpike(subtopic, day, today, mean, std, threshold, len(history)))
    return spikes


# --- a task that failed its last try -------------------------------------------------


def is_last_try(state: object, try_number: int, max_tries: int) -> bool:
    """Whether a failure is final.

    Airflow 3's task runner calls on_failure_callback only once the task is FAILED: its
    last try failed, or it failed fast (AirflowFailException, a retry policy's FAIL)
    with tries left that will never run. UP_FOR_RETRY means another try follows.
    Without a state, count tries as the API server does: a try may retry while
    try_number <= max_tries (try_number starts at 1, max_tries is the task's retries).
    """
    state = getattr(state, "value", state)
    if state == "failed":
        return True
    if state == "up_for_retry":
        return False
    return max_tries == 0 or try_number > max_tries


def _exception_chain_names(exc: BaseException | None) -> set[str]:
    names = set()
    while exc is not None and type(exc).__name__ not in names:
        names.add(type(exc).__name__)
        exc = exc.__cause__ or exc.__context__
    return names


def final_task_failure(
    context: Mapping[str, Any], skip_exceptions: Sequence[str] = ()
) -> FailedTask | None:
    """The failed task from an Airflow callback context, or None when a retry follows.

    `skip_exceptions` names exception classes (anywhere in the cause chain) that another
    alert already reports, such as the blocking check that fails validate_batch.
    """
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        return None
    try_number = int(getattr(ti, "try_number", 0) or 0)
    max_tries = int(getattr(ti, "max_tries", 0) or 0)
    if not is_last_try(getattr(ti, "state", None), try_number, max_tries):
        return None
    exc = context.get("exception")
    if isinstance(exc, BaseException) and _exception_chain_names(exc) & set(skip_exceptions):
        return None
    map_index = getattr(ti, "map_index", -1)
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # builds from Airflow config; a callback must not die on it
        log_url = None
    return FailedTask(
        dag_id=str(getattr(ti, "dag_id", "?")),
        run_id=str(context.get("run_id") or getattr(ti, "run_id", "?")),
        task_id=str(getattr(ti, "task_id", "?")),
        map_index=-1 if map_index is None else int(map_index),
        try_number=try_number,
        max_tries=max_tries,
        exception=f"{type(exc).__name__}: {exc}" if exc else "unknown (see the task log)",
        log_url=str(log_url) if log_url else None,
    )
