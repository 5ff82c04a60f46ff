"""Fetch article pages and extract their text and metadata.

Extraction is the CPU-bound stage, so pages are handed to a process pool the
moment they arrive: network waits overlap with extraction instead of adding to it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from policy_news.http.client import FetchRequest, FetchResult, fetch_all
from policy_news.models import Article, ArticleFailure, FeedItem

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from policy_news.settings import Settings

log = logging.getLogger(__name__)

_WORDS = re.compile(r"\w+")
_LANG_CODE = re.compile(r"^[a-z]{2}$")
_HTML_LANG = re.compile(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2})", re.IGNORECASE)
_OLDEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
# Below this many parallel pages a pool costs more to start than it saves.
_POOL_THRESHOLD = 8
# A fast extraction shorter than this is redone with trafilatura's fallback extractors.
_FAST_MIN_CHARS = 1000
# Pages fetched but not yet extracted, per extraction worker. The network outpaces
# extraction; without a bound the backlog (~300 KB a page) grows with the run.
_BACKLOG_PER_WORKER = 4


def content_fingerprint(text: str) -> str:
    """Hash of the words only, so syndicated copies with other markup still match."""
    words = " ".join(_WORDS.findall(text.lower()))
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:24]


def _detect_language(text: str, html: bytes) -> str | None:
    if len(text) >= 40:
        import py3langid

        # 1,000 characters decide English vs Spanish as well as 3,000 (same labels on the
        # shared corpus) at less than half the CPU.
        code, _ = py3langid.classify(text[:1000])
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


# CPU seconds summed over the pages this process handed out, measured inside the
# workers: `cpu_s` is trafilatura's text and metadata extraction alone (the work that
# bounds throughput), `page_cpu_s` everything a worker does per page (extraction plus
# language, fingerprint and compressing the page for the archive).
EXTRACTION_STATS: dict[str, float] = {"pages": 0, "cpu_s": 0.0, "page_cpu_s": 0.0}


def extract_page(html: bytes, url: str) -> dict[str, Any]:
    """Run trafilatura on one page; returns plain fields (picklable for the pool).

    `extract_cpu_s` is the CPU time trafilatura took, `page_cpu_s` the whole call's
    (both in the thread that ran it).
    """
    started = time.thread_time()
    fields = _extract_page(html, url)
    fields["page_cpu_s"] = time.thread_time() - started
    return fields


def _bare_extraction(html: bytes, url: str, now: datetime, *, fast: bool) -> Any:
    import trafilatura

    return trafilatura.bare_extraction(
        html,
        url=url,
        fast=fast,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={
            "extensive_search": False,  # markup and URL only: never guess from body text
            "original_date": True,
            "outputformat": "%Y-%m-%dT%H:%M:%S",
            "max_date": now.strftime("%Y-%m-%d"),
        },
    )


def _extract_doc(html: bytes, url: str, now: datetime) -> Any:
    """trafilatura's document for the page, fast pass first.

    fast=True skips trafilatura's fallback extractors (readability, jusText), about a
    quarter of its CPU. They only matter when the main pass finds little text (on the
    shared corpus every page above _FAST_MIN_CHARS came out identical), so a short or
    empty result is redone with them; see docs/benchmarks.md.
    """
    doc = _bare_extraction(html, url, now, fast=True)
    if doc is None or len(getattr(doc, "text", None) or "") < _FAST_MIN_CHARS:
        doc = _bare_extraction(html, url, now, fast=False)
    return doc


def _extract_page(html: bytes, url: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    started = time.thread_time()
    try:
        doc = _extract_doc(html, url, now)
    except Exception as exc:  # lxml and friends raise on pathological markup
        return {
            "error_kind": "extract",
            "error": f"trafilatura failed: {exc!r}"[:500],
            "extract_cpu_s": time.thread_time() - started,
        }
    extract_cpu_s = time.thread_time() - started
    if doc is None or not getattr(doc, "text", None):
        return {
            "error_kind": "no_text",
            "error": "no article text found in the page",
            "extract_cpu_s": extract_cpu_s,
        }
    text = str(doc.text)
    return {
        "extract_cpu_s": extract_cpu_s,
        # level 1: a third of level 6's CPU for ~15% more bytes; the archive is cold data
        "raw_html_gz": gzip.compress(html, 1),
        "text": text,
        "title": doc.title,
        "author": doc.author,
        "site_name": doc.sitename,
        "language": _detect_language(text, html),
        "html_date": _parse_html_date(doc.date, now),
        "content_hash": content_fingerprint(text),  # here, so the worker pays for it
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
        content_hash=fields.get("content_hash") or content_fingerprint(text),
    )


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


def _thread_executor() -> ThreadPoolExecutor:
    """One extraction thread for small batches and `extract_workers` <= 1.

    Not inline: extraction runs in the event loop's callback otherwise, and a page that
    takes seconds to extract would stall every request in flight past its deadline.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")


def _warm_worker() -> None:
    """Pool initializer: import trafilatura and load the language model before pages arrive."""
    import py3langid
    import trafilatura  # noqa: F401

    py3langid.classify("warming up the language model")


class _SharedPool:
    """One extraction pool per process, kept while any `extraction_pool()` block is open.

    Starting a forkserver pool and importing trafilatura in its workers costs about a
    second of CPU per worker; a run that fetches many chunks, or several groups at once,
    pays it once instead of per chunk, and never runs more than `extract_workers`
    extraction processes however many callers share the pool.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.workers = 0
        self.users = 0
        self.pid = 0
        self.backlog = threading.BoundedSemaphore(1)

    def acquire(self, workers: int) -> ProcessPoolExecutor:
        with self.lock:
            if self.pid != os.getpid():  # inherited through fork: not ours to use or stop
                self.pool, self.users = None, 0
            elif self.pool is not None and getattr(self.pool, "_broken", False):
                # A worker died: its jobs already failed; start a fresh pool for new ones.
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            if self.pool is None:
                # forkserver: forking a process that runs an event loop and threads is unsafe.
                self.pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_warm_worker,
                )
                self.workers, self.pid = workers, os.getpid()
                self.backlog = threading.BoundedSemaphore(workers * _BACKLOG_PER_WORKER)
            self.users += 1
            return self.pool

    def release(self) -> None:
        with self.lock:
            self.users = max(0, self.users - 1)
            if self.users == 0 and self.pool is not None and self.pid == os.getpid():
                pool, self.pool = self.pool, None
                pool.shutdown(wait=True, cancel_futures=True)


_SHARED = _SharedPool()
_STATS_LOCK = threading.Lock()


def _started() -> None:
    """No-op job: submitting one makes the pool start a worker (which runs `_warm_worker`)."""


@contextlib.contextmanager
def extraction_pool(settings: Settings, *, start: bool = False) -> Iterator[Executor | None]:
    """Keep one process pool alive for every `fetch_articles` call inside the block.

    Nested and concurrent blocks (threads) share the same pool; it shuts down when the
    last block exits. Yields None when extraction runs in a thread (`extract_workers` <= 1).
    `start` launches the workers now instead of at the first page, so their imports run
    while the caller waits on the network (feeds) rather than competing with extraction.
    """
    if settings.extract_workers <= 1:
        yield None
        return
    pool = _SHARED.acquire(settings.extract_workers)
    if start:
        for _ in range(settings.extract_workers):  # each submit starts at most one worker
            pool.submit(_started)
    try:
        yield pool
    finally:
        _SHARED.release()


def _shared_pool_open() -> bool:
    with _SHARED.lock:
        return _SHARED.pool is not None and _SHARED.pid == os.getpid() and _SHARED.users > 0


def fetch_articles(
    items: Sequence[FeedItem],
    settings: Settings,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Article], list[ArticleFailure]]:
    """Fetch and extract a batch; every item ends as an article or a recorded failure."""
    by_id = {item.article_id: item for item in items}
    requests = [FetchRequest(url=i.url, kind="article", key=i.article_id) for i in by_id.values()]
    # An open extraction_pool() block is reused (no start-up per chunk); otherwise a
    # small batch gets one extraction thread, a larger one a pool for the call's duration.
    if settings.extract_workers <= 1 or (
        len(requests) < _POOL_THRESHOLD and not _shared_pool_open()
    ):
        backlog = threading.BoundedSemaphore(_BACKLOG_PER_WORKER)
        with _thread_executor() as thread:
            return _fetch_and_extract(by_id, requests, settings, thread, backlog, progress)
    with extraction_pool(settings) as pool:
        assert pool is not None
        return _fetch_and_extract(by_id, requests, settings, pool, _SHARED.backlog, progress)


def _fetch_and_extract(
    by_id: dict[str, FeedItem],
    requests: list[FetchRequest],
    settings: Settings,
    executor: Executor,
    backlog: threading.BoundedSemaphore,
    progress: Callable[[int, int], None] | None,
) -> tuple[list[Article], list[ArticleFailure]]:
    pending: dict[str, tuple[FetchResult, datetime, Future[dict[str, Any]]]] = {}
    failures: list[ArticleFailure] = []
    done = 0

    def on_result(result: FetchResult) -> None:
        nonlocal done
        done += 1
        item = by_id[result.request.key]
        if result.ok and result.body is not None:  # b"" too: extraction finds no text
            # Backpressure: blocks this fetch loop (no new reads) while the workers are
            # behind; other groups' loops and the workers carry on.
            backlog.acquire()
            try:
                job = executor.submit(extract_page, result.body, result.final_url)
            except BrokenExecutor as exc:
                # A worker died (OOM killer, crash at start-up): the pool takes no more
                # jobs. This page is recorded as failed (and retried by a later run); the
                # next chunk gets a fresh pool (`_SharedPool.acquire`).
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
        fetch_all(requests, settings, on_result=on_result)
        articles: list[Article] = []
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
    return articles, failures
