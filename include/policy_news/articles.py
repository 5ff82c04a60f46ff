"""Fetch article pages and extract their text and metadata.

Extraction is the CPU-bound stage, so pages are handed to a process pool the
moment they arrive: network waits overlap with extraction instead of adding to it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import multiprocessing
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from policy_news.http import FetchRequest, FetchResult, fetch_all
from policy_news.models import Article, ArticleFailure, FeedItem
from policy_news.settings import Settings

log = logging.getLogger(__name__)

_WORDS = re.compile(r"\w+")
_LANG_CODE = re.compile(r"^[a-z]{2}$")
_HTML_LANG = re.compile(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2})", re.IGNORECASE)
_OLDEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
# Below this many parallel pages a pool costs more to start than it saves.
_POOL_THRESHOLD = 8


def content_fingerprint(text: str) -> str:
    """Hash of the words only, so syndicated copies with other markup still match."""
    words = " ".join(_WORDS.findall(text.lower()))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:24]


def _detect_language(text: str, html: bytes) -> str | None:
    if len(text) >= 40:
        import py3langid

        code, _ = py3langid.classify(text[:3000])
        return str(code)
    match = _HTML_LANG.search(html[:20000])
    return match.group(1).decode().lower() if match else None


def _parse_html_date(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if not _OLDEST_PLAUSIBLE <= when <= now + timedelta(days=1):
        return None
    return when.astimezone(UTC)


def extract_page(html: bytes, url: str) -> dict[str, Any]:
    """Run trafilatura on one page; returns plain fields (picklable for the pool)."""
    import trafilatura

    now = datetime.now(UTC)
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            date_extraction_params={
                "extensive_search": False,  # markup and URL only: never guess from body text
                "original_date": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S",
                "max_date": now.strftime("%Y-%m-%d"),
            },
        )
    except Exception as exc:  # lxml and friends raise on pathological markup
        return {"error_kind": "extract", "error": f"trafilatura failed: {exc!r}"[:500]}
    if doc is None or not getattr(doc, "text", None):
        return {"error_kind": "no_text", "error": "no article text found in the page"}
    text = str(doc.text)
    return {
        "raw_html_gz": gzip.compress(html, 6),
        "text": text,
        "title": doc.title,
        "author": doc.author,
        "site_name": doc.sitename,
        "language": _detect_language(text, html),
        "html_date": _parse_html_date(doc.date, now),
    }


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
        content_hash=content_fingerprint(text),
    )


def _failure(item: FeedItem, stage: str, kind: str, error: str, status: int | None) -> ArticleFailure:
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


class _InlineExecutor(Executor):
    """Runs jobs at submit time: the same interface as the pool for small batches."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _executor(settings: Settings, n_items: int) -> Executor:
    if settings.extract_workers <= 1 or n_items < _POOL_THRESHOLD:
        return _InlineExecutor()
    # forkserver: forking a process that runs an event loop and threads is unsafe.
    return ProcessPoolExecutor(
        max_workers=settings.extract_workers, mp_context=multiprocessing.get_context("forkserver")
    )


def fetch_articles(
    items: Sequence[FeedItem],
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Article], list[ArticleFailure]]:
    """Fetch and extract a batch; every item ends as an article or a recorded failure."""
    by_id = {item.article_id: item for item in items}
    requests = [FetchRequest(url=i.url, kind="article", key=i.article_id) for i in by_id.values()]
    pending: dict[str, tuple[FetchResult, datetime, Future[dict[str, Any]]]] = {}
    failures: list[ArticleFailure] = []
    done = 0
    executor = _executor(settings, len(requests))

    def on_result(result: FetchResult) -> None:
        nonlocal done
        done += 1
        item = by_id[result.request.key]
        if result.ok and result.body:
            job = executor.submit(extract_page, result.body, result.final_url)
            result.body = None  # the worker has it; holding it here would double peak memory
            pending[item.article_id] = (result, datetime.now(UTC), job)
        else:
            failures.append(
                _failure(
                    item, "fetch", result.error_kind or "other", result.error or "no body", result.status
                )
            )
        if progress:
            progress(done, len(requests))

    try:
        fetch_all(requests, settings, on_result=on_result)
        articles: list[Article] = []
        for article_id, (result, fetched_at, job) in pending.items():
            item = by_id[article_id]
            try:
                fields = job.result()
            except Exception as exc:  # a crashed worker loses one page, not the batch
                fields = {"error_kind": "extract", "error": f"extraction crashed: {exc!r}"[:500]}
            if "error_kind" in fields:
                failures.append(
                    _failure(item, "extract", fields["error_kind"], fields["error"], result.status)
                )
            else:
                articles.append(_article(item, result, fields, fetched_at))
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return articles, failures
