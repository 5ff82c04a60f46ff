"""Builders for the store tests: one feed, articles, fetches and a whole run to load."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from policy_news import staging
from policy_news.models import Article, ArticleFailure, FeedFetch, FeedItem
from policy_news.sources.registry import FeedConfig
from policy_news.store import connection, loader

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
FEED = FeedConfig(name="fixture", url="https://news.example.org/feed.rss")
TAXONOMY_VERSION = "test-1"
DEFAULT_TEXT = "Deportation flight story. " * 20
COUNTED_TABLES = (
    "articles",
    "article_topics",
    "article_relevance",
    "feed_fetches",
    "article_feeds",
    "html_archive",
    "pipeline_runs",
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Where a test's database goes; `connection.open_db` creates and migrates it."""
    return tmp_path / "store.duckdb"


def article(article_id: str, text: str = DEFAULT_TEXT) -> Article:
    """A relevant article from FEED; the same text gives the same content hash."""
    return Article(
        article_id=article_id,
        url=f"https://news.example.org/{article_id}",
        final_url="",
        feed_name=FEED.name,
        title=f"title {article_id}",
        summary="",
        text=text,
        author=None,
        site_name=None,
        language="en",
        published_at=None,
        date_source="unknown",
        fetched_at=NOW,
        http_status=200,
        raw_html_gz=b"x",
        content_hash=f"hash-{text[:10]}",
        relevant=True,
        relevance_score=0.9,
        taxonomy_version=TAXONOMY_VERSION,
    )


def fetch(
    run_id: str, status: int | None = 200, outcome: str = "ok", kind: str | None = None
) -> FeedFetch:
    """FEED fetched in `run_id` at NOW; a non-"ok" outcome carries an HTTP error."""
    return FeedFetch(
        run_id=run_id,
        feed_name=FEED.name,
        feed_url=FEED.url,
        fetched_at=NOW,
        outcome=outcome,
        http_status=status,
        error_kind=kind,
        error=None if outcome == "ok" else f"HTTP {status}",
    )


def failure(article_id: str) -> ArticleFailure:
    """An article of FEED whose page fetch timed out at NOW."""
    return ArticleFailure(
        article_id=article_id,
        url=f"https://news.example.org/{article_id}",
        feed_name=FEED.name,
        title="t",
        summary="",
        feed_published_at=None,
        stage="fetch",
        error_kind="timeout",
        error="read timed out",
        http_status=None,
        failed_at=NOW,
    )


def load_input(
    run_id: str,
    articles: list[Article],
    fetches: list[FeedFetch] | None = None,
    failures: list[ArticleFailure] | None = None,
    quarantine: list[dict[str, Any]] | None = None,
) -> loader.LoadInput:
    """A whole run for `loader.load_run`: each article tagged removal_deportation."""
    items = [
        FeedItem(
            article_id=a.article_id,
            url=a.url,
            original_url=a.url,
            feed_name=FEED.name,
            title=a.title,
            summary="",
            published_at=None,
        )
        for a in articles
    ]
    topics = [
        {
            "article_id": a.article_id,
            "subtopic": "removal_deportation",
            "taxonomy_version": TAXONOMY_VERSION,
            "score": 0.8,
            "evidence": "Deportation flight story.",
            "field": "text",
            "start_offset": 0,
            "end_offset": 25,
            "rule_id": "r1",
        }
        for a in articles
    ]
    relevance = [
        {
            "article_id": a.article_id,
            "taxonomy_version": TAXONOMY_VERSION,
            "relevant": True,
            "relevance_score": 0.9,
            "evidence": "x",
            "rule_id": "r1",
            "tagged_at": NOW,
        }
        for a in articles
    ]
    tables = {
        "feed_fetches": staging.to_table("feed_fetches", fetches or [fetch(run_id)]),
        "feed_items": staging.to_table("feed_items", items),
        "articles": staging.to_table("articles", articles),
        "failures": staging.to_table("failures", failures or []),
        "article_topics": staging.to_table("article_topics", topics),
        "article_facts": staging.to_table("article_facts", []),
        "article_relevance": staging.to_table("article_relevance", relevance),
        "quarantine": quarantine_table(quarantine or []),
        "dq_results": pa.table({"run_id": pa.array([], pa.string())}),
    }
    return loader.LoadInput(
        run_id=run_id,
        started_at=NOW,
        feeds=[FEED],
        tables=tables,
        taxonomy_version=TAXONOMY_VERSION,
        taxonomy_definition={"version": TAXONOMY_VERSION},
        run_stats={"articles_loaded": len(articles)},
    )


def row_counts(db: Path) -> dict[str, int]:
    """Rows in each table a load writes."""
    with connection.open_db(db, read_only=True) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in COUNTED_TABLES
        }


def quarantine_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Quarantine rows as the validate stage stages them."""
    import pandas as pd

    from policy_news.quality.verdicts import QUARANTINE_COLUMNS, typed_quarantine

    frame = typed_quarantine(pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS)))
    return pa.Table.from_pandas(frame, preserve_index=False)
