"""Run limits on article fetching: a per-host breaker and a deadline for the stage.

A host that stops answering would otherwise cost every one of its items a full
timeout (and its retries), one after another within the host's politeness slots; a
run with a deadline stops starting requests when its time is up. Either way the
request is not made and its item is *deferred*: kept for a later run, not failed.

One `FetchLimits` lives as long as one article task: every chunk it fetches shares
the breaker's counts, so a host that tripped it stays skipped for the rest of the run.
"""

from __future__ import annotations

import threading
import time

from policy_news.http.politeness import is_retryable

# Why an item was left for a later run (also the pending_items.deferred_reason values).
FEED_CAP = "feed_cap"
HOST_BREAKER = "host_breaker"
BUDGET = "budget"
DEFERRED_REASONS = (FEED_CAP, HOST_BREAKER, BUDGET)

# A page the host refused on purpose (404, robots, wrong type) says nothing about the
# host's health; these say it is down, overloaded or hanging.
_HOST_TROUBLE_KINDS = frozenset({"deadline"})


def is_host_trouble(error_kind: str | None, status: int | None) -> bool:
    """Whether an attempt's outcome counts toward the host's breaker."""
    return error_kind in _HOST_TROUBLE_KINDS or is_retryable(error_kind, status)


class FetchLimits:
    """The breaker's per-host counts and the stage's deadline (time.monotonic())."""

    def __init__(self, breaker_failures: int, deadline: float | None = None) -> None:
        self.breaker_failures = max(1, breaker_failures)
        self.deadline = deadline
        self._consecutive: dict[str, int] = {}
        self._open: set[str] = set()
        # Chunks of one task run one after another, but concurrent callers are cheap to allow.
        self._lock = threading.Lock()

    @classmethod
    def with_budget(cls, breaker_failures: int, seconds_left: float) -> FetchLimits:
        return cls(breaker_failures, time.monotonic() + seconds_left)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def deferral(self, host: str) -> str | None:
        """Why a request to `host` must not start now (a deferred reason), or None."""
        if self.out_of_time():
            return BUDGET
        with self._lock:
            return HOST_BREAKER if host in self._open else None

    def record(self, host: str, *, trouble: bool) -> None:
        """Count one attempt's outcome; `breaker_failures` troubles in a row open the breaker."""
        with self._lock:
            if not trouble:
                self._consecutive[host] = 0
                return
            count = self._consecutive.get(host, 0) + 1
            self._consecutive[host] = count
            if count >= self.breaker_failures:
                self._open.add(host)

    @property
    def open_hosts(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._open)
