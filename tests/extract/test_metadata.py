"""Stored metadata only: the same values trafilatura's whole metadata pass gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from policy_news.extract.metadata import stored_metadata
from policy_news.extract.page import _date_params
from tests.conftest import CORPUS_DIR
from tests.extract.test_page import PAGE

if TYPE_CHECKING:
    from pathlib import Path


def _both(html: bytes, url: str) -> tuple[dict[str, object], dict[str, object]]:
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    params = _date_params(datetime.now(UTC))
    full = extract_metadata(load_html(html), url, dict(params))
    ours = stored_metadata(load_html(html), url, params)
    expected = {
        "title": full.title,
        "author": full.author,
        "site_name": full.sitename,
        "date": full.date,
    }
    return ours, expected


def test_stored_fields_match_trafilatura() -> None:
    ours, expected = _both(PAGE.encode(), "https://ledger.example/sheriff-287g")
    assert ours == expected
    assert ours["title"] and ours["date"]


def _corpus_pages() -> list[Path]:
    folder = CORPUS_DIR / "html"
    return sorted(folder.glob("*.html"))[:12] if folder.is_dir() else []


@pytest.mark.skipif(not _corpus_pages(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _corpus_pages(), ids=lambda p: p.name)
def test_stored_fields_match_trafilatura_on_corpus_pages(path: Path) -> None:
    ours, expected = _both(path.read_bytes(), f"https://corpus.example/{path.name}")
    assert ours == expected


def _from_document(html: bytes, url: str) -> dict[str, object]:
    """The fields as the worker stores them: author looked up last, on the pruned tree."""
    from policy_news.extract.page import extract_document

    doc = extract_document(html, url, datetime.now(UTC))
    assert doc is not None
    return {"title": doc.title, "author": doc.author, "site_name": doc.sitename, "date": doc.date}


@pytest.mark.parametrize(
    "html",
    [
        PAGE.encode(),
        # no author meta tag: the author comes from the byline markup
        b"<html><head><title>Raid</title></head><body><article><h1>Raid</h1>"
        b'<p class="byline">By <span class="author">Maria Lopez</span></p>'
        + b"<p>Agents detained workers at the plant on Tuesday, officials said.</p>" * 40
        + b"</article></body></html>",
    ],
    ids=["fixture", "byline-only"],
)
def test_the_document_keeps_trafilatura_metadata(html: bytes) -> None:
    url = "https://ledger.example/story"
    _ours, expected = _both(html, url)
    assert _from_document(html, url) == expected


@pytest.mark.skipif(not _corpus_pages(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _corpus_pages(), ids=lambda p: p.name)
def test_the_document_keeps_trafilatura_metadata_on_corpus_pages(path: Path) -> None:
    url = f"https://corpus.example/{path.name}"
    _ours, expected = _both(path.read_bytes(), url)
    found = _from_document(path.read_bytes(), url)
    assert found == expected
