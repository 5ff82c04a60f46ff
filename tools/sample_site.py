"""Serve the bundled sample site on 127.0.0.1 for the demo and the end-to-end tests.

Files may contain `{{BASE}}`, replaced by the server's own base URL when served, so
the same feeds work on any port. The server stops by itself after `lifetime_s`.
"""

from __future__ import annotations

import argparse
import mimetypes
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from policy_news.settings import INCLUDE_DIR

if TYPE_CHECKING:
    from collections.abc import Iterator

SAMPLE_SITE_DIR = INCLUDE_DIR / "sample_site"
DEMO_PORT = 8765
_TYPES = {
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def _handler(root: Path, base_url: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rel = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
            path = (root / rel).resolve()
            if root not in path.parents or not path.is_file():
                self.send_error(404, "not found")
                return
            body = path.read_bytes()
            if path.suffix in _TYPES:
                body = body.replace(b"{{BASE}}", base_url.encode())
            ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
            self.send_response(200)
            self.send_header("Content-Type", ctype or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet in tests
            pass

    return Handler


@contextmanager
def serve(
    root: Path = SAMPLE_SITE_DIR, port: int = 0, host: str = "127.0.0.1", lifetime_s: float = 900
) -> Iterator[str]:
    """Serve `root` in a background thread; yields the base URL, stops on exit or after lifetime_s."""
    server = ThreadingHTTPServer((host, port), BaseHTTPRequestHandler)
    base_url = f"http://{host}:{server.server_address[1]}"
    server.RequestHandlerClass = _handler(root.resolve(), base_url)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    )
    thread.start()
    timer = threading.Timer(lifetime_s, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield base_url
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="serve the sample site on 127.0.0.1")
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("--root", type=Path, default=SAMPLE_SITE_DIR)
    parser.add_argument("--lifetime", type=float, default=900, help="stop after this many seconds")
    args = parser.parse_args()
    with serve(args.root, args.port, lifetime_s=args.lifetime) as url:
        print(f"serving {args.root} at {url} for {args.lifetime:.0f}s", flush=True)
        deadline = time.monotonic() + args.lifetime
        while time.monotonic() < deadline:
            time.sleep(0.5)


if __name__ == "__main__":
    main()
