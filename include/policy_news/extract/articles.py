"""Fetch article pages and extract their text and metadata.

Extraction is the CPU-bound stage, so pages are handed to the extraction pool
(`pool`) the moment they arrive: network waits overlap with extraction instead
of adding to it. What one page becomes is `page.extract_page`; this module turns
its fields, or the fetch error, into an `Article` or an `ArticleFailure`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from policy_news.extract.page import content_fingerprint, extract_page
from policy_news.extract.pool import (
    BACKLOG_PER_WORKER,
    SHARED,
    extraction_pool,
    pool_workers,
    shared_pool_open,
    thread_executor,
)
from policy_news.http.client import FetchRequest, FetchResult, fetch_all
from policy_news.models import Article, ArticleFailure, FeedItem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from policy_news.http.limits import FetchLimits
    from policy_news.settings import Settings

__all__ = [
    "EXTRACTION_STATS",
    "content_fingerprint",
    "extract_page",
    "extraction_pool",
    "fetch_articles",
    "fetch_articles_within",
]

_LANG_CODE = re.compile(r"^[a-z]{2}$")
# Below this many parallel pages a pool costs more to start than it saves.
_POOL_THRESHOLD = 8
_BACKLOG_POLL_S = 0.01

# CPU seconds summed over the pages this process handed out, measured inside the
# workers: `cpu_s` is trafilatura's text and metadata extraction alone (the work that
# bounds throughput), `page_cpu_s` everything a worker does per page (extraction plus
# language, the fingerprint and story sketches, compressing the page for the archive).
EXTRACTION_STATS: dict[str, float] = {"pages": 0, "cpu_s": 0.0, "page_cpu_s": 0.0}
_STATS_LOCK = threading.Lock()


def _article(
    item: FeedItem, result: FetchResult, fields: dict[str, Any], fetched_at: datetime
) -> Article:
    if item.published_at is not None:
        published_at, date_source = item.published_at, "feed"
    elif fields.get("html_date") is not None:
        published_at, date_source = fields["html_date"], "html"
    else:
        published_at, date_source = None, "unknown"
    language = (fields.get("language") or "").lower()[:2] or None
    text = fields["text"]
    return Article(
        article_id=item.article_id,
        url=item.url,
        final_url=result.final_url,
        feed_name=item.feed_name,
        title=item.title or fields.get("title") or "",
        summary=item.summary,
        text=text,
        author=fields.get("author"),
        site_name=fields.get("site_name"),
        language=language if language and _LANG_CODE.match(language) else None,
        published_at=published_at,
        date_source=date_source,
        fetched_at=fetched_at,
        http_status=result.status,
        raw_html_gz=fields["raw_html_gz"],
        content_hash=_content_hash(fields, text),
        extraction_status=fields.get("extraction_status", "ok"),
        shingle_sketch=fields.get("shingle_sketch"),
        word_sketch=fields.get("word_sketch"),
        shingle_count=fields.get("shingle_count"),
    )


def _content_hash(fields: dict[str, Any], text: str) -> str | None:
    if fields.get("extraction_status") == "metadata_only":
        return None  # a boilerplate description is no fingerprint of the story
    return fields.get("content_hash") or content_fingerprint(text)


def _failure(
    item: FeedItem, stage: str, kind: str, error: str, status: int | None
) -> ArticleFailure:
    return ArticleFailure(
        article_id=item.article_id,
        url=item.url,
        feed_name=item.feed_name,
        title=item.title,
        summary=item.summary,
        feed_published_at=item.published_at,
        stage=stage,
        error_kind=kind,
        error=error,
        http_status=status,
        failed_at=datetime.now(UTC),
    )


@dataclass
class FetchedBatch:
    """What became of a batch: articles, failures, and items left for a later run."""

    articles: list[Article] = field(default_factory=list)
    failures: list[ArticleFailure] = field(default_factory=list)
    deferred: list[tuple[FeedItem, str]] = field(default_factory=list)  # (item, reason)


def fetch_articles(
    items: Sequence[FeedItem],
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Article], list[ArticleFailure]]:
    """Fetch and extract a batch; every item ends as an article or a recorded failure."""
    batch = fetch_articles_within(items, settings, None, progress)
    return batch.articles, batch.failures


def fetch_articles_within(
    items: Sequence[FeedItem],
    settings: Settings,
    limits: FetchLimits | None,
    progress: Callable[[int, int], None] | None = None,
) -> FetchedBatch:
    """`fetch_articles` under run limits: an item whose request they stop is deferred."""
    by_id = {item.article_id: item for item in items}
    requests = [FetchRequest(url=i.url, kind="article", key=i.article_id) for i in by_id.values()]
    # An open extraction_pool() block is reused (no start-up per chunk); otherwise a
    # small batch gets one extraction thread, a larger one a pool for the call's duration.
    if not pool_workers(settings) or (len(requests) < _POOL_THRESHOLD and not shared_pool_open()):
        backlog = threading.BoundedSemaphore(BACKLOG_PER_WORKER)
        with thread_executor() as thread:
            return _fetch_and_extract(by_id, requests, settings, thread, backlog, limits, progress)
    with extraction_pool(settings) as pool:
        assert pool is not None
        return _fetch_and_extract(by_id, requests, settings, pool, SHARED.backlog, limits, progress)


def _fetch_and_extract(
    by_id: dict[str, FeedItem],
    requests: list[FetchRequest],
    settings: Settings,
    executor: Executor,
    backlog: threading.BoundedSemaphore,
    limits: FetchLimits | None,
    progress: Callable[[int, int], None] | None,
) -> FetchedBatch:
    pending: dict[str, tuple[FetchResult, datetime, Future[dict[str, Any]]]] = {}
    out = FetchedBatch()
    failures = out.failures
    done = 0

    queue = asyncio.Lock()  # bound to the fetch loop at first use

    async def on_result(result: FetchResult) -> None:
        nonlocal done
        done += 1
        item = by_id[result.request.key]
        if result.deferred_reason is not None:
            out.deferred.append((item, result.deferred_reason))
        elif result.ok and result.body is not None:  # b"" too: extraction finds no text
            # Backpressure while the workers are behind (or still starting): this page
            # waits; the loop does not, so requests in flight finish within their
            # deadlines and a slow pool never counts against a host. The chunk bounds
            # how many fetched pages can wait.
            async with queue:  # one waiting page polls at a time, the rest sleep in line
                while not backlog.acquire(blocking=False):
                    await asyncio.sleep(_BACKLOG_POLL_S)
            try:
                job = executor.submit(extract_page, result.body, result.final_url)
            except BrokenExecutor as exc:
                # A worker died (OOM killer, crash at start-up): the pool takes no more
                # jobs. This page is recorded as failed (and retried by a later run); the
                # next chunk gets a fresh pool (`pool.SHARED.acquire`).
                backlog.release()
                failures.append(
                    _failure(
                        item,
                        "extract",
                        "extract",
                        f"extraction pool broken: {exc}"[:500],
                        result.status,
                    )
                )
                result.body = None
                if progress:
                    progress(done, len(requests))
                return
            except BaseException:
                backlog.release()
                raise
            job.add_done_callback(lambda _job: backlog.release())
            result.body = None  # the job holds it until a worker is done with it
            pending[item.article_id] = (result, datetime.now(UTC), job)
        else:
            failures.append(
                _failure(
                    item,
                    "fetch",
                    result.error_kind or "other",
                    result.error or "no body",
                    result.status,
                )
            )
        if progress:
            progress(done, len(requests))

    try:
        fetch_all(requests, settings, on_result=on_result, limits=limits)
        articles = out.articles
        n_pages, cpu_s, page_cpu_s = 0, 0.0, 0.0
        for article_id, (result, fetched_at, job) in pending.items():
            item = by_id[article_id]
            try:
                fields = job.result()
            except Exception as exc:  # a crashed worker loses one page, not the batch
                fields = {"error_kind": "extract", "error": f"extraction crashed: {exc!r}"[:500]}
            n_pages += 1
            cpu_s += fields.get("extract_cpu_s", 0.0)
            page_cpu_s += fields.get("page_cpu_s", 0.0)
            if "error_kind" in fields:
                failures.append(
                    _failure(item, "extract", fields["error_kind"], fields["error"], result.status)
                )
            else:
                articles.append(_article(item, result, fields, fetched_at))
        with _STATS_LOCK:
            EXTRACTION_STATS["pages"] += n_pages
            EXTRACTION_STATS["cpu_s"] += cpu_s
            EXTRACTION_STATS["page_cpu_s"] += page_cpu_s
    finally:
        # The pool may be shared: cancel only this call's jobs that have not started.
        for _result, _fetched_at, job in pending.values():
            job.cancel()
    return out
