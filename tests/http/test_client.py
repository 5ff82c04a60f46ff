"""The fetch layer against a local hostile server: politeness, limits, SSRF guard.

Everything runs on 127.0.0.1 (plus 127.0.0.2 where the OS allows) with small
timeouts, so the file finishes in a few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import feedparser
import pytest

from policy_news.http import client as http
from policy_news.http.client import (
    AddressPolicy,
    FetchRequest,
    FetchResult,
    fetch_all,
    parse_retry_after,
)
from policy_news.settings import Settings, get_settings
from tests.support.hostile_server import (
    BAD_ENCODING_FEED,
    BILLION_LAUGHS,
    BROKEN_XML,
    FEED_ETAG,
    FEED_LAST_MODIFIED,
    HostileServer,
    Reply,
    self_signed_tls,
)

pytestmark = pytest.mark.timeout(30)

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


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(huge_bytes=2 * MAX_BODY) as srv:
        yield srv
    assert srv.errors == []  # no route handler blew up


def token() -> str:
    """A unique query value: a fresh per-target counter on the server."""
    return uuid.uuid4().hex[:12]


def fetch_one(url: str, settings: Settings | None = None, **kw: Any) -> FetchResult:
    [result] = fetch_all([FetchRequest(url, **kw)], settings or cfg())
    return result


# --------------------------------------------------------------------------- healthy


def test_healthy_article_is_fetched(server: HostileServer) -> None:
    result = fetch_one(server.url("/article/1.html"), key="a1")
    assert result.ok and result.status == 200 and result.attempts == 1
    assert result.request.key == "a1"
    assert result.final_url == server.url("/article/1.html")
    assert result.headers["content-type"].startswith("text/html")
    assert result.body is not None and b"Immigration and Customs Enforcement" in result.body
    assert not result.not_modified and result.error is None


def test_healthy_feeds_are_fetched_and_parse(server: HostileServer) -> None:
    rss, atom = fetch_all(
        [
            FetchRequest(server.url("/feed.xml"), kind="feed"),
            FetchRequest(server.url("/atom.xml"), kind="feed"),
        ],
        cfg(),
    )
    assert rss.ok and atom.ok
    assert rss.headers["etag"] == FEED_ETAG
    assert rss.body is not None and atom.body is not None
    assert len(feedparser.parse(rss.body).entries) == 2
    assert len(feedparser.parse(atom.body).entries) == 1


def test_user_agent_and_accept_encoding_are_sent(server: HostileServer) -> None:
    settings = cfg(user_agent="policy-news-test/9.9")
    result = fetch_one(server.url("/headers"), settings, kind="feed")
    assert result.body is not None
    seen = json.loads(result.body)
    assert seen["user-agent"] == "policy-news-test/9.9"
    assert seen["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in seen


def test_conditional_get_headers_are_sent(server: HostileServer) -> None:
    result = fetch_one(
        server.url("/headers"), kind="feed", etag='"abc"', last_modified=FEED_LAST_MODIFIED
    )
    assert result.body is not None
    seen = json.loads(result.body)
    assert seen["if-none-match"] == '"abc"'
    assert seen["if-modified-since"] == FEED_LAST_MODIFIED


def test_not_modified_304(server: HostileServer) -> None:
    by_etag, by_date = fetch_all(
        [
            FetchRequest(server.url("/feed.xml"), kind="feed", etag=FEED_ETAG),
            FetchRequest(server.url("/feed.xml"), kind="feed", last_modified=FEED_LAST_MODIFIED),
        ],
        cfg(),
    )
    for result in (by_etag, by_date):
        assert result.ok and result.not_modified
        assert result.status == 304 and result.body is None


def test_results_keep_request_order_and_on_result_sees_each(server: HostileServer) -> None:
    paths = ["/sleep?s=0.3", "/404", "/article/2.html", "/sleep?s=0.05", "/pdf"]
    requests = [
        FetchRequest(server.url(f"{p}&t={token()}" if "?" in p else p), key=p) for p in paths
    ]
    seen: list[str] = []
    results = fetch_all(requests, cfg(), on_result=lambda r: seen.append(r.request.key))
    assert [r.request.key for r in results] == paths
    assert sorted(seen) == sorted(paths)
    assert seen[-1] == "/sleep?s=0.3"  # callbacks arrive as results finish


def test_on_result_exception_stops_the_batch_and_is_raised(server: HostileServer) -> None:
    def boom(result: FetchResult) -> None:
        raise RuntimeError("caller bug")

    with pytest.raises(RuntimeError, match="caller bug"):
        fetch_all([FetchRequest(server.url("/article/1.html"))], cfg(), on_result=boom)


def test_empty_request_list_returns_empty() -> None:
    assert fetch_all([], cfg()) == []


def test_fetch_all_works_inside_a_running_event_loop(server: HostileServer) -> None:
    async def caller() -> list[FetchResult]:
        return fetch_all([FetchRequest(server.url("/article/1.html"))], cfg())

    [result] = asyncio.run(caller())
    assert result.ok


# --------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("path", ["/gzip-article", "/deflate-article", "/raw-deflate-article"])
def test_compressed_bodies_are_decoded(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.ok, result.error
    assert result.body is not None and result.body.startswith(b"<!DOCTYPE html>")


def test_gzip_bomb_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/gzip-bomb"))  # 16 MiB of zeros in ~16 KiB
    assert result.error_kind == "too_large" and result.body is None
    assert "decoded" in (result.error or "")
    assert result.attempts == 1  # not retried


def test_nested_gzip_bomb_is_cut_without_inflating_it(server: HostileServer) -> None:
    # gzip(gzip(64 MiB)): a decoder that inflates a whole chunk would allocate 64 MiB.
    tracemalloc.start()
    try:
        # (generous read timeout: the server builds the bomb on first request)
        result = fetch_one(server.url("/gzip-bomb-nested"), cfg(read_timeout_s=5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_kind == "too_large"
    assert peak < 16 * MAX_BODY


def test_huge_body_with_content_length_is_refused_before_reading(server: HostileServer) -> None:
    result = fetch_one(server.url("/huge"))
    assert result.error_kind == "too_large"
    assert "Content-Length" in (result.error or "")


def test_huge_streamed_body_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/huge-chunked"))
    assert result.error_kind == "too_large" and result.body is None


def test_endless_body_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/endless"))
    assert result.error_kind == "too_large"
    assert result.elapsed_s < 2


def test_trickling_body_hits_the_request_deadline(server: HostileServer) -> None:
    # A byte every 0.1 s never trips the 0.5 s read timeout; the deadline stops it.
    result = fetch_one(server.url("/slow-body"), cfg(request_deadline_s=0.8))
    assert result.error_kind == "deadline"
    assert result.attempts == 1  # a deadline is not retried
    assert 0.7 < result.elapsed_s < 2


@pytest.mark.parametrize(("path", "why"), [("/bad-gzip", "gzip"), ("/brotli", "'br'")])
def test_undecodable_body_is_a_decode_error(server: HostileServer, path: str, why: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "decode" and why in (result.error or "")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/bad-encoding.xml", BAD_ENCODING_FEED),
        ("/broken.xml", BROKEN_XML),
        ("/billion-laughs.xml", BILLION_LAUGHS),
        ("/empty.xml", b""),
    ],
)
def test_hostile_documents_come_back_as_untouched_bytes(
    server: HostileServer, path: str, payload: bytes
) -> None:
    # Parsing is the caller's job; the fetch layer must not choke on or alter them.
    result = fetch_one(server.url(path), kind="feed")
    assert result.ok and result.body == payload


def test_empty_article_is_ok_with_empty_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/empty"))
    assert result.ok and result.body == b""


@pytest.mark.parametrize("path", ["/lying-length", "/garbage"])
def test_broken_http_becomes_an_error_result(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "other" and result.body is None


# --------------------------------------------------------------------------- content types


@pytest.mark.parametrize("path", ["/pdf", "/image.png"])
def test_pdf_is_not_an_article(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "content_type" and result.status == 200
    assert result.body is None and result.attempts == 1


def test_pdf_is_not_a_feed(server: HostileServer) -> None:
    assert fetch_one(server.url("/pdf"), kind="feed").error_kind == "content_type"


def test_missing_content_type_is_allowed(server: HostileServer) -> None:
    result = fetch_one(server.url("/no-content-type"))
    assert result.ok and "content-type" not in result.headers


# --------------------------------------------------------------------------- timeouts and retries


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
    assert result.status is None and not result.hard_failure


def test_500_then_success_is_retried(server: HostileServer) -> None:
    result = fetch_one(server.url(f"/500-then-ok?t={token()}"))
    assert result.ok and result.attempts == 2


def test_persistent_500_gives_up_after_max_retries(server: HostileServer) -> None:
    t = token()
    result = fetch_one(server.url(f"/500?t={t}"), cfg(max_retries=2))
    assert result.error_kind == "http_status" and result.status == 500
    assert result.attempts == 3 and len(server.hits(f"/500?t={t}")) == 3
    assert not result.hard_failure


@pytest.mark.parametrize("status", [404, 410])
def test_404_is_not_retried(server: HostileServer, status: int) -> None:
    t = token()
    result = fetch_one(server.url(f"/status?code={status}&t={t}"))
    assert result.error_kind == "http_status" and result.status == status
    assert result.attempts == 1 and len(server.hits(f"/status?code={status}&t={t}")) == 1
    assert result.hard_failure


def test_403_is_not_retried_and_not_a_hard_failure(server: HostileServer) -> None:
    result = fetch_one(server.url(f"/status?code=403&t={token()}"))
    assert result.attempts == 1 and result.status == 403 and not result.hard_failure


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


# --------------------------------------------------------------------------- redirects


def test_redirects_are_followed_and_final_url_reported(server: HostileServer) -> None:
    chain, relative = fetch_all(
        [
            FetchRequest(server.url("/redirect-chain?n=3")),
            FetchRequest(server.url("/redirect-relative")),
        ],
        cfg(max_redirects=3),
    )
    assert chain.ok and chain.final_url == server.url("/redirect-chain?n=0")
    assert relative.ok and relative.final_url == server.url("/article/1.html")


def test_too_many_redirects(server: HostileServer) -> None:
    over = fetch_one(server.url("/redirect-chain?n=4"), cfg(max_redirects=3))
    assert over.error_kind == "too_many_redirects" and over.attempts == 1
    loop = fetch_one(server.url("/redirect-loop/a"))
    assert loop.error_kind == "too_many_redirects"


def test_redirect_to_private_address_is_refused(server: HostileServer) -> None:
    before = len([h for h in server.log if h.bound_host == "127.0.0.2"])
    result = fetch_one(server.url("/redirect-private"))  # -> http://127.0.0.2:PORT/...
    assert result.error_kind == "ssrf"
    assert "127.0.0.2" in (result.error or "") and "POLICY_NEWS_ALLOWED_PRIVATE_NETS" in (
        result.error or ""
    )
    assert result.final_url.startswith("http://127.0.0.2:")
    assert len([h for h in server.log if h.bound_host == "127.0.0.2"]) == before


def test_redirect_into_an_allowed_private_net_is_followed(server: HostileServer) -> None:
    if server.second_host is None:
        pytest.skip("cannot bind 127.0.0.2 on this OS")
    result = fetch_one(server.url("/redirect-private"), cfg(allowed_private_nets=("127.0.0.0/8",)))
    assert result.ok and result.final_url.startswith("http://127.0.0.2:")


def test_redirect_to_cloud_metadata_is_refused(server: HostileServer) -> None:
    result = fetch_one(server.url("/redirect-metadata"))
    assert result.error_kind == "ssrf" and "link-local" in (result.error or "")


def test_bad_redirect_location_is_an_error(server: HostileServer) -> None:
    server.routes["/redirect-broken"] = Reply(302, {"Location": "http://[::1"})
    result = fetch_one(server.url("/redirect-broken"))
    assert result.error_kind == "other" and "location" in (result.error or "").lower()


def test_redirect_to_file_scheme_is_refused(server: HostileServer) -> None:
    result = fetch_one(server.url("/redirect-file"))
    assert result.error_kind == "scheme" and result.final_url.startswith("file:")


# --------------------------------------------------------------------------- SSRF guard


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "mailto:a@b.c"]
)
def test_non_http_scheme_refused(url: str) -> None:
    result = fetch_one(url)
    assert result.error_kind == "scheme" and not result.ok and result.status is None


def test_private_addresses_are_refused_without_allowed_nets(server: HostileServer) -> None:
    port = server.port
    urls = [
        f"http://127.0.0.1:{port}/article/1.html",
        f"http://127.1:{port}/article/1.html",  # short form
        f"http://2130706433:{port}/article/1.html",  # 127.0.0.1 as an integer
        f"http://[::ffff:127.0.0.1]:{port}/article/1.html",
        "http://[::1]/",
        "http://10.0.0.5/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
    ]
    before = len(server.log)
    results = fetch_all([FetchRequest(u) for u in urls], cfg(allowed_private_nets=()))
    for result in results:
        assert result.error_kind == "ssrf", (result.request.url, result.error)
        assert result.error and result.error.startswith("refused:")
    assert len(server.log) == before  # nothing reached the server


def test_public_dns_name_resolving_private_is_refused(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fake_resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]  # one bad answer is enough

    monkeypatch.setattr(http, "resolve_host", fake_resolve)
    result = fetch_one("http://news.example.com/story.html")
    assert result.error_kind == "ssrf"
    assert "news.example.com resolves to 10.0.0.5" in (result.error or "")


def test_connection_goes_to_the_checked_address(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS-rebinding guard: the name is resolved once, by us, and that IP is dialled."""
    calls: list[str] = []

    async def fake_resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    real_getaddrinfo = socket.getaddrinfo

    def no_second_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "pinned.test":
            raise AssertionError("something resolved the name a second time")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(http, "resolve_host", fake_resolve)
    monkeypatch.setattr(socket, "getaddrinfo", no_second_lookup)
    result = fetch_one(f"http://pinned.test:{server.port}/headers", kind="feed")
    assert result.ok, result.error
    assert result.body is not None
    assert json.loads(result.body)["host"] == f"pinned.test:{server.port}"
    assert calls == ["pinned.test"]


def test_dns_failure_is_a_hard_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(http, "resolve_host", nxdomain)
    result = fetch_one("http://gone.example.com/feed.xml", kind="feed")
    assert result.error_kind == "dns" and result.hard_failure and result.attempts == 1


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("127.0.0.1", False),  # allowed net below
        ("127.0.0.2", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),  # carrier-grade NAT: not private, not global
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("::ffff:10.0.0.1", True),
        ("93.184.215.14", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
    ],
)
def test_address_policy(address: str, refused: bool) -> None:
    policy = AddressPolicy(["127.0.0.1/32"])
    assert (policy.problem(address) is not None) is refused


def test_malformed_url_is_an_error_not_an_exception() -> None:
    broken, relative = fetch_all([FetchRequest("http://[::1"), FetchRequest("/just/a/path")], cfg())
    assert broken.error_kind == "other"
    assert relative.error_kind == "scheme"


# --------------------------------------------------------------------------- robots.txt


def test_robots_disallow_is_respected(server: HostileServer) -> None:
    t = token()
    before = len(server.hits("/robots.txt"))
    blocked, allowed, blocked2 = fetch_all(
        [
            FetchRequest(server.url(f"/private/secret.html?t={t}")),
            FetchRequest(server.url("/article/1.html")),
            FetchRequest(server.url(f"/private/secret.html?t={t}2")),
        ],
        cfg(),
    )
    assert blocked.error_kind == "robots" and blocked2.error_kind == "robots"
    assert "robots.txt" in (blocked.error or "")
    assert allowed.ok
    assert server.hits(f"/private/secret.html?t={t}") == []
    assert len(server.hits("/robots.txt")) == before + 1  # once per host per call


def test_robots_is_not_applied_to_feeds_or_when_disabled(server: HostileServer) -> None:
    as_feed = fetch_one(server.url("/private/secret.html"), kind="feed")
    ignored = fetch_one(server.url("/private/secret.html"), cfg(respect_robots=False))
    assert as_feed.ok and ignored.ok


def test_missing_robots_txt_means_allowed() -> None:
    routes = {"/a": Reply(200, {"Content-Type": "text/html"}, b"<p>a</p>")}
    with HostileServer(routes, defaults=False, second_host=None) as bare:
        result = fetch_one(bare.url("/a"))
        assert result.ok
        assert len(bare.hits("/robots.txt")) == 1  # asked, got 404, allowed


# --------------------------------------------------------------------------- politeness


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


def test_robots_txt_takes_no_spacing_turn(server: HostileServer) -> None:
    """The first page follows robots.txt at once; pages keep their spacing."""
    t = token()
    requests = [
        FetchRequest(server.url(f"/sleep?s=0&t={t}&i={i}"), kind="article") for i in range(3)
    ]
    before = len(server.hits("/robots.txt"))
    assert all(r.ok for r in fetch_all(requests, cfg(respect_robots=True, host_delay_s=0.5)))
    robots = server.hits("/robots.txt")[before:]
    assert len(robots) == 1
    pages = sorted(h.started for h in server.hits(f"/sleep?s=0&t={t}"))
    assert pages[0] - robots[0].started < 0.4  # not a whole 0.5 s turn after robots.txt
    assert pages[-1] - pages[0] >= 2 * 0.5 - 0.05


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


def test_https_verifies_the_hostname_while_dialling_the_checked_ip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SNI and certificate checks use the URL's name even though we connect to the IP."""
    pytest.importorskip("cryptography")
    server_tls, client_tls = self_signed_tls("secure.test")

    async def fake_resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(http, "resolve_host", fake_resolve)
    monkeypatch.setattr(http, "tls_context", lambda: client_tls)
    with HostileServer(tls=server_tls, second_host=None) as tls_server:
        good, wrong_name = fetch_all(
            [
                FetchRequest(f"https://secure.test:{tls_server.port}/article/1.html"),
                FetchRequest(f"https://other.test:{tls_server.port}/article/1.html"),
            ],
            cfg(max_retries=0),
        )
    assert good.ok, good.error
    assert wrong_name.error_kind == "connect"
    assert "certificate" in (wrong_name.error or "").lower()
