"""Politeness: retries and Retry-After, per-host and global concurrency, spacing."""

from __future__ import annotations

import itertools
import socket
import time
from email.utils import formatdate

import pytest

from policy_news.http.client import FetchRequest, fetch_all
from policy_news.http.guard import AddressPolicy
from policy_news.http.politeness import parse_retry_after
from policy_news.settings import get_settings
from tests.http.helpers import cfg, fetch_one, token
from tests.support.hostile_server import (
    HostileServer,
)

pytestmark = pytest.mark.timeout(30)


def test_slow_response_times_out_and_is_retried(server: HostileServer) -> None:
    result = fetch_one(server.url(f"/slow?t={token()}"), cfg(max_retries=1))
    assert result.error_kind == "timeout"
    assert result.attempts == 2
    assert result.elapsed_s < 3


def test_connection_refused_is_a_connect_error(server: HostileServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch_one(f"http://127.0.0.1:{port}/", cfg(max_retries=1))
    assert result.error_kind == "connect" and result.attempts == 2
    assert result.status is None


def test_500_then_success_is_retried(server: HostileServer) -> None:
    result = fetch_one(server.url(f"/500-then-ok?t={token()}"))
    assert result.ok and result.attempts == 2


def test_persistent_500_gives_up_after_max_retries(server: HostileServer) -> None:
    t = token()
    result = fetch_one(server.url(f"/500?t={t}"), cfg(max_retries=2))
    assert result.error_kind == "http_status" and result.status == 500
    assert result.attempts == 3 and len(server.hits(f"/500?t={t}")) == 3


@pytest.mark.parametrize("status", [404, 410])
def test_404_is_not_retried(server: HostileServer, status: int) -> None:
    t = token()
    result = fetch_one(server.url(f"/status?code={status}&t={t}"))
    assert result.error_kind == "http_status" and result.status == status
    assert result.attempts == 1 and len(server.hits(f"/status?code={status}&t={t}")) == 1


def test_403_is_not_retried(server: HostileServer) -> None:
    result = fetch_one(server.url(f"/status?code=403&t={token()}"))
    assert result.attempts == 1 and result.status == 403


def test_retry_after_is_honoured_and_capped(server: HostileServer) -> None:
    honoured = fetch_one(server.url(f"/429-then-ok?t={token()}"), cfg(retry_after_cap_s=5))
    assert honoured.ok and honoured.attempts == 2
    assert honoured.elapsed_s >= 0.95  # Retry-After: 1

    capped = fetch_one(server.url(f"/429-long-then-ok?t={token()}"), cfg(retry_after_cap_s=0.3))
    assert capped.ok and capped.attempts == 2
    assert 0.3 <= capped.elapsed_s < 1.5  # Retry-After: 3600, capped at 0.3 s


def test_retry_after_http_date_is_honoured(server: HostileServer) -> None:
    # The server says "now + 2 s" as an HTTP-date (1 s resolution): wait 1..2 s, capped at 1.2.
    result = fetch_one(server.url(f"/503-date-then-ok?t={token()}"), cfg(retry_after_cap_s=1.2))
    assert result.ok and result.attempts == 2
    assert 0.9 <= result.elapsed_s < 2.5


def test_parse_retry_after_forms() -> None:
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = parse_retry_after(formatdate(now + 60, usegmt=True), now=now)
    assert date is not None and 58 <= date <= 60
    assert parse_retry_after(formatdate(now - 60, usegmt=True), now=now) == 0.0


def test_per_host_concurrency_and_delay(server: HostileServer) -> None:
    t = token()
    requests = [
        FetchRequest(server.url(f"/sleep?s=0.3&t={t}&i={i}"), kind="feed") for i in range(6)
    ]
    results = fetch_all(requests, cfg(host_concurrency=2, host_delay_s=0.2))
    assert all(r.ok for r in results)
    hits = server.hits(f"/sleep?s=0.3&t={t}")
    assert len(hits) == 6
    assert server.max_concurrency(f"/sleep?s=0.3&t={t}") == 2
    # Starts are spaced 0.2 s apart by the client; the server sees them with some
    # scheduling jitter, so check the total span tightly and each gap loosely.
    starts = sorted(h.started for h in hits)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert starts[-1] - starts[0] >= 5 * 0.2 - 0.05, gaps
    assert min(gaps) >= 0.1, gaps


def test_global_concurrency_spans_hosts(server: HostileServer) -> None:
    if server.second_host is None:
        pytest.skip("cannot bind 127.0.0.2 on this OS")
    t = token()
    requests = [
        FetchRequest(server.url(f"/sleep?s=0.2&t={t}&i={i}", host=host), kind="feed")
        for i in range(2)
        for host in ("127.0.0.1", "127.0.0.2")
    ]
    settings = cfg(global_concurrency=1, allowed_private_nets=("127.0.0.0/8",))
    assert all(r.ok for r in fetch_all(requests, settings))
    assert server.max_concurrency(f"/sleep?s=0.2&t={t}") == 1


def test_politeness_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_NEWS_HOST_CONCURRENCY", "3")
    monkeypatch.setenv("POLICY_NEWS_HOST_DELAY_S", "0.5")
    monkeypatch.setenv("POLICY_NEWS_ALLOWED_PRIVATE_NETS", "10.0.0.0/8, 127.0.0.1/32")
    settings = get_settings()
    assert settings.host_concurrency == 3 and settings.host_delay_s == 0.5
    assert settings.allowed_private_nets == ("10.0.0.0/8", "127.0.0.1/32")
    assert AddressPolicy(settings.allowed_private_nets).problem("10.9.8.7") is None


def test_first_request_to_a_host_is_not_delayed() -> None:
    import asyncio

    from policy_news.http.politeness import HostGate

    async def two_starts() -> list[float]:
        gate = HostGate(concurrency=2, delay_s=0.5, host="first-request.example")
        loop = asyncio.get_running_loop()
        began = loop.time()
        starts: list[float] = []
        for _ in range(2):
            async with gate.slot():
                starts.append(loop.time() - began)
        return starts

    first, second = asyncio.run(two_starts())
    assert first < 0.05, "a host's first request waits for no earlier one"
    assert second >= 0.45, "later requests keep the host's spacing"
