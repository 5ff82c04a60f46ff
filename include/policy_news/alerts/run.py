"""The two entry points: a check after each load, and a callback for a task that failed for good.

Delivery is at least once: a condition is recorded as sent only after the mail server
accepted it, so a failed send is retried by the next check (or the task's retry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from policy_news.alerts import conditions, ledger, messages
from policy_news.alerts.send import DEFAULT_SMTP_CONN_ID, send_message

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    import duckdb

    from policy_news.settings import Settings

log = logging.getLogger(__name__)

# validate_batch fails with this when a blocking check fails; the blocked-load alert
# already tells that story with the check's numbers.
SKIP_EXCEPTIONS_DEFAULT = ("BlockingCheckError",)


class AlertDeliveryError(RuntimeError):
    """Some alerts could not be sent; they stay unsent and the next check tries again."""


@dataclass
class AlertCheck:
    """What a check found (condition keys) and what became of each."""

    found: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    keys: tuple[str, ...]
    message: messages.Message
    feeds: tuple[str, ...] = ()


def _pending_alerts(
    conn: duckdb.DuckDBPyConnection,
    now: datetime,
    spike_rule: conditions.SpikeRule | None,
    docs_dir: Path | None,
    result: AlertCheck,
) -> list[_Pending]:
    day = now.date()
    blocked = conditions.blocked_load(conn)
    changes = conditions.feed_health_changes(conn)
    spikes = conditions.subtopic_spikes(conn, day, spike_rule)
    found = ([blocked.key] if blocked else []) + [c.key for c in changes] + [s.key for s in spikes]
    done = ledger.already_sent(conn, found, day)
    result.found = found
    result.already_sent = [k for k in found if k in done]

    pending = []
    if blocked and blocked.key not in done:
        pending.append(_Pending((blocked.key,), messages.blocked_load_message(blocked, docs_dir)))
    new_changes = [c for c in changes if c.key not in done]
    if new_changes:
        pending.append(
            _Pending(
                tuple(c.key for c in new_changes),
                messages.feed_changes_message(new_changes),
                tuple(c.feed_name for c in new_changes),
            )
        )
    new_spikes = [s for s in spikes if s.key not in done]
    if new_spikes:
        pending.append(
            _Pending(tuple(s.key for s in new_spikes), messages.spikes_message(new_spikes))
        )
    return pending


def check_and_notify(
    conn: duckdb.DuckDBPyConnection,
    *,
    recipients: Sequence[str],
    smtp_conn_id: str = DEFAULT_SMTP_CONN_ID,
    from_email: str | None = None,
    now: datetime | None = None,
    spike_rule: conditions.SpikeRule | None = None,
    docs_dir: Path | None = None,
) -> AlertCheck:
    """Evaluate every condition, mail the ones not yet sent today, record what was sent.

    Needs a writable connection (the single DuckDB writer). One message per kind of
    condition and check: the blocked load, the feeds that turned bad, the spikes. With
    no recipients nothing is sent, but feed health is still remembered, so turning
    alerts on later does not replay old changes. Raises AlertDeliveryError after
    recording whatever did go out, when some message could not be sent.
    """
    now = now or datetime.now(UTC)
    result = AlertCheck()
    pending = _pending_alerts(conn, now, spike_rule, docs_dir, result)
    health = conditions.current_feed_health(conn)
    sent: dict[str, str] = {}
    unsent_feeds: set[str] = set()
    errors: list[str] = []
    for item in pending:
        if not recipients:
            log.warning("alert not sent (no recipients configured): %s", item.message.subject)
            continue
        try:
            send_message(
                item.message,
                recipients=recipients,
                smtp_conn_id=smtp_conn_id,
                from_email=from_email,
            )
        except Exception as exc:
            log.exception("could not send alert: %s", item.message.subject)
            errors.append(f"{item.message.subject}: {type(exc).__name__}: {exc}")
            result.failed.extend(item.keys)
            unsent_feeds.update(item.feeds)
            continue
        sent.update(dict.fromkeys(item.keys, item.message.subject))
        result.sent.extend(item.keys)
    ledger.record_check(
        conn,
        sent=sent,
        feed_health={f: h for f, h in health.items() if f not in unsent_feeds},
        day=now.date(),
        now=now,
    )
    if errors:
        raise AlertDeliveryError("; ".join(errors))
    return result


def notify_task_failure(
    context: Mapping[str, Any],
    *,
    recipients: Sequence[str],
    marker_dir: Path,
    smtp_conn_id: str = DEFAULT_SMTP_CONN_ID,
    from_email: str | None = None,
    now: datetime | None = None,
    skip_exceptions: Sequence[str] = SKIP_EXCEPTIONS_DEFAULT,
) -> bool:
    """on_failure_callback body: mail a task's final failure once per task and day.

    Opens no database. Returns whether a message went out; never raises, since a
    callback's error would only hide the task's own.
    """
    failed = conditions.final_task_failure(context, skip_exceptions)
    if failed is None or not recipients:
        return False
    day = (now or datetime.now(UTC)).date()
    try:
        marker = ledger.claim_marker(marker_dir, failed.key, day)
    except OSError:
        log.exception("alert marker folder %s unusable; sending anyway", marker_dir)
        marker = None
    else:
        if marker is None:
            log.info("task failure already reported today: %s", failed.key)
            return False
    try:
        send_message(
            messages.failed_task_message(failed),
            recipients=recipients,
            smtp_conn_id=smtp_conn_id,
            from_email=from_email,
        )
    except Exception:
        log.exception("could not send the task-failure alert for %s", failed.key)
        if marker is not None:
            marker.unlink(missing_ok=True)  # the next failure may try again
        return False
    return True


def alert_operators(settings: Settings) -> AlertCheck:
    """The check after a run's load (or its blocked validation), with the configured mail.

    Writes its bookkeeping to DuckDB, so it runs where the loader runs.
    """
    from policy_news.store.connection import open_db

    rule = conditions.SpikeRule(k=settings.spike_k, min_count=settings.spike_min_count)
    with open_db(settings.db_path) as conn:
        return check_and_notify(
            conn,
            recipients=settings.alert_emails,
            smtp_conn_id=settings.alert_smtp_conn_id,
            from_email=settings.alert_from_email,
            spike_rule=rule,
            docs_dir=settings.docs_dir,
        )


def notify_failure(context: Mapping[str, Any], settings: Settings) -> bool:
    """`notify_task_failure` with the configured mail; markers sit beside the staged runs."""
    return notify_task_failure(
        context,
        recipients=settings.alert_emails,
        marker_dir=settings.staging_dir / "alerts",
        smtp_conn_id=settings.alert_smtp_conn_id,
        from_email=settings.alert_from_email,
    )
