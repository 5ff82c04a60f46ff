"""Find a site's feeds: `policy-news feeds discover URL`.

trafilatura's feed finder does the HTML work (link rel=alternate, then anchors);
the page itself is fetched through our guarded client, never trafilatura's own
downloader, so discovery obeys the same SSRF guard, limits and User-Agent.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from policy_news.http.client import FetchRequest, fetch_all
from policy_news.sources.feed_fetch import parse_feed

if TYPE_CHECKING:
    from policy_news.settings import Settings

_SLUG = re.compile(r"[^a-z0-9]+")


def _feed_name(url: str) -> str:
    host = urlsplit(url).netloc.lower().removeprefix("www.").split(":")[0]
    path = urlsplit(url).path.strip("/").replace("/", "-")
    base = f"{host}-{path}" if path and path not in ("feed", "rss", "rss.xml", "feed.xml") else host
    return _SLUG.sub("-", base.lower()).strip("-")[:80] or "feed"


def discover_feeds(url: str, settings: Settings) -> list[dict[str, Any]]:
    """Feed entries (registry form) advertised by the page at `url`, each checked to parse."""
    from datetime import UTC, datetime

    from trafilatura.feeds import FeedParameters, determine_feed

    page = fetch_all([FetchRequest(url=url, kind="feed", key="page")], settings)[0]
    if not page.ok or not page.body:
        raise RuntimeError(f"could not fetch {url}: {page.error or page.status}")
    html = page.body.decode("utf-8", errors="replace")
    parts = urlsplit(page.final_url)
    base = f"{parts.scheme}://{parts.netloc}"
    params = FeedParameters(base, parts.netloc, page.final_url)
    candidates = list(dict.fromkeys(determine_feed(html, params)))
    if not candidates:
        # the page may itself be a feed
        candidates = [page.final_url]
    results = fetch_all([FetchRequest(url=c, kind="feed", key=c) for c in candidates], settings)
    entries = []
    now = datetime.now(UTC)
    for result in results:
        if not result.ok or not result.body:
            continue
        parsed = parse_feed(result.body, result.headers, "discover", result.final_url, now)
        if parsed.error_kind or not parsed.items:
            continue
        entries.append(
            {
                "name": _feed_name(result.final_url),
                "url": result.final_url,
                "enabled": True,
                "kind": "news",
                "verified": True,
                "notes": f"discovered from {url}; {len(parsed.items)} items when checked",
            }
        )
    return entries
