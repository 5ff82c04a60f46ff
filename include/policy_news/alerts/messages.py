"""Subjects and bodies a person reads on a phone: what happened, the numbers, where to look."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from policy_news.alerts.conditions import (
        BlockedLoad,
        FailedTask,
        FeedHealthChange,
        SubtopicSpike,
    )

SUBJECT_PREFIX = "[policy-news]"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _sql(query: str) -> str:
    return f'  policy-news query "{query}"'


def blocked_load_message(blocked: BlockedLoad, docs_dir: Path | None = None) -> Message:
    checks = blocked.failed_checks
    if checks:
        first = checks[0]
        headline = f"{first.check_name} observed {first.observed_value}"
        if len(checks) > 1:
            headline += f" (+{len(checks) - 1} more)"
    else:
        headline = blocked.message or "a blocking check failed"
    lines = [
        f"Run {blocked.run_id} (started {blocked.started_at}) loaded nothing: a blocking",
        "data-quality check failed. Later runs keep being blocked until the cause is fixed.",
        "",
        f"Message: {blocked.message}",
        "",
    ]
    for check in checks:
        column = f" column {check.column_name}" if check.column_name else ""
        lines.append(f"- {check.suite}/{check.check_name}{column}: observed {check.observed_value}")
        if check.unexpected_count is not None:
            lines.append(f"  unexpected {check.unexpected_count} of {check.element_count} rows")
    lines += [
        "",
        "Where to look:",
        _sql(f"SELECT * FROM dq_results WHERE run_id = '{blocked.run_id}' AND NOT success"),
    ]
    if docs_dir is not None:
        lines.append(f"  Data Docs: {docs_dir / 'index.html'} (rebuild with `policy-news docs`)")
    lines.append("  The run's validate_batch task log in Airflow.")
    return Message(f"{SUBJECT_PREFIX} load blocked: {headline}", "\n".join(lines))


def feed_changes_message(changes: Sequence[FeedHealthChange]) -> Message:
    names = ", ".join(f"{c.feed_name} ({c.health})" for c in changes[:3])
    more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
    noun = "feed needs" if len(changes) == 1 else "feeds need"
    lines = [f"{len(changes)} {noun} attention since the last check:", ""]
    for c in changes:
        lines.append(f"- {c.feed_name}: {c.previous or 'new'} -> {c.health}  ({c.url})")
        if c.health == "auto_disabled":
            lines.append(f"  auto-disabled: {c.auto_disabled_reason}; re-checked weekly")
        elif c.health == "failing":
            lines.append(
                f"  {c.consecutive_failures} failed fetches in a row; last: {c.last_error}"
            )
        else:
            lines.append(f"  no new item since {c.last_new_item_at or 'ever'}")
        lines.append(f"  last success {c.last_success_at}")
    lines += [
        "",
        "Where to look:",
        "  policy-news feeds health",
        _sql(
            "SELECT * FROM feed_fetches WHERE feed_name = '<feed>' ORDER BY fetched_at DESC LIMIT 10"
        ),
        "  The feed's entry in include/feeds.yaml (URL moved? set enabled: false to retire it).",
    ]
    return Message(
        f"{SUBJECT_PREFIX} {len(changes)} {noun} attention: {names}{more}", "\n".join(lines)
    )


def spikes_message(spikes: Sequence[SubtopicSpike]) -> Message:
    top = spikes[0]
    headline = f"{top.subtopic} {top.articles} articles on {top.day} (usually {top.mean:.1f})"
    if len(spikes) > 1:
        headline += f" and {len(spikes) - 1} more"
    lines = ["Relevant articles far above a subtopic's own recent days:", ""]
    for s in spikes:
        lines.append(
            f"- {s.subtopic}: {s.articles} on {s.day}; mean {s.mean:.1f}, std {s.std:.1f} "
            f"over {s.history_days} days; threshold {s.threshold:.1f}"
        )
    lines += [
        "",
        "Where to look:",
        _sql(
            f"SELECT a.title, a.url FROM articles a JOIN article_days d USING (article_id) "
            f"JOIN current_article_topics t USING (article_id) WHERE d.day = '{top.day}' "
            f"AND t.subtopic = '{top.subtopic}' AND a.relevant"
        ),
        "  The digest DAG's output for the day.",
    ]
    return Message(f"{SUBJECT_PREFIX} spike: {headline}", "\n".join(lines))


def failed_task_message(task: FailedTask) -> Message:
    mapped = f"[{task.map_index}]" if task.map_index >= 0 else ""
    lines = [
        f"Task {task.dag_id}.{task.task_id}{mapped} failed with no retry left",
        f"(try {task.try_number}, retries allowed {task.max_tries}).",
        "",
        f"Run: {task.run_id}",
        f"Error: {task.exception}",
        "",
        "Where to look:",
        f"  Log: {task.log_url}" if task.log_url else "  The task log in the Airflow UI.",
        "  Later failures of this task today send no further message.",
    ]
    subject = f"{SUBJECT_PREFIX} task failed: {task.dag_id}.{task.task_id}{mapped}"
    return Message(subject, "\n".join(lines))
