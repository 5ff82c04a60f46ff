"""fetch_all end to end against a local hostile server: results, order, redirects, deadline.

Everything runs on 127.0.0.1 with small timeouts, so each file finishes in a few seconds.
"""

from __future__ import annotations

import asyncio
import json

import feedparser
import pytest

from policy_news.http.client import FetchRequest, FetchResult, fetch_all
from tests.http.helpers import cfg, fetch_one, token
from tests.support.hostile_server import (
    FEED_ETAG,
    FEED_LAST_MODIFIED,
    HostileServer,
    Reply,
)

pytestmark = pytest.mark.timeout(30)


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


def test_trickling_body_hits_the_request_deadline(server: HostileServer) -> None:
    # A byte every 0.1 s never trips the 0.5 s read timeout; the deadline stops it.
    result = fetch_one(server.url("/slow-body"), cfg(request_deadline_s=0.8))
    assert result.error_kind == "deadline"
    assert result.attempts == 1  # a deadline is not retried
    assert 0.7 < result.elapsed_s < 2


@pytest.mark.parametrize("path", ["/lying-length", "/garbage"])
def test_broken_http_becomes_an_error_result(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "other" and result.body is None


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


def test_bad_redirect_location_is_an_error(server: HostileServer) -> None:
    server.routes["/redirect-broken"] = Reply(302, {"Location": "http://[::1"})
    result = fetch_one(server.url("/redirect-broken"))
    assert result.error_kind == "other" and "location" in (result.error or "").lower()


def test_malformed_url_is_an_error_not_an_exception() -> None:
    broken, relative = fetch_all([FetchRequest("http://[::1"), FetchRequest("/just/a/path")], cfg())
    assert broken.error_kind == "other"
    assert relative.error_kind == "scheme"
