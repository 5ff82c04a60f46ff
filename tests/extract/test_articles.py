"""fetch_articles: every item ends as an article or a recorded failure, whatever breaks."""

from __future__ import annotations

from datetime import UTC, datetime

from policy_news.extract.articles import fetch_articles
from policy_news.models import FeedItem
from policy_news.sources.urls import article_id_for


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
        batch = _fetch_and_extract(
            items, requests, settings, dying, threading.BoundedSemaphore(4), None, None
        )
    articles, failures = batch.articles, batch.failures
    assert articles == []
    assert sorted(f.article_id for f in failures) == sorted(items)
    assert {f.stage for f in failures} == {"extract"}
    assert any("pool broken" in f.error or "crashed" in f.error for f in failures)
