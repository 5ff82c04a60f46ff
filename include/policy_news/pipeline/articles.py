"""Stage 4: fetch and extract one batch of new items (mapped over the item batches)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from policy_news import staging
from policy_news.pipeline.partition import chunks
from policy_news.pipeline.run_folder import batch_file

if TYPE_CHECKING:
    from policy_news.pipeline.contracts import ArticleBatchResult, ItemBatch
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath

Progress = Callable[[str], None]


def fetch_article_batch(
    run_dir: StagedPath, batch: ItemBatch, settings: Settings, progress: Progress | None = None
) -> ArticleBatchResult:
    """Fetch and extract one task's items in chunks, streaming results to Parquet.

    Chunks bound memory (pages in flight, extracted texts) whatever the run's size.
    """
    from policy_news.extract.articles import extraction_pool, fetch_articles
    from policy_news.models import FeedItem
    from policy_news.pipeline.memory import tune_allocators

    tune_allocators()
    started = time.perf_counter()
    index = batch["index"]
    rows = staging.read("feed_items", [batch["items"]]).to_pylist()
    articles_path = batch_file(run_dir, "articles", index)
    failures_path = batch_file(run_dir, "failures", index)
    html_path = batch_file(run_dir, "html", index)
    fetched = failed = 0
    with (
        extraction_pool(settings),  # one pool for every chunk, shared with concurrent batches
        staging.StreamWriter("articles", articles_path) as articles_out,
        staging.StreamWriter("article_html", html_path) as html_out,
        staging.StreamWriter("failures", failures_path) as failures_out,
    ):
        for chunk in chunks(rows, settings.article_batch_size):
            articles, failures = fetch_articles([FeedItem(**row) for row in chunk], settings)
            html_out.write(
                {
                    "article_id": a.article_id,
                    "url": a.final_url or a.url,
                    "fetched_at": a.fetched_at,
                    "raw_html_gz": a.raw_html_gz,
                }
                for a in articles
            )
            articles_out.write(articles)
            failures_out.write(failures)
            fetched += len(articles)
            failed += len(failures)
            if progress:
                progress(
                    f"  articles: {fetched} extracted, {failed} failed of {len(rows)} "
                    f"in batch {index}"
                )
    return {
        "index": index,
        "articles": str(articles_path),
        "article_html": str(html_path),
        "failures": str(failures_path),
        "fetched": fetched,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 3),
    }
