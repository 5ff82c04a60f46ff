from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy_news.extract.articles import content_fingerprint, extract_page, fetch_articles
from policy_news.models import FeedItem
from policy_news.sources.urls import article_id_for
from tests.conftest import CORPUS_DIR

PAGE = """<!doctype html><html lang="en"><head><title>Sheriff joins 287(g) | Ledger</title>
<meta property="og:site_name" content="The Ledger">
<meta name="author" content="Dana Ruiz">
<meta property="article:published_time" content="2026-11-20T09:15:00Z">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Sheriff joins 287(g)</h1>
<p>The county sheriff's office signed an agreement with U.S. Immigration and Customs
Enforcement on Monday, joining the 287(g) task force model that lets deputies question
people about their immigration status during routine patrols.</p>
<p>County commissioners approved the agreement by a 3-2 vote after a long public hearing
in which dozens of residents spoke against it and several spoke in favour of it.</p>
<p>The sheriff said the deputies would complete four weeks of federal training before
any enforcement activity begins, and that the office would publish monthly figures.</p>
</article><footer>Copyright 2026 The Ledger</footer></body></html>"""


def test_extract_page_reads_text_and_metadata() -> None:
    fields = extract_page(PAGE.encode(), "https://ledger.example/sheriff-287g")
    assert "287(g) task force model" in fields["text"]
    assert "Copyright" not in fields["text"] and "Home" not in fields["text"]
    assert fields["author"] == "Dana Ruiz"
    assert fields["site_name"] == "The Ledger"
    assert fields["language"] == "en"
    assert fields["html_date"] == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
    assert gzip.decompress(fields["raw_html_gz"]) == PAGE.encode()


def test_page_without_text_is_a_recorded_failure() -> None:
    fields = extract_page(b"<html><body></body></html>", "https://x.example/")
    assert fields["error_kind"] == "no_text"


def test_fingerprint_ignores_markup_and_case() -> None:
    assert content_fingerprint("ICE arrests, 12 people.") == content_fingerprint(
        "ice ARRESTS 12 people"
    )


def _item(url: str, published: datetime | None) -> FeedItem:
    return FeedItem(
        article_id=article_id_for(url),
        url=url,
        original_url=url,
        feed_name="sample",
        title="",
        summary="",
        published_at=published,
    )


def test_feed_date_wins_and_missing_dates_stay_unknown(settings, sample_site: str) -> None:
    from tools.sample_site import SAMPLE_SITE_DIR

    pages = sorted((SAMPLE_SITE_DIR / "articles").glob("*.html"))[:3]
    feed_date = datetime(2026, 11, 2, 8, tzinfo=UTC)
    items = [
        _item(f"{sample_site}/articles/{p.name}", feed_date if i == 0 else None)
        for i, p in enumerate(pages)
    ]
    items.append(_item(f"{sample_site}/articles/does-not-exist.html", None))
    articles, failures = fetch_articles(items, settings)
    assert len(articles) == 3
    by_url = {a.url: a for a in articles}
    assert by_url[items[0].url].published_at == feed_date
    assert by_url[items[0].url].date_source == "feed"
    for article in (by_url[item.url] for item in items[1:3]):
        assert article.date_source in ("html", "unknown")
        assert (article.published_at is None) == (article.date_source == "unknown")
        assert article.published_at != article.fetched_at
    assert [(f.stage, f.error_kind, f.http_status) for f in failures] == [
        ("fetch", "http_status", 404)
    ]


def _corpus_pages() -> list[Path]:
    folder = CORPUS_DIR / "html"
    return sorted(folder.glob("*.html")) if folder.is_dir() else []


@pytest.mark.skipif(not _corpus_pages(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _corpus_pages(), ids=lambda p: p.name)
def test_every_corpus_page_extracts_or_records_why(path: Path) -> None:
    fields = extract_page(path.read_bytes(), f"https://corpus.example/{path.name}")
    if "error_kind" in fields:
        assert fields["error_kind"] in ("no_text", "extract") and fields["error"]
    else:
        assert len(fields["text"]) > 100
        assert fields["language"] is None or len(fields["language"]) == 2


def test_a_broken_extraction_pool_fails_pages_not_the_batch(settings, sample_site: str) -> None:
    """A worker that dies (OOM killer, crash at start-up) costs pages, recorded, not the run."""
    import multiprocessing
    import os
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from policy_news.extract.articles import _fetch_and_extract
    from policy_news.http.client import FetchRequest
    from tools.sample_site import SAMPLE_SITE_DIR

    pages = sorted((SAMPLE_SITE_DIR / "articles").glob("*.html"))[:4]
    items = {
        item.article_id: item
        for item in (_item(f"{sample_site}/articles/{p.name}", None) for p in pages)
    }
    requests = [FetchRequest(i.url, kind="article", key=i.article_id) for i in items.values()]
    dying = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=os._exit,
        initargs=(1,),
    )
    with dying:
        articles, failures = _fetch_and_extract(
            items, requests, settings, dying, threading.BoundedSemaphore(4), None
        )
    assert articles == []
    assert sorted(f.article_id for f in failures) == sorted(items)
    assert {f.stage for f in failures} == {"extract"}
    assert any("pool broken" in f.error or "crashed" in f.error for f in failures)
