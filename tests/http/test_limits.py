"""Run limits: a host that keeps failing is skipped, and nothing starts after the deadline."""

from __future__ import annotations

import time

from policy_news.http.client import FetchRequest, fetch_all
from policy_news.http.limits import BUDGET, HOST_BREAKER, FetchLimits, is_host_trouble
from tests.http.helpers import cfg, token
from tests.support.hostile_server import HostileServer


def test_breaker_opens_after_consecutive_troubles_and_a_success_resets_the_count() -> None:
    limits = FetchLimits(breaker_failures=3)
    for _ in range(2):
        limits.record("a.example", trouble=True)
    limits.record("a.example", trouble=False)
    limits.record("a.example", trouble=True)
    assert limits.deferral("a.example") is None
    limits.record("a.example", trouble=True)
    limits.record("a.example", trouble=True)
    assert limits.deferral("a.example") == HOST_BREAKER
    assert limits.deferral("b.example") is None


def test_a_page_the_host_refused_is_no_host_trouble() -> None:
    assert not is_host_trouble("http_status", 404)
    assert not is_host_trouble("robots", None)
    assert is_host_trouble("timeout", None)
    assert is_host_trouble("deadline", None)
    assert is_host_trouble("http_status", 503)


def test_hanging_host_is_skipped_after_the_breaker_opens(server: HostileServer) -> None:
    """Ten pages of a host that never answers: three time out, the rest never start."""
    settings = cfg(read_timeout_s=0.3, max_retries=0, host_concurrency=1)
    limits = FetchLimits(breaker_failures=3)
    requests = [FetchRequest(server.url(f"/sleep?s=5&t={token()}"), key=str(i)) for i in range(10)]
    started = time.monotonic()
    results = fetch_all(requests, settings, limits=limits)
    elapsed = time.monotonic() - started
    timed_out = [r for r in results if r.error_kind == "timeout"]
    deferred = [r for r in results if r.deferred_reason == HOST_BREAKER]
    assert (len(timed_out), len(deferred)) == (3, 7), [r.error_kind for r in results]
    assert all(r.error_kind == "deferred" and not r.ok for r in deferred)
    assert len(server.hits("/sleep?s=5")) == 3  # the deferred ones were never requested
    assert elapsed < 5, elapsed  # 3 x 0.3 s, not 10 x 0.3 s


def test_breaker_does_not_skip_feeds(server: HostileServer) -> None:
    limits = FetchLimits(breaker_failures=1)
    limits.record("127.0.0.1", trouble=True)
    [result] = fetch_all([FetchRequest(server.url("/feed.xml"), kind="feed")], cfg(), limits=limits)
    assert result.ok


def test_nothing_starts_after_the_deadline(server: HostileServer) -> None:
    limits = FetchLimits(breaker_failures=5, deadline=time.monotonic() - 1)
    target = f"/article/1.html?t={token()}"
    [result] = fetch_all([FetchRequest(server.url(target))], cfg(), limits=limits)
    assert result.deferred_reason == BUDGET and result.attempts == 0
    assert server.hits(target) == []


def test_requests_in_flight_finish_when_the_deadline_passes(server: HostileServer) -> None:
    """One slot: the first request is in flight at the deadline and finishes; the second
    was queued behind it and never starts."""
    settings = cfg(host_concurrency=1, read_timeout_s=2.0)
    limits = FetchLimits.with_budget(breaker_failures=5, seconds_left=0.3)
    first, second = fetch_all(
        [
            FetchRequest(server.url(f"/sleep?s=0.6&t={token()}")),
            FetchRequest(server.url(f"/sleep?s=0&t={token()}")),
        ],
        settings,
        limits=limits,
    )
    assert first.ok
    assert second.deferred_reason == BUDGET
