"""Politeness: per-host slots and spacing, Retry-After, and backoff between retries.

Publishers block crawlers that hammer them; these limits keep every host at
`host_concurrency` requests in flight, starts `host_delay_s` apart (or a
robots.txt Crawl-delay, if longer), and retries spaced as the server asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_ERROR_KINDS = frozenset({"connect", "timeout"})
# Exponential backoff when the server gives no Retry-After: 0.5 s, 1 s, 2 s ...,
# never longer than settings.retry_after_cap_s.
BACKOFF_BASE_S = 0.5

# Per-host start of the last request (time.monotonic(), which is also asyncio's loop
# clock), kept across fetch_all calls in a process: a run fetches its articles in
# chunks, and each chunk must not hit a host sooner than the spacing after the
# previous chunk's last request.
_LAST_START: dict[str, float] = {}


def reset_spacing() -> None:
    """Forget every host's last request (tests start clean)."""
    _LAST_START.clear()


class HostGate:
    """Per-host slots plus a minimum spacing between request starts to that host."""

    def __init__(self, concurrency: int, delay_s: float, host: str = "") -> None:
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.lock = asyncio.Lock()
        self.delay_s = max(0.0, delay_s)
        self.host = host
        self.last_start = _LAST_START.get(host, float("-inf")) if host else float("-inf")
        self.held_until = 0.0

    @contextlib.asynccontextmanager
    async def slot(self, *, spaced: bool = True) -> AsyncIterator[None]:
        """A request slot; `spaced=False` (robots.txt) neither waits its turn nor takes one."""
        async with self.slots:
            if not spaced:
                yield
                return
            async with self.lock:
                loop = asyncio.get_running_loop()
                wait = max(self.last_start + self.delay_s, self.held_until) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.last_start = loop.time()
                if self.host:
                    _LAST_START[self.host] = self.last_start
            yield

    def space_at_least(self, seconds: float) -> None:
        """Never start requests to this host closer than `seconds` (a robots.txt Crawl-delay)."""
        self.delay_s = max(self.delay_s, seconds)

    def defer(self, seconds: float) -> None:
        """Hold back every request to this host (after a 429/503 with Retry-After)."""
        self.held_until = max(self.held_until, asyncio.get_running_loop().time() + seconds)


class Clock:
    """Wall time since the first request of a fetch actually started.

    Queueing behind politeness limits does not count as slowness of the site.
    """

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else round(time.monotonic() - self.started, 3)


def is_retryable(error_kind: str | None, status: int | None) -> bool:
    """Temporary failures only: connection errors, timeouts, 429 and 5xx gateway statuses."""
    if error_kind in RETRY_ERROR_KINDS:
        return True
    return error_kind == "http_status" and status in RETRY_STATUSES


def backoff_delay(attempts: int, cap: float) -> float:
    """Exponential backoff with ±20 % jitter after `attempts` tries, at most `cap`."""
    backoff = BACKOFF_BASE_S * 2 ** (attempts - 1)
    return min(cap, backoff * random.uniform(0.8, 1.2))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)
