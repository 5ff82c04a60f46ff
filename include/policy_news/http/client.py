"""The one HTTP layer every fetch goes through: polite, bounded, SSRF-guarded.

`fetch_all` takes a batch of `FetchRequest`s and returns one `FetchResult` per
request, in order. It never raises for a per-URL problem: refusals, network
errors, bad statuses, oversized or undecodable bodies all come back as results
with `error_kind` set, so a hostile or broken site cannot stop a run.

Why it is built this way:
- Politeness (per-host concurrency and start spacing, robots.txt, Retry-After)
  keeps publishers from blocking us.
- The SSRF guard runs inside the connection layer (`_GuardedBackend`): every
  TCP connection, for every redirect hop and for robots.txt, resolves the name
  once, checks every address and connects to the checked address. Nothing else
  resolves the name, so DNS rebinding between check and connect is impossible.
- Bodies are read raw and decompressed here with an output cap per step, so a
  gzip bomb costs at most `max_body_bytes` plus one 64 KiB chunk of memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import email.utils
import functools
import ipaddress
import logging
import random
import socket
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from policy_news.settings import Settings, get_settings

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

log = logging.getLogger(__name__)

FetchKind = Literal["feed", "article"]

ERROR_KINDS: tuple[str, ...] = (
    "ssrf",
    "scheme",
    "dns",
    "connect",
    "timeout",
    "deadline",
    "too_large",
    "too_many_redirects",
    "content_type",
    "robots",
    "http_status",
    "decode",
    "other",
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_ERROR_KINDS = frozenset({"connect", "timeout"})
HARD_FAILURE_STATUSES = frozenset({404, 410})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Exponential backoff when the server gives no Retry-After: 0.5 s, 1 s, 2 s ...,
# never longer than settings.retry_after_cap_s.
BACKOFF_BASE_S = 0.5
# robots.txt larger than this is treated as unavailable (Google stops at 500 KiB).
ROBOTS_MAX_BYTES = 512 * 1024
# Largest piece the decompressor may emit per step; bounds memory on bombs.
DECODE_STEP_BYTES = 64 * 1024
# We only advertise what `_BoundedDecoder` can decode with a cap.
ACCEPT_ENCODING = "gzip, deflate"

_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
    "article": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}
_ARTICLE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_TYPE_MARKERS = ("xml", "rss", "atom", "json")


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

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def hard_failure(self) -> bool:
        """404/410 or an unresolvable name: evidence the URL is gone, not just flaky."""
        if self.error_kind == "dns":
            return True
        return self.error_kind == "http_status" and self.status in HARD_FAILURE_STATUSES


class FetchError(Exception):
    """A per-URL failure with its `error_kind`; raised internally, always turned into a result."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --------------------------------------------------------------------------- SSRF guard


async def resolve_host(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to, in resolver order (tests monkeypatch this)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class AddressPolicy:
    """Decides whether an IP may be connected to: public only, plus the allowed private nets."""

    def __init__(self, allowed_nets: Iterable[str]) -> None:
        self.allowed = [ipaddress.ip_network(net.strip(), strict=False) for net in allowed_nets]

    def problem(self, address: str) -> str | None:
        """Why `address` is refused (e.g. 'a private address'), or None if it is fine."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        # ::ffff:10.0.0.1 is 10.0.0.1 on the wire; judge the IPv4 address.
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed):
            return None
        for attribute, label in (
            # Most specific first: 169.254.0.0/16 is also is_private, say "link-local".
            ("is_loopback", "a loopback address"),
            ("is_link_local", "a link-local address"),
            ("is_unspecified", "an unspecified address"),
            ("is_multicast", "a multicast address"),
            ("is_reserved", "a reserved address"),
            ("is_private", "a private address"),
        ):
            if getattr(ip, attribute):
                return label
        if not ip.is_global:  # e.g. 100.64.0.0/10 carrier-grade NAT
            return "a non-public address"
        return None

    def check(self, host: str, addresses: Sequence[str]) -> None:
        """Raise FetchError('ssrf') if ANY address is refused: one bad answer poisons the name."""
        if not addresses:
            raise FetchError("dns", f"{host} resolved to no address")
        for address in addresses:
            problem = self.problem(address)
            if problem is None:
                continue
            subject = address if address == host else f"{host} resolves to {address}, which"
            raise FetchError(
                "ssrf",
                f"refused: {subject} is {problem} (not in POLICY_NEWS_ALLOWED_PRIVATE_NETS)",
            )


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks and then dials the checked IP.

    httpcore hands us the URL's hostname; we resolve it ourselves, refuse if any
    answer is not allowed, and pass the *IP* to the real backend. TLS still
    uses the hostname for SNI and certificate checks (httpcore passes it to
    start_tls separately), and the Host header is untouched. Because this is
    the only place a name is resolved, a second, rebinding DNS answer is never
    consulted, and pooled connections stay pinned to the address checked when
    they were opened.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        started = time.monotonic()
        if _ip_literal(host):
            addresses = [host]
        else:
            try:
                addresses = await asyncio.wait_for(resolve_host(host, port), timeout)
            except TimeoutError:
                raise FetchError("timeout", f"DNS lookup for {host} timed out") from None
            except (socket.gaierror, UnicodeError) as exc:
                raise FetchError("dns", f"cannot resolve {host}: {exc}") from None
        self.policy.check(host, addresses)
        last_exc: Exception | None = None
        for address in addresses:
            remaining = (
                None if timeout is None else max(0.01, timeout - (time.monotonic() - started))
            )
            try:
                return await self.inner.connect_tcp(
                    address, port, remaining, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_exc = exc
        assert last_exc is not None
        raise last_exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise FetchError("ssrf", "refused: unix sockets are never fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms of CPU; one context serves every client.
    return httpx.create_ssl_context(trust_env=False)


def tls_context() -> ssl.SSLContext:
    """Certificate-verifying TLS context (certifi CAs); tests monkeypatch it to trust theirs."""
    return _default_tls_context()


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool rebuilt on `_GuardedBackend`.

    httpx 0.28 has no public hook for the network backend, so we replace the
    pool it built (`_pool`, which its `handle_async_request` uses). The pin
    test in tests/policy_news/test_http.py fails if a future httpx stops
    honouring this.
    """

    def __init__(self, policy: AddressPolicy, max_connections: int) -> None:
        context = tls_context()
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )


# --------------------------------------------------------------------------- bodies


class _BoundedDecoder:
    """Undo Content-Encoding (gzip/deflate, stacked) emitting at most 64 KiB per step.

    httpx's own decoders inflate a whole network chunk at once, which for a
    gzip bomb (or gzip inside gzip) can be gigabytes; here the caller sees
    small pieces and stops as soon as the running total passes the cap.
    """

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        for coding in codings:
            if coding not in ("gzip", "x-gzip", "deflate"):
                raise FetchError("decode", f"unsupported Content-Encoding {coding!r}")
        # Applied in reverse: the last coding listed was applied last by the server.
        self.stages: list[_Inflater] = [_Inflater(c) for c in reversed(codings)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(0, data, final=False)

    def finish(self) -> Iterator[bytes]:
        return self._through(0, b"", final=True)

    def _through(self, index: int, data: bytes, final: bool) -> Iterator[bytes]:
        if index == len(self.stages):
            if data:
                yield data
            return
        stage = self.stages[index]
        for piece in stage.feed(data):
            yield from self._through(index + 1, piece, final=False)
        if final:
            for piece in stage.flush():
                yield from self._through(index + 1, piece, final=False)
            yield from self._through(index + 1, b"", final=True)


class _Inflater:
    def __init__(self, coding: str) -> None:
        self.coding = coding
        self.started = False
        wbits = zlib.MAX_WBITS | 16 if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.obj = zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.coding == "deflate" and not self.started and data:
            self.started = True
            # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate.
            try:
                probe = zlib.decompressobj(zlib.MAX_WBITS)
                probe.decompress(data[:64])
            except zlib.error:
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            while True:
                if self.obj.eof:
                    return  # trailing garbage after the stream end is ignored, as browsers do
                out = self.obj.decompress(data, DECODE_STEP_BYTES)
                data = self.obj.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < DECODE_STEP_BYTES:
                    return
        except zlib.error as exc:
            raise FetchError("decode", f"bad {self.coding} body: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        try:
            yield from self.feed(b"")
            tail = self.obj.flush()
        except zlib.error as exc:
            raise FetchError("decode", f"bad {self.coding} body: {exc}") from None
        if tail:
            yield tail


async def _read_body(response: httpx.Response, limit: int) -> bytes:
    """Stream the raw body, decode it with a cap, and fail as soon as it passes `limit`."""
    length = response.headers.get("content-length")
    if length and length.strip().isdigit() and int(length) > limit:
        raise FetchError("too_large", f"Content-Length {int(length)} exceeds {limit} bytes")
    decoder = _BoundedDecoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    total = 0

    def take(pieces: Iterator[bytes]) -> None:
        nonlocal total
        for piece in pieces:
            total += len(piece)
            if total > limit:
                raise FetchError("too_large", f"body exceeds {limit} bytes (decoded)")
            parts.append(piece)

    async for chunk in response.aiter_raw():
        take(decoder.feed(chunk))
    take(decoder.finish())
    return b"".join(parts)


def _content_type_problem(kind: str, content_type: str | None) -> str | None:
    """Why this Content-Type is wrong for `kind`, or None. A missing type is allowed."""
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    if not mime or kind == "robots":
        return None
    if kind == "feed":
        if mime.startswith("text/") or any(m in mime for m in _FEED_TYPE_MARKERS):
            return None
        return f"Content-Type {mime} is not a feed type"
    if mime in _ARTICLE_TYPES:
        return None
    return f"Content-Type {mime} is not an HTML page"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


# --------------------------------------------------------------------------- politeness


# Per-host next allowed request start (time.monotonic(), which is also asyncio's loop
# clock) and parsed robots.txt per origin, kept across fetch_all calls in a process: a
# run fetches its articles in chunks, and each chunk must neither hit a host sooner than
# the delay after the previous chunk's last request nor re-fetch robots.txt.
_NEXT_START: dict[str, float] = {}
_ROBOTS_CACHE: dict[str, tuple[float, RobotFileParser | None]] = {}
ROBOTS_TTL_S = 3600.0
# A missing or failed robots.txt (None = allow all) is asked again sooner.
ROBOTS_MISSING_TTL_S = 600.0


class _HostGate:
    """Per-host slots plus a minimum spacing between request starts to that host."""

    def __init__(self, concurrency: int, delay_s: float, host: str = "") -> None:
        self.slots = asyncio.Semaphore(max(1, concurrency))
        self.lock = asyncio.Lock()
        self.delay_s = max(0.0, delay_s)
        self.host = host
        self.next_start = _NEXT_START.get(host, 0.0) if host else 0.0

    @contextlib.asynccontextmanager
    async def slot(self, *, spaced: bool = True) -> AsyncIterator[None]:
        """A request slot; `spaced=False` (robots.txt) neither waits its turn nor takes one."""
        async with self.slots:
            if not spaced:
                yield
                return
            async with self.lock:
                loop = asyncio.get_running_loop()
                wait = self.next_start - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.next_start = loop.time() + self.delay_s
                if self.host:
                    _NEXT_START[self.host] = self.next_start
            yield

    def defer(self, seconds: float) -> None:
        """Hold back every request to this host (after a 429/503 with Retry-After)."""
        self.next_start = max(self.next_start, asyncio.get_running_loop().time() + seconds)


class _Clock:
    """Wall time since the first request of a fetch actually started."""

    def __init__(self) -> None:
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else round(time.monotonic() - self.started, 3)


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


class _Fetcher:
    """State for one `fetch_all` call: client, gates, robots cache."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.policy = AddressPolicy(settings.allowed_private_nets)
        self.global_slots = asyncio.Semaphore(max(1, settings.global_concurrency))
        self.gates: dict[str, _HostGate] = {}
        self.robots: dict[str, asyncio.Future[RobotFileParser | None]] = {}
        self.client = httpx.AsyncClient(
            transport=_GuardedTransport(self.policy, max(1, settings.global_concurrency) + 1),
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

    def gate(self, host: str) -> _HostGate:
        gate = self.gates.get(host)
        if gate is None:
            gate = _HostGate(self.settings.host_concurrency, self.settings.host_delay_s, host)
            self.gates[host] = gate
        return gate

    # ---- one request, with retries

    async def fetch(self, request: FetchRequest) -> FetchResult:
        # elapsed_s runs from the first request start, so queueing behind
        # politeness limits does not count as slowness of the site.
        clock = _Clock()
        attempts = 0
        hop = _Hop(url=request.url)
        try:
            while True:
                attempts += 1
                hop = await self.attempt(request.url, request.kind, request, clock)
                if attempts > self.settings.max_retries or not _retryable(hop):
                    break
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

    def retry_delay(self, hop: _Hop, attempts: int) -> float:
        cap = self.settings.retry_after_cap_s
        retry_after = parse_retry_after(hop.headers.get("retry-after"))
        if retry_after is not None:
            delay = min(retry_after, cap)
            self.gate(_host_of(hop.url)).defer(delay)
            return delay
        backoff = BACKOFF_BASE_S * 2 ** (attempts - 1)
        return min(cap, backoff * random.uniform(0.8, 1.2))

    # ---- one attempt: redirects followed by hand, each hop re-checked

    async def attempt(
        self, url: str, kind: str, request: FetchRequest | None, clock: _Clock | None = None
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
            robots = kind == "article" and self.settings.respect_robots
            if robots and not await self.robots_allow(parsed):
                return _Hop(
                    url=url,
                    error_kind="robots",
                    error=f"disallowed by {_origin(parsed)}/robots.txt "
                    f"for {self.settings.user_agent}",
                )
            loop = asyncio.get_running_loop()
            # robots.txt is not spaced: the first page follows it at once (as Nutch and
            # StormCrawler do) instead of a whole host delay later.
            spaced = kind != "robots"
            async with self.gate(parsed.host).slot(spaced=spaced), self.global_slots:
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
        headers = {"Accept": _ACCEPT[kind]}
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
            problem = _content_type_problem(kind, hop.headers.get("content-type"))
            if problem:
                hop.error_kind, hop.error = "content_type", problem
                return hop
            hop.body = await _read_body(response, limit)
            return hop
        except FetchError as exc:
            hop.error_kind, hop.error = exc.kind, exc.message
            return hop
        except httpx.HTTPError as exc:
            hop.error_kind, hop.error = _classify(exc), _describe(exc)
            return hop
        finally:
            await response.aclose()

    # ---- robots.txt: once per origin per fetch_all call

    async def robots_allow(self, url: httpx.URL) -> bool:
        origin = _origin(url)
        future = self.robots.get(origin)
        cached = _ROBOTS_CACHE.get(origin)
        if future is None and cached is not None and cached[0] > time.monotonic():
            future = asyncio.get_running_loop().create_future()
            future.set_result(cached[1])
            self.robots[origin] = future
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self.robots[origin] = future
            parser: RobotFileParser | None = None
            try:
                parser = await self.load_robots(origin)
            except Exception:  # a broken robots.txt must not block the site
                log.exception("robots.txt for %s failed", origin)
            finally:
                # Resolve even if we were cancelled, so other waiters never hang.
                if not future.done():
                    future.set_result(parser)
                ttl = ROBOTS_TTL_S if parser is not None else ROBOTS_MISSING_TTL_S
                _ROBOTS_CACHE[origin] = (time.monotonic() + ttl, parser)
        # shield: a cancelled waiter must not cancel the shared future.
        parser = await asyncio.shield(future)
        return parser is None or parser.can_fetch(self.settings.user_agent, str(url))

    async def load_robots(self, origin: str) -> RobotFileParser | None:
        """The parsed robots.txt, or None (= allow all) when it is missing or failed."""
        hop = await self.attempt(f"{origin}/robots.txt", "robots", None)
        if hop.error_kind is not None or hop.body is None:
            log.info("no robots.txt for %s (%s): allowing", origin, hop.error or hop.status)
            return None
        parser = RobotFileParser()
        parser.parse(hop.body.decode("utf-8", errors="replace").splitlines())
        return parser


def _retryable(hop: _Hop) -> bool:
    if hop.error_kind in RETRY_ERROR_KINDS:
        return True
    return hop.error_kind == "http_status" and hop.status in RETRY_STATUSES


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


def _origin(url: httpx.URL) -> str:
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = "" if url.port in (None, default) else f":{url.port}"
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}{port}"


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
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Async `fetch_all` for callers already inside an event loop."""
    settings = settings or get_settings()
    fetcher = _Fetcher(settings)
    results: list[FetchResult | None] = [None] * len(requests)

    async def run(index: int, request: FetchRequest) -> None:
        result = await fetcher.fetch(request)
        results[index] = result
        if on_result is not None:
            on_result(result)

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
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch concurrently; results in request order. Never raises for a per-URL problem.

    `on_result` is called as each result arrives (from the fetching event loop,
    one at a time), so callers can record progress; an exception from it
    aborts the batch and is re-raised.
    """
    if not requests:
        return []

    def run() -> list[FetchResult]:
        return asyncio.run(afetch_all(requests, settings, on_result=on_result))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called from inside a running loop (e.g. a notebook): run on a private loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
