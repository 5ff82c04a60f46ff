"""A synthetic news "internet" on loopback addresses for the benchmarks.

Every outlet is its own IP address (127.0.1.1, 127.0.1.2, ...): Linux routes all of
127.0.0.0/8 to `lo`, so binding one listening socket per address gives the
pipeline's per-host politeness the same shape it has across real outlets.
Feed `j` of a site lives on host `j % hosts`, article `i` on host `i % hosts`.

Article pages are the real pages of the shared corpus (`../shared/corpus/html`)
used as templates: every `<p>` and the `<title>` get a short unique marker, so each
article is a distinct, real-sized page (same markup, same extraction cost) with its
own content hash. Without the corpus, generated ~6 KB-of-text pages are used.

The server runs in a child process (so its CPU is not the pipeline's), is a plain
asyncio HTTP/1.1 server with keep-alive, sleeps `latency_ms` per request without
blocking the others, answers conditional feed GETs with 304, and exits by itself
after `lifetime_s` or when its parent goes away (stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import email.utils
import hashlib
import html
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from policy_news.settings import project_home

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

_P_OPEN = re.compile(rb"<p(?:\s[^>]*)?>", re.IGNORECASE)
_TITLE_OPEN = re.compile(rb"<title[^>]*>", re.IGNORECASE)
_BODY_OPEN = re.compile(rb"<body[^>]*>", re.IGNORECASE)
_TITLE_TEXT = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# Fixed "now" of the synthetic news: feed dates fall in the 30 days before it.
_EPOCH = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def corpus_dir() -> Path:
    return project_home().parent / "shared" / "corpus"


def host_address(index: int) -> str:
    """The loopback address of host `index` (0-based): 127.0.1.1 .. 127.0.1.250, 127.0.2.1 ..."""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


@dataclass(frozen=True)
class SiteSpec:
    """One synthetic site: `articles` spread evenly over `feeds` and over `hosts`.

    Article i is in feed i % feeds and on host i % hosts; feed j is on host j % hosts.
    With hosts == feeds every feed is an outlet carrying its own articles; with more
    hosts than feeds the feeds also link to other outlets (as topic and aggregator
    feeds do), which is how a monitor of one topic sees the news.
    """

    name: str
    articles: int
    feeds: int
    hosts: int

    def feed_host(self, feed: int) -> int:
        return feed % self.hosts

    def article_host(self, article: int) -> int:
        return article % self.hosts

    def article_feed(self, article: int) -> int:
        return article % self.feeds

    def max_articles_per_host(self) -> int:
        return -(-self.articles // self.hosts)

    def feed_articles(self, feed: int) -> range:
        return range(feed, self.articles, self.feeds)


@dataclass
class ServerSpec:
    sites: list[SiteSpec]
    latency_ms: float = 150.0
    seed: int = 20260110
    lifetime_s: float = 900.0
    corpus: str | None = None
    port: int = 0

    @property
    def hosts(self) -> int:
        return max(s.hosts for s in self.sites)

    def to_json(self) -> str:
        return json.dumps(
            {**dataclasses.asdict(self), "sites": [dataclasses.asdict(s) for s in self.sites]}
        )

    @classmethod
    def from_json(cls, text: str) -> ServerSpec:
        data = json.loads(text)
        data["sites"] = [SiteSpec(**s) for s in data["sites"]]
        return cls(**data)


# --------------------------------------------------------------------------- content


@dataclass
class Template:
    name: str
    parts: list[bytes]  # the page split at the insertion points
    title: str


def _split_template(name: str, page: bytes) -> Template:
    points: list[int] = []
    title = _TITLE_OPEN.search(page)
    if title:
        points.append(title.end())
    paragraphs = [m.end() for m in _P_OPEN.finditer(page)]
    if not paragraphs and (body := _BODY_OPEN.search(page)):
        paragraphs = [body.end()]
    points.extend(paragraphs)
    points = sorted(set(points))
    parts, last = [], 0
    for point in points:
        parts.append(page[last:point])
        last = point
    parts.append(page[last:])
    found = _TITLE_TEXT.search(page)
    text = html.unescape(found.group(1).decode("utf-8", "replace")).strip() if found else name
    return Template(name=name, parts=parts, title=" ".join(text.split())[:200])


_GENERATED_SENTENCES = [
    "Officials said the county would publish the figures every month.",
    "The council met for three hours on Tuesday evening before voting.",
    "Residents lined up outside the hall long before the doors opened.",
    "Immigration and Customs Enforcement said the agency detained several people.",
    "The governor's office did not respond to a request for comment.",
    "Local businesses reported a slower season than they had expected.",
    "A federal judge scheduled a hearing on the motion for next week.",
    "The school district announced new bus routes for the spring term.",
]


def _generated_template(index: int) -> Template:
    rng = random.Random(index)
    paragraphs = [
        "<p>" + " ".join(rng.choice(_GENERATED_SENTENCES) for _ in range(5)) + "</p>"
        for _ in range(14)
    ]
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(40))
    page = (
        f'<!doctype html><html lang="en"><head><title>Generated story {index}</title>'
        f'<meta name="author" content="Staff Writer"></head><body><nav><ul>{nav}</ul></nav>'
        f"<article><h1>Generated story {index}</h1>{''.join(paragraphs)}</article>"
        f"<footer>Copyright The Generated Times</footer></body></html>"
    ).encode()
    return _split_template(f"generated-{index}", page)


def load_templates(corpus: Path | None) -> list[Template]:
    """The corpus pages (sorted by name), else 12 generated pages."""
    folder = corpus / "html" if corpus else None
    if folder and folder.is_dir():
        pages = sorted(p for p in folder.glob("*.html") if p.is_file())
        if pages:
            return [_split_template(p.name, p.read_bytes()) for p in pages]
    return [_generated_template(i) for i in range(12)]


def load_headlines(corpus: Path | None, limit: int) -> list[tuple[str, str]]:
    """(title, description) pairs from the unlabelled headline pool, if present."""
    path = corpus / "text" / "headlines-pool-2026-01.jsonl" if corpus else None
    out: list[tuple[str, str]] = []
    if path and path.is_file():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if len(out) >= limit:
                    break
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if row.get("title"):
                    out.append((str(row["title"]), str(row.get("description") or "")))
    return out


class Content:
    """Deterministic pages and feeds for a ServerSpec (the server and the harness agree)."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        corpus = Path(spec.corpus) if spec.corpus else None
        self.templates = load_templates(corpus)
        need = max(s.articles for s in spec.sites)
        self.headlines = load_headlines(corpus, need)
        self.sites = {s.name: s for s in spec.sites}

    def base(self, host: int) -> str:
        return f"http://{host_address(host)}:{self.spec.port}"

    def feed_url(self, site: SiteSpec, feed: int) -> str:
        return f"{self.base(site.feed_host(feed))}/{site.name}/feeds/{feed}.rss"

    def article_url(self, site: SiteSpec, article: int) -> str:
        feed = site.article_feed(article)
        return f"{self.base(site.article_host(article))}/{site.name}/news/{feed}/{article}.html"

    def template_for(self, site: SiteSpec, article: int) -> Template:
        digest = hashlib.blake2b(f"{self.spec.seed}:{site.name}:{article}".encode(), digest_size=4)
        return self.templates[int.from_bytes(digest.digest(), "big") % len(self.templates)]

    def headline(self, site: SiteSpec, article: int) -> tuple[str, str]:
        template = self.template_for(site, article)
        if self.headlines:
            title, summary = self.headlines[article % len(self.headlines)]
        else:
            title, summary = template.title, ""
        return f"{title} ({site.name} #{article})", summary

    def page(self, site: SiteSpec, article: int) -> bytes:
        template = self.template_for(site, article)
        marker = f"Dispatch {site.name}-{article}. ".encode()
        out = [template.parts[0]]
        for part in template.parts[1:]:
            out.append(marker)
            out.append(part)
        return b"".join(out)

    def published(self, site: SiteSpec, article: int) -> datetime:
        return _EPOCH - timedelta(minutes=(article * 37) % (30 * 24 * 60))

    def feed(self, site: SiteSpec, feed: int) -> bytes:
        items = []
        for article in site.feed_articles(feed):
            title, summary = self.headline(site, article)
            url = self.article_url(site, article)
            items.append(
                "<item>"
                f"<title>{html.escape(title)}</title>"
                f"<link>{html.escape(url)}</link>"
                f'<guid isPermaLink="true">{html.escape(url)}</guid>'
                f"<description>{html.escape(summary)}</description>"
                f"<pubDate>{email.utils.format_datetime(self.published(site, article))}</pubDate>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Bench outlet {site.name} feed {feed}</title>"
            f"<link>{self.base(site.feed_host(feed))}/</link>"
            "<description>synthetic benchmark feed</description>"
            f"{''.join(items)}</channel></rss>"
        ).encode()

    def etag(self, site: SiteSpec, feed: int) -> str:
        return f'"{site.name}-{feed}-{self.spec.seed}"'


def feeds_yaml(content: Content, site: SiteSpec) -> str:
    lines = ["feeds:"]
    for feed in range(site.feeds):
        lines.append(f"  - name: bench-{site.name}-{feed:05d}")
        lines.append(f"    url: {content.feed_url(site, feed)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the server


ROBOTS = b"User-agent: *\nDisallow:\n"
_LAST_MODIFIED = email.utils.format_datetime(_EPOCH, usegmt=True)


class _Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.not_modified = 0
        self.bytes = 0


def _route(
    content: Content, path: str, headers: dict[str, str]
) -> tuple[int, str, bytes, dict[str, str]]:
    path = path.split("?", 1)[0]
    if path == "/robots.txt":
        return 200, "text/plain; charset=utf-8", ROBOTS, {}
    parts = path.strip("/").split("/")
    site = content.sites.get(parts[0]) if parts else None
    try:
        if site and len(parts) == 3 and parts[1] == "feeds" and parts[2].endswith(".rss"):
            feed = int(parts[2][:-4])
            if 0 <= feed < site.feeds:
                etag = content.etag(site, feed)
                extra = {"ETag": etag, "Last-Modified": _LAST_MODIFIED}
                if headers.get("if-none-match") == etag:
                    return 304, "", b"", extra
                return 200, "application/rss+xml; charset=utf-8", content.feed(site, feed), extra
        if site and len(parts) == 4 and parts[1] == "news" and parts[3].endswith(".html"):
            feed, article = int(parts[2]), int(parts[3][:-5])
            if 0 <= article < site.articles and site.article_feed(article) == feed:
                return 200, "text/html", content.page(site, article), {}
    except ValueError:
        pass
    return 404, "text/plain", b"not found\n", {}


async def _handle(
    content: Content, stats: _Stats, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    latency = content.spec.latency_ms / 1000.0
    try:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
            except (
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                TimeoutError,
                ConnectionError,
            ):
                return
            lines = head.decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                return
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            if latency > 0:
                await asyncio.sleep(latency)
            status, ctype, body, extra = _route(content, target, headers)
            stats.requests += 1
            stats.not_modified += status == 304
            stats.bytes += len(body)
            reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}.get(status, "OK")
            keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
            out = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
            if ctype:
                out.append(f"Content-Type: {ctype}")
            out.extend(f"{k}: {v}" for k, v in extra.items())
            out.append("Connection: keep-alive" if keep else "Connection: close")
            writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            if method != "HEAD" and status != 304:
                writer.write(body)
            await writer.drain()
            if not keep:
                return
    except ConnectionError:
        return
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _bind_all(
    addresses: Sequence[str], port: int, attempts: int = 30
) -> tuple[int, list[socket.socket]]:
    """One listening socket per address, all on the same port (random unless given)."""
    rng = random.Random(os.getpid() ^ int(time.time()))
    for _ in range(attempts):
        chosen = port or rng.randint(20000, 60000)
        sockets: list[socket.socket] = []
        try:
            for address in addresses:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sockets.append(sock)
                sock.bind((address, chosen))
                sock.listen(512)
                sock.setblocking(False)
            return chosen, sockets
        except OSError:
            for sock in sockets:
                sock.close()
            if port:
                raise
    raise OSError(f"no free port on all {len(addresses)} loopback addresses")


async def _serve(spec: ServerSpec, ready: Callable[[int], None]) -> dict[str, int]:
    addresses = [host_address(i) for i in range(spec.hosts)]
    port, sockets = _bind_all(addresses, spec.port)
    spec.port = port
    content = Content(spec)
    stats = _Stats()
    servers = [
        await asyncio.start_server(
            lambda r, w: _handle(content, stats, r, w), sock=sock, limit=65536
        )
        for sock in sockets
    ]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent holds our stdin open; EOF means it went away, so we go too.
    if not sys.stdin.closed:
        with contextlib.suppress(Exception):
            loop.add_reader(
                sys.stdin.fileno(),
                lambda: stop.set() if not os.read(sys.stdin.fileno(), 4096) else None,
            )
    ready(port)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=spec.lifetime_s)
    for server in servers:
        server.close()
    return {"requests": stats.requests, "not_modified": stats.not_modified, "bytes": stats.bytes}


def serve_forever(spec: ServerSpec) -> None:
    def ready(port: int) -> None:
        print(f"READY {port}", flush=True)

    result = asyncio.run(_serve(spec, ready))
    print("STATS " + json.dumps(result), flush=True)


class SiteServer:
    """The site server as a child process; `with SiteServer(spec) as content:` ..."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.proc: subprocess.Popen[str] | None = None
        self.content: Content | None = None
        self.stats: dict[str, int] = {}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> Content:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tools.bench.site", "--spec", self.spec.to_json()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("READY") or not line:
                break
        if not line.startswith("READY"):
            self.__exit__(None, None, None)
            raise RuntimeError("bench site server did not start")
        self.spec.port = int(line.split()[1])
        self.content = Content(self.spec)
        return self.content

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate(timeout=5)
        for line in (out or "").splitlines():
            if line.startswith("STATS "):
                self.stats = json.loads(line[6:])


@contextlib.contextmanager
def running(spec: ServerSpec) -> Iterator[tuple[SiteServer, Content]]:
    server = SiteServer(spec)
    content = server.__enter__()
    try:
        yield server, content
    finally:
        server.__exit__(None, None, None)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="serve the synthetic bench site (child process)")
    parser.add_argument("--spec", required=True, help="ServerSpec as JSON")
    args = parser.parse_args(argv)
    serve_forever(ServerSpec.from_json(args.spec))


if __name__ == "__main__":
    main()
