from __future__ import annotations

from pathlib import Path

from policy_news.sources.discover import discover_feeds
from tools.sample_site import serve

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Site news</title>
<item><title>One</title><link>{{BASE}}/a.html</link></item></channel></rss>"""


def test_discover_lists_the_feeds_a_homepage_advertises(tmp_path: Path, settings) -> None:
    (tmp_path / "index.html").write_text(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/news/feed.rss">'
        '<link rel="alternate" type="application/rss+xml" href="/broken.rss"></head>'
        "<body>home</body></html>"
    )
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "feed.rss").write_text(FEED)
    with serve(tmp_path, 0, lifetime_s=60) as base:
        entries = discover_feeds(f"{base}/index.html", settings)
    assert [e["url"] for e in entries] == [f"{base}/news/feed.rss"]
    assert entries[0]["name"] == "127-0-0-1-news-feed-rss"
    assert "1 items" in entries[0]["notes"]
