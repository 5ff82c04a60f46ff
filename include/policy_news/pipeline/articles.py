"""Stage 4: fetch and extract one batch of new items (mapped over the item batches)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from policy_news import staging
from policy_news.pipeline.partition import chunks
from policy_news.pipeline.run_folder import batch_file, read_manifest

if TYPE_CHECKING:
    from policy_news.http.limits import FetchLimits
    from policy_news.pipeline.contracts import ArticleBatchResult, ItemBatch
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath

Progress = Callable[[str], None]

log = logging.getLogger(__name__)


def article_limits(manifest: dict[str, Any], settings: Settings) -> FetchLimits:
    """The breaker and the stage's deadline: `article_budget_s` after the run started.

    Measured from the plan's `started_at`, so every mapped task of a run (and the CLI's
    concurrent batches) stops at the same moment, however late each one started.
    """
    from policy_news.http.limits import FetchLimits

    started_at = datetime.fromisoformat(manifest["started_at"])
    spent = (datetime.now(UTC) - started_at).total_seconds()
    return FetchLimits.with_budget(
        settings.host_breaker_failures, settings.article_budget_s - max(spent, 0.0)
    )


def fetch_article_batch(
    run_dir: StagedPath, batch: ItemBatch, settings: Settings, progress: Progress | None = None
) -> ArticleBatchResult:
    """Fetch and extract one task's items in chunks, streaming results to Parquet.

    Chunks bound memory (pages in flight, extracted texts) whatever the run's size. Items
    the host breaker or the time budget stop are staged as deferred, not failed.
    """
    from policy_news.extract.articles import extraction_pool, fetch_articles_within
    from policy_news.http.limits import BUDGET
    from policy_news.models import FeedItem
    from policy_news.pipeline.memory import tune_allocators
    from policy_news.pipeline.selection import deferred_rows

    tune_allocators()
    started = time.perf_counter()
    index = batch["index"]
    limits = article_limits(read_manifest(run_dir), settings)
    rows = staging.read("feed_items", [batch["items"]]).to_pylist()
    articles_path = batch_file(run_dir, "articles", index)
    failures_path = batch_file(run_dir, "failures", index)
    html_path = batch_file(run_dir, "html", index)
    sketches_path = batch_file(run_dir, "sketches", index)
    deferred_path = batch_file(run_dir, "deferred", index)
    fetched = failed = 0
    deferred: dict[str, int] = {}
    with (
        extraction_pool(settings),  # one pool for every chunk, shared with concurrent batches
        staging.StreamWriter("articles", articles_path) as articles_out,
        staging.StreamWriter("article_html", html_path) as html_out,
        staging.StreamWriter("article_sketches", sketches_path) as sketches_out,
        staging.StreamWriter("failures", failures_path) as failures_out,
        staging.StreamWriter("deferred_items", deferred_path) as deferred_out,
    ):
        for chunk in chunks(rows, settings.article_batch_size):
            if limits.out_of_time():  # the rest waits for the next run, unrequested
                left = staging.to_table("feed_items", chunk)
                deferred_out.write_table(deferred_rows(left, BUDGET))
                deferred[BUDGET] = deferred.get(BUDGET, 0) + left.num_rows
                continue
            outcome = fetch_articles_within([FeedItem(**row) for row in chunk], settings, limits)
            articles, failures = outcome.articles, outcome.failures
            html_out.write(
                {
                    "article_id": a.article_id,
                    "url": a.final_url or a.url,
                    "fetched_at": a.fetched_at,
                    "raw_html_gz": a.raw_html_gz,
                }
                for a in articles
            )
            sketches_out.write(a for a in articles if a.shingle_sketch is not None)
            articles_out.write(articles)
            failures_out.write(failures)
            deferred_out.write(
                {**asdict(item), "deferred_reason": why} for item, why in outcome.deferred
            )
            for _item, why in outcome.deferred:
                deferred[why] = deferred.get(why, 0) + 1
            fetched += len(articles)
            failed += len(failures)
            if progress:
                progress(
                    f"  articles: {fetched} extracted, {failed} failed, "
                    f"{sum(deferred.values())} deferred of {len(rows)} in batch {index}"
                )
    if deferred:
        log.warning(
            "batch %d deferred %s to a later run (hosts skipped: %s)",
            index,
            deferred,
            sorted(limits.open_hosts) or "none",
        )
    return {
        "index": index,
        "articles": str(articles_path),
        "article_html": str(html_path),
        "article_sketches": str(sketches_path),
        "failures": str(failures_path),
        "fetched": fetched,
        "failed": failed,
        "deferred_items": str(deferred_path),
        "deferred": deferred,
        "seconds": round(time.perf_counter() - started, 3),
    }
