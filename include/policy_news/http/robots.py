"""robots.txt: fetched once per origin, parsed with Protego, cached for the process.

Protego is the parser Scrapy uses: it understands `*` and `$` in paths, the
longest-match rule of RFC 9309, and `Crawl-delay`, which `urllib.robotparser`
gets wrong or ignores. A robots.txt that is missing or fails allows everything,
and is asked again sooner than one that was read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protego import Protego

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx

log = logging.getLogger(__name__)

# robots.txt larger than this is treated as unavailable (Google stops at 500 KiB).
ROBOTS_MAX_BYTES = 512 * 1024
ROBOTS_TTL_S = 3600.0
# A missing or failed robots.txt (None = allow all) is asked again sooner.
ROBOTS_MISSING_TTL_S = 600.0
# A Crawl-delay above this is cut to it: a single line of a site's robots.txt must not
# be able to stall a run for hours.
MAX_CRAWL_DELAY_S = 30.0

# Parsed robots.txt per origin with its expiry (time.monotonic()), kept across
# fetch_all calls in a process so a run's chunks do not fetch it again.
_ROBOTS_CACHE: dict[str, tuple[float, Protego | None]] = {}


def reset_robots_cache() -> None:
    """Forget every robots.txt read (tests start clean)."""
    _ROBOTS_CACHE.clear()


@dataclass(frozen=True)
class RobotsVerdict:
    """What robots.txt says about one URL for our user agent."""

    allowed: bool
    crawl_delay_s: float = 0.0


def origin_of(url: httpx.URL) -> str:
    """scheme://host[:port], the scope one robots.txt covers."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = "" if url.port in (None, default) else f":{url.port}"
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


def product_token(user_agent: str) -> str:
    """The name robots.txt groups are matched against: 'policy-news-monitor' of
    'policy-news-monitor/0.1 (+https://...)'. Matching the whole header would let a
    group for a word inside our contact URL apply to us."""
    token = user_agent.strip().split("/", 1)[0].split(None, 1)
    return token[0] if token else user_agent


def parse_robots(body: bytes) -> Protego:
    return Protego.parse(body.decode("utf-8", errors="replace"))


def verdict(rules: Protego | None, url: str, user_agent: str) -> RobotsVerdict:
    """Allowed or not, and the Crawl-delay (capped) that applies to us; None allows all."""
    if rules is None:
        return RobotsVerdict(allowed=True)
    agent = product_token(user_agent)
    delay = min(rules.crawl_delay(agent) or 0.0, MAX_CRAWL_DELAY_S)
    return RobotsVerdict(allowed=rules.can_fetch(url, agent), crawl_delay_s=delay)


class RobotsRules:
    """robots.txt per origin for one fetch_all call, backed by the process cache.

    `download(origin)` returns the body of origin/robots.txt, or None when it is
    missing or failed. Concurrent requests to one origin share one download.
    """

    def __init__(self, user_agent: str, download: Callable[[str], Awaitable[bytes | None]]) -> None:
        self.user_agent = user_agent
        self.download = download
        self.loading: dict[str, asyncio.Future[Protego | None]] = {}

    async def check(self, url: httpx.URL) -> RobotsVerdict:
        rules = await self.rules(origin_of(url))
        return verdict(rules, str(url), self.user_agent)

    async def rules(self, origin: str) -> Protego | None:
        future = self.loading.get(origin)
        cached = _ROBOTS_CACHE.get(origin)
        if future is None and cached is not None and cached[0] > time.monotonic():
            future = asyncio.get_running_loop().create_future()
            future.set_result(cached[1])
            self.loading[origin] = future
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.loading[origin] = future
            rules: Protego | None = None
            try:
                rules = await self.load(origin)
            except Exception:  # a broken robots.txt must not block the site
                log.exception("robots.txt for %s failed", origin)
            finally:
                # Resolve even if we were cancelled, so other waiters never hang.
                if not future.done():
                    future.set_result(rules)
                ttl = ROBOTS_TTL_S if rules is not None else ROBOTS_MISSING_TTL_S
                _ROBOTS_CACHE[origin] = (time.monotonic() + ttl, rules)
        # shield: a cancelled waiter must not cancel the shared future.
        return await asyncio.shield(future)

    async def load(self, origin: str) -> Protego | None:
        body = await self.download(origin)
        if body is None:
            return None
        rules = parse_robots(body)
        asked = rules.crawl_delay(product_token(self.user_agent))
        if asked is not None and asked > MAX_CRAWL_DELAY_S:
            log.warning(
                "%s/robots.txt asks a Crawl-delay of %gs; using %gs",
                origin,
                asked,
                MAX_CRAWL_DELAY_S,
            )
        return rules
