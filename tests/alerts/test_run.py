"""End to end: real migrations, a real SMTP server on loopback, Airflow's SMTP notifier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from policy_news.alerts import AlertDeliveryError, check_and_notify, notify_task_failure
from tests.alerts import rows
from tests.alerts.conftest import smtp_conn_json

NOW = datetime(2026, 11, 26, 15, tzinfo=UTC)
TO = ["oncall@example.org"]


def _troubled_database(conn) -> None:
    """A blocked latest run, a feed just auto-disabled, a silent feed, a spike in raids."""
    month_ago = NOW - timedelta(days=30)
    rows.add_run(conn, "run-ok", NOW - timedelta(hours=1))
    rows.add_run(conn, "run-blocked", NOW, "blocked", "blocking data-quality check failed: x")
    rows.add_check(
        conn,
        "run-blocked",
        "feed_items_min_rows",
        severity="block",
        success=False,
        observed="0",
        at=NOW,
    )
    rows.add_check(
        conn,
        "run-blocked",
        "published_at_present",
        severity="warn",
        success=False,
        observed="0.41",
        at=NOW,
    )
    rows.add_feed(
        conn,
        "gone",
        added_at=month_ago,
        consecutive_failures=5,
        auto_disabled_at=NOW,
        auto_disabled_reason="HTTP 410 five times in a row",
    )
    rows.seen_health(conn, "gone", "failing", NOW - timedelta(hours=1))
    rows.add_feed(conn, "quiet", added_at=month_ago, last_success_at=NOW)
    for i in range(3):
        rows.add_fetch(conn, f"run-{i}", "quiet", NOW - timedelta(hours=i))
    rows.add_feed(conn, "steady", added_at=month_ago, last_success_at=NOW, last_new_item_at=NOW)
    rows.seen_health(conn, "steady", "ok", NOW - timedelta(hours=1))
    rows.add_feed(conn, "known_bad", added_at=month_ago, consecutive_failures=9)
    rows.seen_health(conn, "known_bad", "failing", NOW - timedelta(days=3))
    rows.add_feed(conn, "retired", added_at=month_ago, enabled=False)
    for days_ago in range(1, 29):
        rows.add_relevant_articles(conn, "raids", NOW - timedelta(days=days_ago), days_ago % 2 + 1)
        rows.add_relevant_articles(conn, "detention", NOW - timedelta(days=days_ago), 3)
    rows.add_relevant_articles(conn, "raids", NOW, 12)
    rows.add_relevant_articles(conn, "detention", NOW, 3)


def test_each_condition_is_mailed_once_a_day(alerts_db, smtp_inbox) -> None:
    _troubled_database(alerts_db)

    first = check_and_notify(alerts_db, recipients=TO, now=NOW)
    mails = {m.subject: m for m in smtp_inbox.take()}
    assert sorted(mails) == [
        "[policy-news] 2 feeds need attention: gone (auto_disabled), quiet (silent)",
        "[policy-news] load blocked: feed_items_min_rows observed 0",
        "[policy-news] spike: raids 12 articles on 2026-11-26 (usually 1.5)",
    ]
    assert all(m.recipients == TO and m.sender == "policy-news@example.org" for m in mails.values())
    blocked = mails["[policy-news] load blocked: feed_items_min_rows observed 0"].body
    assert "run-blocked" in blocked and "published_at_present" not in blocked
    feeds = mails["[policy-news] 2 feeds need attention: gone (auto_disabled), quiet (silent)"].body
    assert "gone: failing -&gt; auto_disabled" in feeds and "HTTP 410 five times" in feeds
    assert "known_bad" not in feeds and "steady" not in feeds and "retired" not in feeds
    assert sorted(first.sent) == [
        "blocked_load:feed_items_min_rows",
        "feed:gone:auto_disabled",
        "feed:quiet:silent",
        "spike:raids",
    ]

    second = check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(minutes=30))
    assert smtp_inbox.take() == []
    assert second.sent == [] and second.already_sent == [
        "blocked_load:feed_items_min_rows",
        "spike:raids",
    ]

    # Next day: still blocked and raids still far above its (now higher) mean; the
    # feeds changed nothing since they were reported, so they stay quiet.
    next_day = NOW + timedelta(days=1)
    rows.add_relevant_articles(alerts_db, "raids", next_day, 12)
    check_and_notify(alerts_db, recipients=TO, now=next_day)
    subjects = sorted(m.subject for m in smtp_inbox.take())
    assert subjects == [
        "[policy-news] load blocked: feed_items_min_rows observed 0",
        "[policy-news] spike: raids 12 articles on 2026-11-27 (usually 1.9)",
    ]
    sent_days = alerts_db.execute(
        "SELECT day::VARCHAR, count(*) FROM alerts_sent GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert sent_days == [("2026-11-26", 4), ("2026-11-27", 2)]


def test_a_feed_that_recovers_and_fails_again_is_reported_again(alerts_db, smtp_inbox) -> None:
    rows.add_feed(alerts_db, "flaky", added_at=NOW - timedelta(days=9), consecutive_failures=1)
    check_and_notify(alerts_db, recipients=TO, now=NOW)
    assert len(smtp_inbox.take()) == 1
    alerts_db.execute("UPDATE feeds SET consecutive_failures = 0")
    check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(hours=1))
    alerts_db.execute("UPDATE feeds SET consecutive_failures = 1")
    check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(hours=2))
    assert smtp_inbox.take() == []  # the same condition, the same day
    check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(days=1, hours=1))
    alerts_db.execute("UPDATE feeds SET consecutive_failures = 0")
    check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(days=1, hours=2))
    alerts_db.execute("UPDATE feeds SET consecutive_failures = 1")
    check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(days=1, hours=3))
    assert [m.subject for m in smtp_inbox.take()] == [
        "[policy-news] 1 feed needs attention: flaky (failing)"
    ]


def test_an_alert_the_server_did_not_take_is_sent_by_the_next_check(
    alerts_db, smtp_inbox, monkeypatch
) -> None:
    _troubled_database(alerts_db)
    monkeypatch.setenv("AIRFLOW_CONN_POLICY_NEWS_SMTP", smtp_conn_json(1))  # nothing listens
    with pytest.raises(AlertDeliveryError):
        check_and_notify(alerts_db, recipients=TO, now=NOW)
    assert alerts_db.execute("SELECT count(*) FROM alerts_sent").fetchone() == (0,)

    seen = alerts_db.execute("SELECT health FROM feed_health_seen WHERE feed_name = 'gone'")
    assert seen.fetchone() == ("failing",)  # the change is still news for the next check

    monkeypatch.setenv("AIRFLOW_CONN_POLICY_NEWS_SMTP", smtp_conn_json(smtp_inbox.port))
    result = check_and_notify(alerts_db, recipients=TO, now=NOW + timedelta(minutes=30))
    assert "feed:gone:auto_disabled" in result.sent
    assert len(smtp_inbox.take()) == 3


def _failure_context(state: str, try_number: int, max_tries: int = 2) -> dict:
    ti = SimpleNamespace(
        dag_id="policy_news_ingest",
        task_id="load_duckdb",
        run_id="manual__1",
        map_index=-1,
        try_number=try_number,
        max_tries=max_tries,
        state=state,
        log_url=None,
    )
    return {"ti": ti, "run_id": ti.run_id, "exception": OSError("database is locked")}


def test_a_task_failure_is_mailed_on_its_last_try_once_a_day(tmp_path, smtp_inbox) -> None:
    markers = tmp_path / "markers"

    def notify(context, now):
        return notify_task_failure(context, recipients=TO, marker_dir=markers, now=now)

    assert not notify(_failure_context("up_for_retry", 1), NOW)
    assert smtp_inbox.take() == []
    assert notify(_failure_context("failed", 3), NOW)
    [mail] = smtp_inbox.take()
    assert mail.subject == "[policy-news] task failed: policy_news_ingest.load_duckdb"
    assert "OSError: database is locked" in mail.body and "try 3" in mail.body
    assert not notify(_failure_context("failed", 3), NOW + timedelta(minutes=30))
    assert smtp_inbox.take() == []
    assert notify(_failure_context("failed", 3), NOW + timedelta(days=1))
    assert len(smtp_inbox.take()) == 1
