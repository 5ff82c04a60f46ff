"""Bodies: capped decompression (gzip bombs), size limits, decode errors, content types."""

from __future__ import annotations

import tracemalloc

import pytest

from tests.http.helpers import MAX_BODY, cfg, fetch_one
from tests.support.hostile_server import (
    BAD_ENCODING_FEED,
    BILLION_LAUGHS,
    BROKEN_XML,
    HostileServer,
)

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("path", ["/gzip-article", "/deflate-article", "/raw-deflate-article"])
def test_compressed_bodies_are_decoded(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.ok, result.error
    assert result.body is not None and result.body.startswith(b"<!DOCTYPE html>")


def test_gzip_bomb_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/gzip-bomb"))  # 16 MiB of zeros in ~16 KiB
    assert result.error_kind == "too_large" and result.body is None
    assert "decoded" in (result.error or "")
    assert result.attempts == 1  # not retried


def test_nested_gzip_bomb_is_cut_without_inflating_it(server: HostileServer) -> None:
    # gzip(gzip(64 MiB)): a decoder that inflates a whole chunk would allocate 64 MiB.
    tracemalloc.start()
    try:
        # (generous read timeout: the server builds the bomb on first request)
        result = fetch_one(server.url("/gzip-bomb-nested"), cfg(read_timeout_s=5))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error_kind == "too_large"
    assert peak < 16 * MAX_BODY


def test_huge_body_with_content_length_is_refused_before_reading(server: HostileServer) -> None:
    result = fetch_one(server.url("/huge"))
    assert result.error_kind == "too_large"
    assert "Content-Length" in (result.error or "")


def test_huge_streamed_body_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/huge-chunked"))
    assert result.error_kind == "too_large" and result.body is None


def test_endless_body_is_cut_at_max_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/endless"))
    assert result.error_kind == "too_large"
    assert result.elapsed_s < 2


@pytest.mark.parametrize(("path", "why"), [("/bad-gzip", "gzip"), ("/brotli", "'br'")])
def test_undecodable_body_is_a_decode_error(server: HostileServer, path: str, why: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "decode" and why in (result.error or "")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/bad-encoding.xml", BAD_ENCODING_FEED),
        ("/broken.xml", BROKEN_XML),
        ("/billion-laughs.xml", BILLION_LAUGHS),
        ("/empty.xml", b""),
    ],
)
def test_hostile_documents_come_back_as_untouched_bytes(
    server: HostileServer, path: str, payload: bytes
) -> None:
    # Parsing is the caller's job; the fetch layer must not choke on or alter them.
    result = fetch_one(server.url(path), kind="feed")
    assert result.ok and result.body == payload


def test_empty_article_is_ok_with_empty_body(server: HostileServer) -> None:
    result = fetch_one(server.url("/empty"))
    assert result.ok and result.body == b""


@pytest.mark.parametrize("path", ["/pdf", "/image.png"])
def test_pdf_is_not_an_article(server: HostileServer, path: str) -> None:
    result = fetch_one(server.url(path))
    assert result.error_kind == "content_type" and result.status == 200
    assert result.body is None and result.attempts == 1


def test_pdf_is_not_a_feed(server: HostileServer) -> None:
    assert fetch_one(server.url("/pdf"), kind="feed").error_kind == "content_type"


def test_missing_content_type_is_allowed(server: HostileServer) -> None:
    result = fetch_one(server.url("/no-content-type"))
    assert result.ok and "content-type" not in result.headers
