"""Response bodies: what we accept, and reading with a cap that holds after decompression.

Bodies are read raw and decompressed here with an output cap per step, so a
gzip bomb (even gzip inside gzip) costs at most `max_body_bytes` plus one
64 KiB piece of memory; httpx's own decoders inflate a whole network chunk at once.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from policy_news.http.errors import FetchError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

# Largest piece the decompressor may emit per step; bounds memory on bombs.
DECODE_STEP_BYTES = 64 * 1024
# We only advertise what `BoundedDecoder` can decode with a cap.
ACCEPT_ENCODING = "gzip, deflate"

ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
    "article": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}
_ARTICLE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_TYPE_MARKERS = ("xml", "rss", "atom", "json")


class BoundedDecoder:
    """Undo Content-Encoding (gzip/deflate, stacked) emitting at most 64 KiB per step.

    The caller sees small pieces and stops as soon as the running total passes
    its cap, so a bomb is never inflated beyond it.
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


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """Stream the raw body, decode it with a cap, and fail as soon as it passes `limit`."""
    length = response.headers.get("content-length")
    if length and length.strip().isdigit() and int(length) > limit:
        raise FetchError("too_large", f"Content-Length {int(length)} exceeds {limit} bytes")
    decoder = BoundedDecoder(response.headers.get("content-encoding", ""))
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


def content_type_problem(kind: str, content_type: str | None) -> str | None:
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
