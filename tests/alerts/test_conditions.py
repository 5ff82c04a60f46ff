from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from policy_news.alerts import conditions
from policy_news.alerts.conditions import SpikeRule, is_last_try, is_spike, spike_threshold
from tests.alerts import rows

NOW = datetime(2026, 11, 26, 15, tzinfo=UTC)
RULE = SpikeRule(window_days=28, k=3.0, min_count=5, min_history_days=7)


# --- spike rule ----------------------------------------------------------------------


def test_spike_threshold_is_mean_plus_k_std() -> None:
    mean, std, threshold = spike_threshold([10, 20] * 14, RULE)
    assert (mean, std) == (15.0, 5.0)
    assert threshold == 30.0


def test_spread_is_at_least_that_of_a_poisson_count() -> None:
    # perfectly steady at 16 a day: std 0, spread sqrt(16) = 4, threshold 16 + 3 * 4
    assert spike_threshold([16] * 28, RULE)[2] == 28.0
    assert not is_spike(27, [16] * 28, RULE)


def test_min_count_floors_the_threshold_of_a_quiet_subtopic() -> None:
    assert spike_threshold([0] * 28, RULE)[2] == 5.0
    assert not is_spike(4, [0] * 28, RULE)
    assert is_spike(5, [0] * 28, RULE)


def test_count_at_the_threshold_is_a_spike_and_below_is_not() -> None:
    history = [10, 20] * 14  # mean 15, std 5: threshold 30
    assert is_spike(30, history, RULE)
    assert not is_spike(29, history, RULE)


def test_no_spike_without_enough_history() -> None:
    assert not is_spike(50, [0] * 6, RULE)
    assert is_spike(50, [0] * 7, RULE)


def test_subtopic_spikes_counts_days_without_articles_as_zero(alerts_db) -> None:
    start = NOW - timedelta(days=28)
    rows.add_relevant_articles(alerts_db, "raids", start, 1)  # history begins here
    rows.add_relevant_articles(alerts_db, "raids", start + timedelta(days=14), 20)
    rows.add_relevant_articles(alerts_db, "raids", NOW, 12)
    # 28 history days: one 1, one 20, zeros: mean 0.75, std 3.7, threshold 11.9
    spikes = conditions.subtopic_spikes(alerts_db, NOW.date(), RULE)
    assert [(s.subtopic, s.articles, s.history_days) for s in spikes] == [("raids", 12, 28)]
    assert spikes[0].threshold == pytest.approx(11.9, abs=0.05)


def test_steady_subtopic_is_no_spike(alerts_db) -> None:
    for days_ago in range(29):
        rows.add_relevant_articles(alerts_db, "detention", NOW - timedelta(days=days_ago), 6)
    assert conditions.subtopic_spikes(alerts_db, NOW.date(), RULE) == []


# --- last retry only -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "try_number", "max_tries", "final"),
    [
        ("up_for_retry", 3, 2, False),  # the runner says a retry follows: trust it
        ("failed", 1, 2, True),  # failed fast (AirflowFailException): no try will follow
        ("failed", 3, 2, True),
        (None, 1, 2, False),
        (None, 2, 2, False),
        (None, 3, 2, True),
        (None, 1, 0, True),  # retries=0
    ],
)
def test_is_last_try(state, try_number, max_tries, final) -> None:
    assert is_last_try(state, try_number, max_tries) is final


def _context(state: str | None, try_number: int, max_tries: int, exc: BaseException | None):
    ti = SimpleNamespace(
        dag_id="policy_news_ingest",
        task_id="fetch_articles",
        run_id="scheduled__2026-11-26T15:00:00+00:00",
        map_index=2,
        try_number=try_number,
        max_tries=max_tries,
        state=state,
        log_url="http://airflow.local/dags/policy_news_ingest/runs/x/tasks/fetch_articles",
    )
    return {"ti": ti, "run_id": ti.run_id, "exception": exc}


def test_a_failure_with_retries_left_is_not_final() -> None:
    context = _context("up_for_retry", 1, 2, TimeoutError("read timeout"))
    assert conditions.final_task_failure(context) is None


def test_the_last_failure_describes_the_task() -> None:
    failed = conditions.final_task_failure(_context("failed", 3, 2, TimeoutError("read timeout")))
    assert failed is not None
    assert (failed.dag_id, failed.task_id, failed.map_index) == (
        "policy_news_ingest",
        "fetch_articles",
        2,
    )
    assert failed.exception == "TimeoutError: read timeout"
    assert failed.key == "task_failed:policy_news_ingest:fetch_articles"


def test_failure_caused_by_a_skipped_exception_is_not_reported() -> None:
    class BlockingCheckError(RuntimeError):
        pass

    try:
        try:
            raise BlockingCheckError("blocking data-quality check failed")
        except BlockingCheckError as cause:
            raise RuntimeError("task failed") from cause
    except RuntimeError as exc:
        context = _context("failed", 1, 0, exc)
    assert conditions.final_task_failure(context, ["BlockingCheckError"]) is None
    assert conditions.final_task_failure(context) is not None


# --- blocked load and feed health ----------------------------------------------------


def test_blocked_load_names_the_blocking_checks_only(alerts_db) -> None:
    rows.add_run(alerts_db, "r1", NOW - timedelta(hours=1))
    rows.add_run(alerts_db, "r2", NOW, "blocked", "blocking data-quality check failed: x")
    rows.add_check(
        alerts_db, "r2", "min_items", severity="block", success=False, observed="0", at=NOW
    )
    rows.add_check(
        alerts_db, "r2", "few_dates", severity="warn", success=False, observed="9", at=NOW
    )
    rows.add_check(
        alerts_db, "r2", "ids_unique", severity="block", success=True, observed="0", at=NOW
    )
    blocked = conditions.blocked_load(alerts_db)
    assert blocked is not None
    assert [(c.check_name, c.observed_value) for c in blocked.failed_checks] == [("min_items", "0")]
    assert blocked.key == "blocked_load:min_items"


def test_a_successful_run_after_a_blocked_one_clears_the_condition(alerts_db) -> None:
    rows.add_run(alerts_db, "r1", NOW - timedelta(hours=1), "blocked", "blocked")
    rows.add_run(alerts_db, "r2", NOW)
    assert conditions.blocked_load(alerts_db) is None


def test_feed_health_changes_are_new_bad_states_only(alerts_db) -> None:
    week_ago = NOW - timedelta(days=7)
    rows.add_feed(alerts_db, "flaky", added_at=week_ago, consecutive_failures=2)
    rows.add_feed(alerts_db, "still_flaky", added_at=week_ago, consecutive_failures=4)
    rows.add_feed(alerts_db, "retired", added_at=week_ago, enabled=False)
    rows.add_feed(alerts_db, "fine", added_at=week_ago, last_success_at=NOW, last_new_item_at=NOW)
    rows.seen_health(alerts_db, "flaky", "ok", week_ago)
    rows.seen_health(alerts_db, "still_flaky", "failing", week_ago)
    changes = conditions.feed_health_changes(alerts_db)
    assert [(c.feed_name, c.previous, c.health) for c in changes] == [("flaky", "ok", "failing")]
