"""Alerts for operators who schedule the ingest DAG and walk away.

Entry points: `check_and_notify` (a DuckDB-writer task after each load) and
`notify_task_failure` (an on_failure_callback). See docs/operations-alerts.md.
"""

from policy_news.alerts.conditions import SpikeRule
from policy_news.alerts.run import (
    AlertCheck,
    AlertDeliveryError,
    check_and_notify,
    notify_task_failure,
)
from policy_news.alerts.send import DEFAULT_SMTP_CONN_ID

__all__ = [
    "DEFAULT_SMTP_CONN_ID",
    "AlertCheck",
    "AlertDeliveryError",
    "SpikeRule",
    "check_and_notify",
    "notify_task_failure",
]
