"""The naive baseline: what a first script would do, on a random subset of the same site.

Sequential: fetch a feed, fetch each of its articles, extract with trafilatura's
default settings, insert row by row into DuckDB. No concurrency, no pool, no batching.
At ~0.2 s an article it runs on a subset (whole feeds picked at random until the
subset is large enough), and is compared per article.
"""

from __future__ import annotations

import random
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from tools.bench.site_content import Content


def pick_feeds(content: Content, site_name: str, articles: int, seed: int) -> list[int]:
    """Random whole feeds of the site until they hold at least `articles` articles."""
    site = content.sites[site_name]
    order = list(range(site.feeds))
    random.Random(seed).shuffle(order)
    chosen, total = [], 0
    for feed in order:
        if total >= articles:
            break
        chosen.append(feed)
        total += len(site.feed_articles(feed))
    return chosen


def run_naive(
    content: Content, site_name: str, articles: int, db_path: Path, seed: int = 7
) -> dict[str, Any]:
    import duckdb
    import httpx
    import trafilatura

    site = content.sites[site_name]
    feeds = pick_feeds(content, site_name, articles, seed)
    conn = duckdb.connect(str(db_path))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS naive_articles (url VARCHAR PRIMARY KEY, feed VARCHAR, "
        "title VARCHAR, text VARCHAR, fetched_at TIMESTAMPTZ)"
    )
    done = failed = 0
    extract_s = extract_cpu_s = fetch_s = insert_s = 0.0
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for feed in feeds:
            t = time.perf_counter()
            body = client.get(content.feed_url(site, feed)).content
            fetch_s += time.perf_counter() - t
            for item in ET.fromstring(body).iter("item"):
                url = item.findtext("link") or ""
                title = item.findtext("title") or ""
                t = time.perf_counter()
                response = client.get(url)
                fetch_s += time.perf_counter() - t
                t, cpu = time.perf_counter(), time.thread_time()
                text = (
                    trafilatura.extract(response.content, url=url)
                    if response.status_code == 200
                    else None
                )
                extract_s += time.perf_counter() - t
                extract_cpu_s += time.thread_time() - cpu
                if not text:
                    failed += 1
                    continue
                t = time.perf_counter()
                conn.execute(
                    "INSERT OR REPLACE INTO naive_articles VALUES (?, ?, ?, ?, now())",
                    [url, str(feed), title, text],
                )
                insert_s += time.perf_counter() - t
                done += 1
    wall = time.perf_counter() - started
    conn.close()
    processed = done + failed
    return {
        "feeds": len(feeds),
        "articles": processed,
        "loaded": done,
        "failed": failed,
        "wall_s": round(wall, 3),
        "articles_per_s": round(processed / wall, 3) if wall else 0.0,
        "s_per_article": round(wall / processed, 4) if processed else None,
        "fetch_s": round(fetch_s, 2),
        "extract_s": round(extract_s, 2),
        # CPU, not wall: on a shared machine the two differ a lot
        "extract_cpu_ms_per_article": round(1000 * extract_cpu_s / processed, 1)
        if processed
        else None,
        "insert_s": round(insert_s, 2),
    }
