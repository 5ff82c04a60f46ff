"""robots.txt: disallow rules, wildcards, Crawl-delay, caching, and its place in the spacing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from policy_news.http import robots
from policy_news.http.client import FetchRequest, fetch_all
from tests.http.helpers import cfg, fetch_one, token
from tests.support.hostile_server import HostileServer, Reply

pytestmark = pytest.mark.timeout(30)

PAGE = Reply(200, {"Content-Type": "text/html"}, b"<p>page</p>")


@contextmanager
def site(robots_txt: bytes | Reply, *pages: str) -> Iterator[HostileServer]:
    """A bare server whose robots.txt is `robots_txt`; `pages` answer 200, the rest 404."""
    if isinstance(robots_txt, bytes):
        robots_txt = Reply(200, {"Content-Type": "text/plain"}, robots_txt)
    routes = {"/robots.txt": robots_txt, **dict.fromkeys(pages, PAGE)}
    with HostileServer(routes, defaults=False, second_host=None) as srv:
        yield srv


def refused_by_robots(
    srv: HostileServer, paths: list[str], user_agent: str | None = None
) -> set[str]:
    """The paths robots.txt refused (others were requested, whatever their status)."""
    settings = cfg(user_agent=user_agent) if user_agent else cfg()
    results = fetch_all([FetchRequest(srv.url(p), key=p) for p in paths], settings)
    return {r.request.key for r in results if r.error_kind == "robots"}


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


def test_wildcards_and_end_anchors_in_paths() -> None:
    rules = (
        b"User-agent: *\n"
        b"Disallow: /*.pdf$\n"
        b"Disallow: /*?print=\n"
        b"Allow: /news/*/open$\n"
        b"Disallow: /news/\n"
    )
    paths = [
        "/doc.pdf",
        "/doc.pdf?page=2",  # `$` anchors the end: not a .pdf URL any more
        "/story?print=1",
        "/story?page=1",
        "/news/a/open",
        "/news/a/open/more",
        "/news/a/closed",
    ]
    with site(rules) as srv:
        refused = refused_by_robots(srv, paths)
        assert refused == {"/doc.pdf", "/story?print=1", "/news/a/open/more", "/news/a/closed"}
        assert not refused & {hit.target for hit in srv.log}  # never requested


def test_our_own_group_replaces_the_star_group() -> None:
    rules = (
        b"User-agent: *\nDisallow: /everyone/\n\n"
        b"User-agent: policy-news-monitor\nDisallow: /only-us/\n"
    )
    paths = ["/everyone/x", "/only-us/x", "/other"]
    with site(rules) as srv:
        assert refused_by_robots(srv, paths) == {"/only-us/x"}
    with site(rules) as srv:
        assert refused_by_robots(srv, paths, "other-bot/1.0") == {"/everyone/x"}


def test_groups_match_our_product_token_not_words_of_the_user_agent_header() -> None:
    # Our header carries a contact URL (+https://github.com/...); "github" is not our name.
    rules = b"User-agent: github\nDisallow: /\n\nUser-agent: *\nDisallow: /private/\n"
    with site(rules) as srv:
        assert refused_by_robots(srv, ["/a", "/private/a"]) == {"/private/a"}


def test_crawl_delay_spaces_pages_beyond_host_delay() -> None:
    with site(b"User-agent: *\nCrawl-delay: 0.5\n", "/p") as srv:
        settings = cfg(host_delay_s=0.1, host_concurrency=4)
        first = fetch_all([FetchRequest(srv.url(f"/p?i={i}")) for i in range(3)], settings)
        # A later chunk reads Crawl-delay from the cache and keeps the spacing.
        second = fetch_all([FetchRequest(srv.url("/p?i=3"))], settings)
        assert all(r.ok for r in first + second)
        starts = sorted(h.started for h in srv.hits("/p"))
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert len(srv.hits("/robots.txt")) == 1
        assert min(gaps) >= 0.45, gaps


def test_crawl_delay_below_host_delay_changes_nothing() -> None:
    with site(b"User-agent: *\nCrawl-delay: 0.1\n", "/p") as srv:
        results = fetch_all(
            [FetchRequest(srv.url(f"/p?i={i}")) for i in range(3)], cfg(host_delay_s=0.4)
        )
        assert all(r.ok for r in results)
        starts = sorted(h.started for h in srv.hits("/p"))
        assert starts[-1] - starts[0] >= 2 * 0.4 - 0.05


def test_crawl_delay_is_capped() -> None:
    rules = robots.parse_robots(b"User-agent: *\nCrawl-delay: 86400\n")
    verdict = robots.verdict(rules, "https://news.example/a", "policy-news-monitor/0.1")
    assert verdict.allowed and verdict.crawl_delay_s == robots.MAX_CRAWL_DELAY_S


def test_robots_txt_is_cached_across_calls() -> None:
    with site(b"User-agent: *\nDisallow: /private/\n", "/a") as srv:
        for _ in range(2):
            assert fetch_one(srv.url("/a")).ok
            assert fetch_one(srv.url("/private/a")).error_kind == "robots"
        assert len(srv.hits("/robots.txt")) == 1


def test_robots_txt_is_asked_again_when_its_ttl_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(robots, "ROBOTS_TTL_S", 0.0)
    with site(b"User-agent: *\nDisallow: /private/\n", "/a") as srv:
        fetch_one(srv.url("/a"))
        fetch_one(srv.url("/a"))
        assert len(srv.hits("/robots.txt")) == 2


def test_missing_robots_txt_is_remembered_for_its_own_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    with site(Reply(404), "/a") as srv:
        fetch_one(srv.url("/a"))
        fetch_one(srv.url("/a"))
        assert len(srv.hits("/robots.txt")) == 1
        monkeypatch.setattr(robots, "ROBOTS_MISSING_TTL_S", 0.0)
        robots.reset_robots_cache()
        fetch_one(srv.url("/a"))
        fetch_one(srv.url("/a"))
        assert len(srv.hits("/robots.txt")) == 3


def test_robots_txt_server_error_allows_and_is_not_retried() -> None:
    with site(Reply(503, {"Retry-After": "1"}), "/a") as srv:
        assert fetch_one(srv.url("/a")).ok
        assert len(srv.hits("/robots.txt")) == 1


def test_oversized_robots_txt_allows_everything() -> None:
    padding = b"# " + b"x" * (robots.ROBOTS_MAX_BYTES) + b"\n"
    with site(b"User-agent: *\nDisallow: /\n" + padding, "/a") as srv:
        assert fetch_one(srv.url("/a")).ok
