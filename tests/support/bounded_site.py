"""The hostile site of the bounded-run tests, shared by the CLI and the Airflow test.

Three loopback hosts: 127.0.0.1 serves healthy feeds and pages; feed `flood` lists
20,000 items on 127.0.0.2, whose pages all answer 404; feed `hang` lists pages on
127.0.0.3, which sends nothing until the test says the host is back. The settings are
test-sized (cap, breaker, timeouts) except the flood, which is the issue's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from tests.e2e.test_hostile_site import good_page, rss
from tests.support.hostile_server import HTML, RSS, HostileServer, Reply, flood_feed, hanging_page

FLOOD = 20_000
CAP = 50
BREAKER = 3
# From the run's start: plan, feeds (parsing the flood is ~10 CPU-s), selection and
# articles. Generous against a loaded 2-core machine, well under the 30-minute schedule.
BUDGET_S = 60.0
HEALTHY_FEEDS = 10
PAGES_PER_FEED = 8  # healthy pages outnumber the flood's 50 404s (failed-share gate)
HANGING_PAGES = 12
# The hanging host's requests end by the read timeout. The deadline is longer than the
# read timeout: on a loaded machine, extraction's backpressure can stall the fetch loop
# for seconds, and a healthy request stalled past its deadline counts toward a breaker.
READ_TIMEOUT_S = 2.0
DEADLINE_S = 8.0
# In flight when the stage stops: every request ends within its deadline (one retry).
STAGE_BOUND_S = BUDGET_S + 2 * DEADLINE_S + 10  # + extraction of what was in flight

# Settings fields (the CLI test passes them, the Airflow test sets POLICY_NEWS_<NAME>).
SETTINGS: dict[str, Any] = {
    "allowed_private_nets": ("127.0.0.0/29",),
    "max_items_per_feed": CAP,
    "host_breaker_failures": BREAKER,
    "article_budget_s": BUDGET_S,
    "read_timeout_s": READ_TIMEOUT_S,
    "request_deadline_s": DEADLINE_S,
    "host_concurrency": 4,
    "extract_workers": 2,  # extraction off the fetch loop's thread
    "max_body_bytes": 8 << 20,  # the flood feed is ~3.6 MB
}


@dataclass
class Site:
    healthy_urls: list[str] = field(default_factory=list)
    hanging_urls: list[str] = field(default_factory=list)
    flood_urls: list[str] = field(default_factory=list)
    hang: bool = True


def build_site(main: HostileServer, hanging: HostileServer, folder: Path) -> tuple[Site, Path]:
    """Routes on both servers and the feed registry; returns the site and the registry."""
    site = Site()
    feeds = []
    page = 0
    for f in range(HEALTHY_FEEDS):
        items = []
        for _ in range(PAGES_PER_FEED):
            page += 1
            path = f"/good/{page}.html"
            main.routes[path] = Reply(200, HTML, good_page(page).encode())
            url = main.url(path)
            site.healthy_urls.append(url)
            items.append({"title": f"Story {page}", "link": url, "guid": url})
        main.routes[f"/feeds/healthy-{f}.xml"] = Reply(200, RSS, rss(f"Healthy {f}", items))
        feeds.append({"name": f"healthy-{f:02d}", "url": main.url(f"/feeds/healthy-{f}.xml")})
    site.flood_urls = [main.url(f"/gone/{n}.html", "127.0.0.2") for n in range(FLOOD)]
    # Built once (the default /flood.xml route rebuilds it on every request).
    main.routes["/flood-once.xml"] = Reply(200, RSS, flood_feed(main.url("", "127.0.0.2"), FLOOD))
    feeds.append({"name": "flood", "url": main.url("/flood-once.xml", "127.0.0.2")})
    items = []
    for n in range(HANGING_PAGES):
        page += 1
        path = f"/hang/{n}.html"
        hanging.routes[path] = hanging_page(lambda: site.hang, good_page(page).encode())
        url = hanging.url(path)
        site.hanging_urls.append(url)
        items.append({"title": f"Hanging {n}", "link": url, "guid": url})
    main.routes["/feeds/hang.xml"] = Reply(200, RSS, rss("Hang", items))
    feeds.append({"name": "hang", "url": main.url("/feeds/hang.xml")})
    registry = folder / "feeds.yaml"
    registry.write_text(yaml.safe_dump({"feeds": feeds}))
    return site, registry


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def backlog(db: Path) -> dict[str, int]:
    return dict(rows(db, "SELECT deferred_reason, count(*) FROM pending_items GROUP BY 1"))


def newest_flood_urls(site: Site) -> list[str]:
    """The flood's CAP newest items: numbers 0..54 but the undated 9, 19, ... 49."""
    return [u for n, u in enumerate(site.flood_urls[:55]) if n % 10 != 9]


def assert_loaded_once(db: Path, urls: list[str]) -> set[str]:
    """Every one of `urls` is stored, and no article (by id or URL) is stored twice."""
    loaded = {r[0] for r in rows(db, "SELECT url FROM articles")}
    assert sorted(set(urls) - loaded) == []
    counts = rows(
        db, "SELECT count(*), count(DISTINCT article_id), count(DISTINCT url) FROM articles"
    )
    assert counts[0][0] == counts[0][1] == counts[0][2] == len(loaded), counts
    return loaded
