"""The one HTTP layer every fetch goes through: polite, bounded, SSRF-guarded.

`fetch_all` takes a batch of `FetchRequest`s and returns one `FetchResult` per
request, in order. It never raises for a per-URL problem: refusals, network
errors, bad statuses, oversized or undecodable bodies all come back as results
with `error_kind` set, so a hostile or broken site cannot stop a run.

This module drives a request (redirects by hand, retries, deadline); the
concerns it composes live next to it: `guard` (SSRF check in the connection
layer), `bodies` (capped decoding, content types), `politeness` (per-host
slots, spacing, Retry-After) and `robots` (robots.txt).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import httpx

from policy_news.http.bodies import ACCEPT, ACCEPT_ENCODING, content_type_problem, read_body
from policy_news.http.errors import FetchError
from policy_news.http.guard import AddressPolicy, GuardedTransport
from policy_news.http.limits import FetchLimits, is_host_trouble
from policy_news.http.politeness import (
    Clock,
    HostGate,
    backoff_delay,
    is_retryable,
    parse_retry_after,
)
from policy_news.http.robots import ROBOTS_MAX_BYTES, RobotsRules, origin_of
from policy_news.settings import Settings, get_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    # May return an awaitable: see fetch_all.
    OnResult = Callable[["FetchResult"], Awaitable[None] | None]

__all__ = ["FetchError", "FetchKind", "FetchRequest", "FetchResult", "afetch_all", "fetch_all"]

log = logging.getLogger(__name__)

FetchKind = Literal["feed", "article"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch; `key` is the caller's id (feed name or article_id), echoed back."""

    url: str
    kind: FetchKind = "article"
    etag: str | None = None
    last_modified: str | None = None
    key: str = ""


@dataclass
class FetchResult:
    """What happened to one `FetchRequest`. `error_kind` is None on success (incl. 304)."""

    request: FetchRequest
    final_url: str
    status: int | None
    headers: dict[str, str]
    body: bytes | None
    not_modified: bool
    error_kind: str | None
    error: str | None
    attempts: int
    elapsed_s: float
    # Set (with error_kind "deferred") when run limits kept the request from starting:
    # `limits.HOST_BREAKER` or `limits.BUDGET`. Not a failure of the page.
    deferred_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@dataclass
class _Hop:
    """The outcome of one HTTP request (one redirect hop)."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    location: str | None = None
    error_kind: str | None = None
    error: str | None = None


class _Deferred(Exception):
    """Run limits say this article request must not start (see `limits`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Fetcher:
    """State for one `fetch_all` call: client, gates, robots cache, run limits."""

    def __init__(self, settings: Settings, limits: FetchLimits | None = None) -> None:
        self.settings = settings
        self.limits = limits
        self.policy = AddressPolicy(settings.allowed_private_nets)
        self.global_slots = asyncio.Semaphore(max(1, settings.global_concurrency))
        self.gates: dict[str, HostGate] = {}
        self.robots = RobotsRules(settings.user_agent, self.download_robots)
        self.client = httpx.AsyncClient(
            transport=GuardedTransport(self.policy, max(1, settings.global_concurrency) + 1),
            timeout=httpx.Timeout(
                connect=settings.connect_timeout_s,
                read=settings.read_timeout_s,
                write=settings.read_timeout_s,
                pool=settings.request_deadline_s,
            ),
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": settings.user_agent,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    def gate(self, host: str) -> HostGate:
        gate = self.gates.get(host)
        if gate is None:
            gate = HostGate(self.settings.host_concurrency, self.settings.host_delay_s, host)
            self.gates[host] = gate
        return gate

    # ---- one request, with retries

    async def fetch(self, request: FetchRequest) -> FetchResult:
        clock = Clock()
        attempts = 0
        hop = _Hop(url=request.url)
        try:
            while True:
                attempts += 1
                hop = await self.attempt(request.url, request.kind, request, clock)
                self.count_outcome(request.kind, hop)
                if attempts > self.settings.max_retries or not is_retryable(
                    hop.error_kind, hop.status
                ):
                    break
                if self.limited(request.kind, hop.url) is not None:
                    break  # no retry once the host is skipped or the time is up
                delay = self.retry_delay(hop, attempts)
                log.info(
                    "retrying %s in %.1fs after %s",
                    request.url,
                    delay,
                    hop.error or hop.status,
                )
                await asyncio.sleep(delay)
        except FetchError as exc:
            hop.error_kind, hop.error = exc.kind, exc.message
        except _Deferred as deferred:
            return FetchResult(
                request=request,
                final_url=hop.url,
                status=None,
                headers={},
                body=None,
                not_modified=False,
                error_kind="deferred",
                error=f"deferred to a later run: {deferred.reason}",
                attempts=attempts - 1,
                elapsed_s=clock.elapsed(),
                deferred_reason=deferred.reason,
            )
        except Exception as exc:  # never let one URL crash the batch
            log.exception("unexpected error fetching %s", request.url)
            hop.error_kind, hop.error = "other", f"{type(exc).__name__}: {exc}"
        return FetchResult(
            request=request,
            final_url=hop.url,
            status=hop.status,
            headers=hop.headers,
            body=hop.body if hop.error_kind is None else None,
            not_modified=hop.error_kind is None and hop.status == 304,
            error_kind=hop.error_kind,
            error=hop.error,
            attempts=attempts,
            elapsed_s=clock.elapsed(),
        )

    def limited(self, kind: str, url: str) -> str | None:
        """Why run limits stop an article request to `url`'s host now, or None."""
        if self.limits is None or kind != "article":
            return None
        return self.limits.deferral(_host_of(url))

    def count_outcome(self, kind: str, hop: _Hop) -> None:
        if self.limits is not None and kind == "article":
            trouble = is_host_trouble(hop.error_kind, hop.status)
            self.limits.record(_host_of(hop.url), trouble=trouble)

    def retry_delay(self, hop: _Hop, attempts: int) -> float:
        cap = self.settings.retry_after_cap_s
        retry_after = parse_retry_after(hop.headers.get("retry-after"))
        if retry_after is not None:
            delay = min(retry_after, cap)
            self.gate(_host_of(hop.url)).defer(delay)
            return delay
        return backoff_delay(attempts, cap)

    # ---- one attempt: redirects followed by hand, each hop re-checked

    async def attempt(
        self, url: str, kind: str, request: FetchRequest | None, clock: Clock | None = None
    ) -> _Hop:
        budget = self.settings.request_deadline_s
        limit = ROBOTS_MAX_BYTES if kind == "robots" else self.settings.max_body_bytes
        for _ in range(self.settings.max_redirects + 1):
            try:
                parsed = httpx.URL(url)
            except (httpx.InvalidURL, ValueError) as exc:
                return _Hop(url=url, error_kind="other", error=f"invalid URL {url!r}: {exc}")
            if parsed.scheme not in ("http", "https"):
                return _Hop(
                    url=url,
                    error_kind="scheme",
                    error=f"refused: scheme {parsed.scheme or '(none)'!r} is not http(s)",
                )
            if not parsed.host:
                return _Hop(url=url, error_kind="other", error=f"URL {url!r} has no host")
            reason = self.limited(kind, url)
            if reason is not None:  # before robots.txt, which may be the host's first request
                raise _Deferred(reason)
            robots = kind == "article" and self.settings.respect_robots
            if robots:
                verdict = await self.robots.check(parsed)
                if not verdict.allowed:
                    return _Hop(
                        url=url,
                        error_kind="robots",
                        error=f"disallowed by {origin_of(parsed)}/robots.txt "
                        f"for {self.settings.user_agent}",
                    )
                self.gate(parsed.host).space_at_least(verdict.crawl_delay_s)
            loop = asyncio.get_running_loop()
            # robots.txt is not spaced: the first page follows it at once (as Nutch and
            # StormCrawler do) instead of a whole host delay later.
            spaced = kind != "robots"
            async with self.gate(parsed.host).slot(spaced=spaced), self.global_slots:
                # Checked once the slot is ours: requests queued behind a host that
                # tripped the breaker, or past the deadline, never start.
                reason = self.limited(kind, url)
                if reason is not None:
                    raise _Deferred(reason)
                hop_started = loop.time()
                if clock is not None:
                    clock.start()
                deadline = asyncio.timeout(max(budget, 0.001))
                try:
                    async with deadline:
                        hop = await self.send(parsed, kind, request, limit)
                except TimeoutError:
                    if not deadline.expired():
                        raise
                    return _Hop(
                        url=url,
                        error_kind="deadline",
                        error=f"request deadline of {self.settings.request_deadline_s:g}s exceeded",
                    )
                finally:
                    budget -= loop.time() - hop_started
            if hop.location is None:
                return hop
            url = hop.location
        hop.error_kind = "too_many_redirects"
        hop.error = f"more than {self.settings.max_redirects} redirects (last to {url})"
        return hop

    async def send(
        self, url: httpx.URL, kind: str, request: FetchRequest | None, limit: int
    ) -> _Hop:
        hop = _Hop(url=str(url))
        headers = {"Accept": ACCEPT[kind]}
        if request is not None and request.etag:
            headers["If-None-Match"] = request.etag
        if request is not None and request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        try:
            response = await self.client.send(
                self.client.build_request("GET", url, headers=headers), stream=True
            )
        except FetchError as exc:
            hop.error_kind, hop.error = exc.kind, exc.message
            return hop
        except httpx.HTTPError as exc:
            hop.error_kind, hop.error = _classify(exc), _describe(exc)
            return hop
        try:
            hop.status = response.status_code
            hop.headers = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            if status in REDIRECT_STATUSES and "location" in hop.headers:
                try:
                    hop.location = str(url.join(hop.headers["location"].strip()))
                except (httpx.InvalidURL, ValueError) as exc:
                    hop.error_kind, hop.error = "other", f"bad redirect Location: {exc}"
                return hop
            if status == 304:
                return hop
            if not 200 <= status < 300:
                hop.error_kind = "http_status"
                hop.error = f"HTTP {status} {response.reason_phrase}".strip()
                return hop
            problem = content_type_problem(kind, hop.headers.get("content-type"))
            if problem:
                hop.error_kind, hop.error = "content_type", problem
                return hop
            hop.body = await read_body(response, limit)
            return hop
        except FetchError as exc:
            hop.error_kind, hop.error = exc.kind, exc.message
            return hop
        except httpx.HTTPError as exc:
            hop.error_kind, hop.error = _classify(exc), _describe(exc)
            return hop
        finally:
            await response.aclose()

    # ---- robots.txt: downloaded through the same guarded client and limits

    async def download_robots(self, origin: str) -> bytes | None:
        """The body of origin/robots.txt, or None (= allow all) when it is missing or failed."""
        hop = await self.attempt(f"{origin}/robots.txt", "robots", None)
        if hop.error_kind is not None or hop.body is None:
            log.info("no robots.txt for %s (%s): allowing", origin, hop.error or hop.status)
            return None
        return hop.body


def _classify(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.NetworkError):
        return "connect"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "scheme"
    if isinstance(exc, httpx.DecodingError):
        return "decode"
    return "other"


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, ValueError):
        return ""


# --------------------------------------------------------------------------- entry points


async def afetch_all(
    requests: Sequence[FetchRequest],
    settings: Settings | None = None,
    *,
    on_result: OnResult | None = None,
    limits: FetchLimits | None = None,
) -> list[FetchResult]:
    """Async `fetch_all` for callers already inside an event loop."""
    settings = settings or get_settings()
    fetcher = _Fetcher(settings, limits)
    results: list[FetchResult | None] = [None] * len(requests)

    async def run(index: int, request: FetchRequest) -> None:
        result = await fetcher.fetch(request)
        results[index] = result
        if on_result is not None:
            waiting = on_result(result)
            if waiting is not None:  # the caller's backpressure: this task waits, not the loop
                await waiting

    tasks = [asyncio.create_task(run(i, r)) for i, r in enumerate(requests)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # Only on_result (the caller's code) or cancellation gets here.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        await fetcher.aclose()
    return [r for r in results if r is not None]


def fetch_all(
    requests: Sequence[FetchRequest],
    settings: Settings | None = None,
    *,
    on_result: OnResult | None = None,
    limits: FetchLimits | None = None,
) -> list[FetchResult]:
    """Fetch concurrently; results in request order. Never raises for a per-URL problem.

    `on_result` is called as each result arrives (from the fetching event loop,
    one at a time), so callers can record progress; an exception from it
    aborts the batch and is re-raised. It may return an awaitable (a coroutine) to hold
    that result until the caller has room: the request is over by then, so the wait
    never counts against its deadline or its host, and the other requests go on. `limits` (article requests only) may defer a
    request instead of making it: its result has `deferred_reason` set.
    """
    if not requests:
        return []

    def run() -> list[FetchResult]:
        return asyncio.run(afetch_all(requests, settings, on_result=on_result, limits=limits))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called from inside a running loop (e.g. a notebook): run on a private loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
