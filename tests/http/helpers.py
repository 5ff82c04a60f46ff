"""Test-sized settings and one-URL fetching shared by the HTTP tests."""

from __future__ import annotations

import uuid
from typing import Any

from policy_news.http.client import FetchRequest, FetchResult, fetch_all
from policy_news.settings import Settings, get_settings

MAX_BODY = 1 << 20


def cfg(**overrides: Any) -> Settings:
    """Fast, test-sized settings; loopback 127.0.0.1 is the one allowed private net."""
    values: dict[str, Any] = {
        "allowed_private_nets": ("127.0.0.1/32",),
        "connect_timeout_s": 1.0,
        "read_timeout_s": 0.5,
        "request_deadline_s": 3.0,
        "max_body_bytes": MAX_BODY,
        "max_redirects": 3,
        "global_concurrency": 8,
        "host_concurrency": 4,
        "host_delay_s": 0.0,
        "retry_after_cap_s": 0.1,  # also caps the exponential backoff
        "max_retries": 2,
        "respect_robots": True,
    }
    values.update(overrides)
    return get_settings(**values)


def token() -> str:
    """A unique query value: a fresh per-target counter on the server."""
    return uuid.uuid4().hex[:12]


def fetch_one(url: str, settings: Settings | None = None, **kw: Any) -> FetchResult:
    [result] = fetch_all([FetchRequest(url, **kw)], settings or cfg())
    return result
