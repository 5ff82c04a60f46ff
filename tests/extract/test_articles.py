"""fetch_articles: every item ends as an article or a recorded failure, whatever breaks."""

from __future__ import annotations

from datetime import UTC, datetime

from policy_news.extract.articles import fetch_articles
from policy_news.models import FeedItem
from policy_news.sources.urls import article_id_for


def _item(url: str, published: datetime | None, article_id: str | None = None) -> FeedItem:
    return FeedItem(
        article_id=article_id or article_id_for(url),
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


def test_a_full_backlog_holds_pages_not_the_requests_in_flight() -> None:
    """Workers still starting (the backlog is full for longer than a request's deadline):
    the fetched pages wait, the requests in flight still finish, and no host is blamed."""
    import threading

    from policy_news.extract.articles import _fetch_and_extract
    from policy_news.extract.pool import thread_executor
    from policy_news.http.client import FetchRequest
    from policy_news.http.limits import FetchLimits
    from tests.http.helpers import cfg, token
    from tests.support.hostile_server import HostileServer

    settings = cfg(request_deadline_s=0.8, read_timeout_s=0.8, max_retries=0)
    backlog = threading.BoundedSemaphore(1)
    backlog.acquire()
    threading.Timer(1.5, backlog.release).start()
    limits = FetchLimits(breaker_failures=1)
    with HostileServer() as server:
        # the first page arrives at once and waits; the others are still on the wire
        delays = (0, 0.5, 0.5, 0.5)
        urls = [server.url(f"/sleep?s={d}&t={token()}") for d in delays]
        # ids of their own: the URLs differ only in query values an id ignores
        items = {f"page{i}": _item(url, None, f"page{i}") for i, url in enumerate(urls)}
        requests = [FetchRequest(i.url, kind="article", key=i.article_id) for i in items.values()]
        with thread_executor() as executor:
            batch = _fetch_and_extract(items, requests, settings, executor, backlog, limits, None)
    assert len(batch.articles) + len(batch.failures) == len(items)
    assert [f.error_kind for f in batch.failures if f.stage == "fetch"] == []
    assert batch.deferred == []
    assert limits.deferral("127.0.0.1") is None
