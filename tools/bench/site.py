"""The synthetic news site's server: `python -m tools.bench.site --spec JSON` (child process).

The server runs in a child process (so its CPU is not the pipeline's), is a plain
asyncio HTTP/1.1 server with keep-alive on one listening socket per loopback address
(see site_content.py), sleeps `latency_ms` per request without blocking the others,
answers conditional feed GETs with 304, and exits by itself after `lifetime_s` or
when its parent goes away (stdin closes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from policy_news.settings import project_home
from tools.bench.site_content import EPOCH, Content, ServerSpec, host_address

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

ROBOTS = b"User-agent: *\nDisallow:\n"
_LAST_MODIFIED = email.utils.format_datetime(EPOCH, usegmt=True)


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
            cwd=project_home(),  # where `-m tools.bench.site` resolves, whatever our cwd
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
