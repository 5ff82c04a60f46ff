"""A local web server that misbehaves on purpose, for testing the fetch layer.

It binds 127.0.0.1 on an ephemeral port (and, when the OS allows, the same
port on 127.0.0.2, so tests can see the SSRF guard refuse a second loopback
address). Every sleep and stream is bounded: an endless body stops after
`max_stream_s` or when the client goes away, and `stop()` ends all of them.

Routes are a plain dict from path (no query) to one of:
- a `Reply`;
- a tuple `(status, headers, body)`;
- a callable `handler(HostileRequest) -> Reply | tuple`.

    with HostileServer(routes={"/x": (200, {"Content-Type": "text/html"}, b"<p>x</p>")}) as srv:
        fetch_all([FetchRequest(srv.url("/x"))], settings)
        srv.routes["/y"] = Reply(status=410)   # add routes at any time

`default_routes()` is the catalogue of healthy and hostile routes listed below;
`HostileServer()` serves it unless `defaults=False`. Counters are per request
target including the query, so a test can use `?t=<unique>` for a fresh
"first hit" on routes such as /500-then-ok.
"""

from __future__ import annotations

import datetime
import functools
import json
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import pytest

Body = bytes | Iterable[bytes]


@dataclass
class Reply:
    """A response. `body` may be bytes (sent with Content-Length) or an iterable of
    chunks (streamed until exhausted, close-delimited, no Content-Length)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Body = b""
    delay_s: float = 0.0  # before the status line
    chunk_delay_s: float = 0.0  # between streamed chunks
    raw: bytes | None = None  # sent instead of a valid HTTP response (protocol garbage)


Route = Reply | tuple[int, Mapping[str, str], Body] | Callable[["HostileRequest"], Any]


@dataclass
class HostileRequest:
    """What a route handler sees."""

    method: str
    target: str  # path + query as received
    path: str
    query: dict[str, list[str]]
    headers: Message
    hit: int  # 1 for the first request to this exact target
    bound_host: str  # which local address received it (127.0.0.1 or 127.0.0.2)
    server: HostileServer

    @property
    def base_url(self) -> str:
        return f"{self.server.scheme}://{self.bound_host}:{self.server.port}"

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class Hit:
    """One request as the server saw it (for politeness and header assertions)."""

    target: str
    path: str
    headers: dict[str, str]
    bound_host: str
    started: float  # time.monotonic()
    responding: float | None = None  # status line about to be written
    finished: float | None = None


# --------------------------------------------------------------------------- content

ARTICLE_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<meta name="author" content="Jane Reporter">
<meta property="article:published_time" content="2025-03-0{n}T12:00:00Z">
</head><body>
<nav><a href="/">Home</a> | <a href="/politics">Politics</a></nav>
<article>
<h1>{title}</h1>
<p class="byline">By Jane Reporter, March {n}, 2025</p>
<p>Immigration and Customs Enforcement (ICE) officers arrested 42 people in
Chicago this week during a targeted enforcement operation, the agency said on
Tuesday. Officials said the operation focused on people with final removal
orders.</p>
<p>Advocates said several of those detained had no criminal record and were
taken to a detention center in Broadview, Illinois. The Department of Homeland
Security did not respond to a request for comment about the 287(g) agreements
that let local police help with immigration enforcement.</p>
<p>The arrests follow a series of raids in the region. Lawyers said deportation
flights from the area had increased, and that some families were separated
while their asylum cases were pending in immigration court.</p>
<p>City officials said Chicago police did not take part in the operation and
reaffirmed the city's sanctuary ordinance.</p>
</article>
<footer>Copyright 2025 Example News</footer>
</body></html>
"""

RSS_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Example News: Immigration</title>
<link>{base}/</link>
<description>Test feed</description>
<item><title>ICE arrests 42 in Chicago operation</title>
<link>{base}/article/1.html</link><guid>{base}/article/1.html</guid>
<pubDate>Sat, 01 Mar 2025 12:00:00 GMT</pubDate>
<description>Immigration officers arrested 42 people.</description></item>
<item><title>Deportation flights increase</title>
<link>{base}/article/2.html?utm_source=rss</link><guid>article-2</guid>
<pubDate>Sun, 02 Mar 2025 12:00:00 GMT</pubDate>
<description>Flights from the region have increased.</description></item>
</channel></rss>
"""

ATOM_TEMPLATE = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Example Atom</title><id>urn:example:atom</id><updated>2025-03-02T12:00:00Z</updated>
<entry><title>ICE arrests 42 in Chicago operation</title>
<link href="{base}/article/1.html"/><id>urn:example:1</id>
<updated>2025-03-01T12:00:00Z</updated><summary>Officers arrested 42 people.</summary></entry>
</feed>
"""

# Declared UTF-8, but the bytes are Latin-1 ("Inmigraci\xf3n").
BAD_ENCODING_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    b"<title>Noticias de Inmigraci\xf3n</title><link>http://example.invalid/</link>"
    b"<description>d</description><item><title>Detenci\xf3n de 42 personas</title>"
    b"<link>http://example.invalid/a</link></item></channel></rss>\n"
)

BROKEN_XML = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken'
    b"<item><title>Unclosed <b>tag</title><link>http://example.invalid/x</link"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>http://example.invalid/lol</link></item>
</channel></rss>
"""

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
FEED_ETAG = '"feed-v1"'
FEED_LAST_MODIFIED = "Sat, 01 Mar 2025 12:00:00 GMT"


def article_html(n: int = 1, title: str | None = None) -> bytes:
    title = title or f"ICE arrests 42 in Chicago operation (part {n})"
    return ARTICLE_TEMPLATE.format(title=title, n=n % 10).encode("utf-8")


def gzip_zeros(size: int, *, layers: int = 1) -> bytes:
    """`size` zero bytes gzipped `layers` times, built 1 MiB at a time (never in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zero = bytes(1 << 20)
    parts = [
        compressor.compress(zero[: min(len(zero), size - done)])
        for done in range(0, size, len(zero))
    ]
    payload = b"".join(parts) + compressor.flush()
    for _ in range(layers - 1):
        payload = zlib.compress(payload, 9, wbits=31)
    return payload


@functools.lru_cache(maxsize=1)
def _nested_bomb() -> bytes:
    # gzip(gzip(64 MiB of zeros)) is under 1 KiB; built on first use (~0.15 s).
    return gzip_zeros(64 << 20, layers=2)


@functools.lru_cache(maxsize=4)
def _flood(base_url: str) -> bytes:
    return flood_feed(base_url)


def _trickle(chunk: bytes) -> Iterator[bytes]:
    while True:  # the server stops it (max_stream_s, client gone, stop())
        yield chunk


# --------------------------------------------------------------------------- routes


def _feed(req: HostileRequest) -> Reply:
    """RSS 2.0 that honours If-None-Match / If-Modified-Since (304)."""
    validators = {"ETag": FEED_ETAG, "Last-Modified": FEED_LAST_MODIFIED}
    if req.headers.get("If-None-Match") == FEED_ETAG or (
        req.headers.get("If-Modified-Since") == FEED_LAST_MODIFIED
    ):
        return Reply(304, validators)
    body = RSS_TEMPLATE.format(base=req.base_url).encode()
    return Reply(200, {**RSS, **validators}, body)


def _first_hit_then_ok(status: int, headers: Callable[[], dict[str, str]]) -> Callable[..., Reply]:
    def handler(req: HostileRequest) -> Reply:
        if req.hit == 1:
            return Reply(status, headers())
        return Reply(200, HTML, article_html(1))

    return handler


def _redirect_chain(req: HostileRequest) -> Reply:
    n = int(req.arg("n", "3"))
    if n <= 0:
        return Reply(200, HTML, article_html(1))
    return Reply(302, {"Location": f"/redirect-chain?n={n - 1}"})


def _sleep(req: HostileRequest) -> Reply:
    return Reply(200, HTML, article_html(1), delay_s=float(req.arg("s", "0.2")))


def _status(req: HostileRequest) -> Reply:
    return Reply(int(req.arg("code", "418")), HTML, b"<p>status</p>")


def _headers(req: HostileRequest) -> Reply:
    body = json.dumps({k.lower(): v for k, v in req.headers.items()}).encode()
    return Reply(200, {"Content-Type": "application/json"}, body)


def default_routes(*, huge_bytes: int = 9 << 20, bomb: bytes = b"") -> dict[str, Route]:
    """The standard catalogue. `huge_bytes` should exceed the client's max_body_bytes."""
    bomb = bomb or gzip_zeros(16 << 20)
    huge = b"<html><body>" + b"a" * huge_bytes + b"</body></html>"
    gz = {"Content-Encoding": "gzip", **HTML}
    return {
        # healthy
        "/robots.txt": (
            200,
            {"Content-Type": "text/plain"},
            b"User-agent: *\nDisallow: /private/\n",
        ),
        "/feed.xml": _feed,
        "/atom.xml": lambda r: Reply(
            200,
            {"Content-Type": "application/atom+xml"},
            ATOM_TEMPLATE.format(base=r.base_url).encode(),
        ),
        "/article/1.html": Reply(200, HTML, article_html(1)),
        "/article/2.html": Reply(200, HTML, article_html(2)),
        "/private/secret.html": Reply(200, HTML, article_html(3)),
        "/no-content-type": Reply(200, {}, article_html(4)),
        "/gzip-article": Reply(200, gz, zlib.compress(article_html(5), 9, wbits=31)),
        "/deflate-article": Reply(
            200, {"Content-Encoding": "deflate", **HTML}, zlib.compress(article_html(6))
        ),
        "/raw-deflate-article": Reply(
            200,
            {"Content-Encoding": "deflate", **HTML},
            zlib.compress(article_html(7), 9, wbits=-15),
        ),
        "/headers": _headers,
        "/sleep": _sleep,  # ?s=seconds before responding
        "/status": _status,  # ?code=NNN
        # slow and endless
        "/slow": Reply(200, HTML, article_html(1), delay_s=5.0),
        # (callables, so each request gets its own generator)
        "/slow-body": lambda r: Reply(
            200, HTML, _trickle(b"<p>still here</p>\n"), chunk_delay_s=0.1
        ),
        "/endless": lambda r: Reply(200, HTML, _trickle(b"a" * 65536)),
        # size
        "/huge": Reply(200, HTML, huge),
        "/huge-chunked": lambda r: Reply(
            200, HTML, (huge[i : i + 65536] for i in range(0, len(huge), 65536))
        ),
        "/gzip-bomb": Reply(200, gz, bomb),
        "/gzip-bomb-nested": lambda r: Reply(
            200, {"Content-Encoding": "gzip, gzip", **HTML}, _nested_bomb()
        ),
        "/bad-gzip": Reply(200, gz, b"this is not gzip at all"),
        "/brotli": Reply(200, {"Content-Encoding": "br", **HTML}, b"\x1b\x03\x00\xf8\xa5"),
        # redirects
        "/redirect-loop/a": Reply(302, {"Location": "/redirect-loop/b"}),
        "/redirect-loop/b": Reply(302, {"Location": "/redirect-loop/a"}),
        "/redirect-chain": _redirect_chain,  # ?n=hops
        "/redirect-relative": Reply(301, {"Location": "article/1.html"}),
        "/redirect-private": lambda r: Reply(
            302, {"Location": f"http://127.0.0.2:{r.server.port}/article/1.html"}
        ),
        "/redirect-metadata": Reply(302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
        "/redirect-file": Reply(302, {"Location": "file:///etc/passwd"}),
        # retries (per-target counters: add ?t=<unique> for a fresh first hit)
        "/429-then-ok": _first_hit_then_ok(429, lambda: {"Retry-After": "1"}),
        "/429-long-then-ok": _first_hit_then_ok(429, lambda: {"Retry-After": "3600"}),
        "/503-date-then-ok": _first_hit_then_ok(
            503, lambda: {"Retry-After": formatdate(time.time() + 2, usegmt=True)}
        ),
        "/503": Reply(503, {"Retry-After": "1"}),
        "/500-then-ok": _first_hit_then_ok(500, dict),
        "/500": Reply(500, HTML, b"<p>oops</p>"),
        # wrong types and hostile documents
        "/pdf": Reply(200, {"Content-Type": "application/pdf"}, PDF_BYTES),
        "/image.png": Reply(200, {"Content-Type": "image/png"}, PNG_BYTES),
        "/bad-encoding.xml": Reply(200, RSS, BAD_ENCODING_FEED),
        "/broken.xml": Reply(200, RSS, BROKEN_XML),
        "/billion-laughs.xml": Reply(200, RSS, BILLION_LAUGHS),
        "/empty": Reply(200, HTML, b""),
        "/empty.xml": Reply(200, RSS, b""),
        "/404": Reply(404, HTML, b"<p>not found</p>"),
        "/410": Reply(410, HTML, b"<p>gone</p>"),
        # broken HTTP
        "/lying-length": Reply(200, {"Content-Length": "100000", **HTML}, b"<p>short</p>"),
        "/garbage": Reply(raw=b"\x00\xffNOT HTTP AT ALL\r\n\r\n"),
        # 20,000 items whose pages answer 404
        "/flood.xml": lambda r: Reply(200, RSS, _flood(r.base_url)),
    }


# --------------------------------------------------------------------------- floods and hangs


def flood_feed(page_base: str, items: int = 20_000) -> bytes:
    """RSS listing `items` pages `page_base/gone/<n>.html` (no such route: each answers 404).

    Item n is published n minutes before the first, so the newest are the lowest numbers;
    every tenth item has no date.
    """
    start = datetime.datetime(2025, 4, 1, 12, tzinfo=datetime.UTC)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Flood</title><link>http://example.org/</link><description>d</description>"
    ]
    for n in range(items):
        link = f"{page_base}/gone/{n}.html"
        date = (
            ""
            if n % 10 == 9
            else (
                f"<pubDate>{formatdate((start - datetime.timedelta(minutes=n)).timestamp(), usegmt=True)}"
                "</pubDate>"
            )
        )
        parts.append(
            f"<item><title>Gone {n}</title><link>{link}</link><guid>{link}</guid>{date}</item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


def hanging_page(
    hang: Callable[[], bool], page: bytes, hang_s: float = 30.0
) -> Callable[..., Reply]:
    """A page that sends nothing for `hang_s` (the client's read timeout ends it) while
    `hang()` is true, and `page` once it is not (the host came back)."""

    def handler(req: HostileRequest) -> Reply:
        if hang():
            return Reply(200, HTML, page, delay_s=hang_s)
        return Reply(200, HTML, page)

    return handler


# --------------------------------------------------------------------------- TLS


def self_signed_tls(hostname: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a throwaway cert for `hostname`.

    Needs the `cryptography` package (installed with Airflow).
    """
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:  # load_cert_chain only reads files
        cert_path, key_path = f"{tmp}/cert.pem", f"{tmp}/key.pem"
        with open(cert_path, "wb") as f:
            f.write(cert_pem)
        with open(key_path, "wb") as f:
            f.write(key_pem)
        server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


# --------------------------------------------------------------------------- server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # socket timeout: idle keep-alive or a client that stops reading
    server: _BoundServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.owner._handle(self)

    do_HEAD = do_GET


class _BoundServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-request is what this server is for; keep the rest."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | ssl.SSLError):
            return
        self.owner.errors.append(f"{client_address}: {exc!r}")


class HostileServer:
    """The server; use as a context manager (or the `hostile_server` fixture)."""

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        defaults: bool = True,
        host: str = "127.0.0.1",
        second_host: str | None = "127.0.0.2",
        max_stream_s: float = 30.0,
        huge_bytes: int = 9 << 20,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.routes: dict[str, Route] = default_routes(huge_bytes=huge_bytes) if defaults else {}
        self.routes.update(routes or {})
        self.host = host
        self.second_host_wanted = second_host
        self.second_host: str | None = None  # set if binding it worked
        self.max_stream_s = max_stream_s
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self.port = 0
        self.log: list[Hit] = []
        self.errors: list[str] = []  # exceptions raised by route handlers
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._servers: list[_BoundServer] = []
        self._threads: list[threading.Thread] = []

    # ---- lifecycle

    def start(self) -> Self:
        first = self._bind(self.host, 0)
        self.port = first.server_address[1]
        if self.second_host_wanted:
            try:
                self._bind(self.second_host_wanted, self.port)
                self.second_host = self.second_host_wanted
            except OSError:
                self.second_host = None  # e.g. macOS without a 127.0.0.2 alias
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind(self, host: str, port: int) -> _BoundServer:
        server = _BoundServer((host, port), _Handler)
        server.owner = self
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._servers.append(server)
        return server

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- helpers for tests

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def hits(self, target_prefix: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if h.target.startswith(target_prefix)]

    def max_concurrency(self, target_prefix: str) -> int:
        """Most requests to `target_prefix` that were in progress at the same moment."""
        events: list[tuple[float, int]] = []
        for hit in self.hits(target_prefix):
            # Until the response starts: after that the client may already be
            # sending its next request before this thread records `finished`.
            end = hit.responding or hit.finished
            events.append((hit.started, 1))
            events.append((end if end is not None else float("inf"), -1))
        level = peak = 0
        for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
            level += delta
            peak = max(peak, level)
        return peak

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._counts.clear()
            self.errors.clear()

    # ---- request handling (runs on handler threads)

    def _handle(self, h: _Handler) -> None:
        split = urlsplit(h.path)
        bound_host = h.server.server_address[0]
        with self._lock:
            count = self._counts.get(h.path, 0) + 1
            self._counts[h.path] = count
            hit = Hit(
                h.path,
                split.path,
                {k.lower(): v for k, v in h.headers.items()},
                str(bound_host),
                time.monotonic(),
            )
            self.log.append(hit)
        request = HostileRequest(
            method=h.command,
            target=h.path,
            path=split.path,
            query=parse_qs(split.query),
            headers=h.headers,
            hit=count,
            bound_host=str(bound_host),
            server=self,
        )
        try:
            reply = self._reply_for(request)
            self._send(h, reply, hit)
        except (
            BrokenPipeError,
            ConnectionResetError,
            ConnectionAbortedError,
            TimeoutError,
        ):
            h.close_connection = True  # the client went away: fine
        finally:
            hit.finished = time.monotonic()

    def _reply_for(self, request: HostileRequest) -> Reply:
        route = self.routes.get(request.path)
        if route is None:
            return Reply(404, HTML, b"<p>no such route</p>")
        try:
            value = route(request) if callable(route) else route
        except Exception as exc:  # a broken route shows up as a 500 and in .errors
            self.errors.append(f"{request.target}: {exc!r}")
            return Reply(500, {"Content-Type": "text/plain"}, repr(exc).encode())
        if isinstance(value, tuple):
            status, headers, body = value
            return Reply(status, dict(headers), body)
        assert isinstance(value, Reply), f"route {request.path} returned {type(value)}"
        return value

    def _send(self, h: _Handler, reply: Reply, hit: Hit) -> None:
        deadline = time.monotonic() + self.max_stream_s
        if reply.delay_s and self._stop.wait(min(reply.delay_s, self.max_stream_s)):
            h.close_connection = True
            return
        hit.responding = time.monotonic()
        if reply.raw is not None:
            h.wfile.write(reply.raw)
            h.close_connection = True
            return
        h.send_response(reply.status)
        names = {k.lower() for k in reply.headers}
        for name, value in reply.headers.items():
            h.send_header(name, value)
        if isinstance(reply.body, bytes | bytearray):
            if "content-length" not in names:
                h.send_header("Content-Length", str(len(reply.body)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(reply.body)
            if "content-length" in names:
                h.close_connection = True  # may be a lie (/lying-length)
            return
        # Streamed: close-delimited body, every chunk checked against the bounds.
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        for chunk in reply.body:
            if self._stop.is_set() or time.monotonic() > deadline:
                break
            h.wfile.write(chunk)
            if reply.chunk_delay_s and self._stop.wait(reply.chunk_delay_s):
                break


@pytest.fixture
def hostile_server() -> Iterator[HostileServer]:
    """A fresh HostileServer with the default routes, stopped after the test.

    Use it from another module with
    `from tests.support.hostile_server import hostile_server  # noqa: F401`
    or `pytest_plugins = ("tests.support.hostile_server",)` in a conftest.
    """
    with HostileServer() as server:
        yield server
