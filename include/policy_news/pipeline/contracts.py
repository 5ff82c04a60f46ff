"""What each stage takes and returns, declared once.

TypedDicts, so a value is a plain dict of paths and counts: XCom serialises it as is,
and the DAG, the CLI and the tests read the same keys. Records themselves never travel
here, only the Parquet files that hold them (see `policy_news.staging`). Import-light:
DAG files import these names for annotations.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class FeedBatch(TypedDict):
    """One mapped feed task's work: feeds of hosts no other batch polls."""

    index: int
    feed_names: list[str]


class Plan(TypedDict):
    run_dir: str
    feed_batches: list[FeedBatch]
    feeds_total: int
    feeds_due: int
    seconds: float


class FeedBatchResult(TypedDict):
    index: int
    feed_fetches: str
    feed_items: str
    feeds: int
    feeds_failed: int
    items: int
    seconds: float


class ItemBatch(TypedDict):
    """One mapped article task's work: new items of hosts no other batch fetches."""

    index: int
    items: str


class Selection(TypedDict):
    item_batches: list[ItemBatch]
    items_seen: int
    items_new: int
    retries: int
    pending: int  # taken from the backlog of earlier runs
    capped: int  # new items over their feed's cap, deferred
    deferred_items: str  # the capped items, staged for the loader
    pending_taken: str  # ids of the pending items looked at, staged for the loader
    seconds: float


class ArticleBatchResult(TypedDict):
    index: int
    articles: str
    article_html: str
    # absent from results of the code before the worker made them: the loader hashes then
    article_sketches: NotRequired[str]
    failures: str
    fetched: int
    failed: int
    deferred_items: str  # items the host breaker or the time budget left for later
    deferred: dict[str, int]  # per reason
    seconds: float


class TagBatchResult(TypedDict):
    index: int
    articles: str
    article_topics: str
    article_facts: str
    article_relevance: str
    tagged: int
    relevant: int
    taxonomy_version: str
    seconds: float


class RunStats(TypedDict):
    """Counts and stage timings of a run, as recorded in `pipeline_runs`."""

    feeds_total: int
    feeds_ok: int
    feeds_failed: int
    items_seen: int
    items_new: int
    articles_fetched: int
    articles_failed: int
    # Left for a later run, in total and per reason (feed_cap, host_breaker, budget).
    items_deferred: int
    deferred_reasons: dict[str, int]
    pending_taken: int
    timings: dict[str, float]
    # Known once the load ran (or a blocking check stopped it).
    articles_loaded: NotRequired[int]
    relevant_loaded: NotRequired[int]
    quarantined: NotRequired[int]
    checks_passed: NotRequired[int]
    checks_failed: NotRequired[int]
    trigger: NotRequired[str | None]


class Validation(TypedDict):
    """The checks' verdict: the rows that passed (one file per kind), quarantine, results."""

    validated: dict[str, str]
    html_files: list[str]
    quarantine: str
    dq_results: str
    quarantined: int
    checks_passed: int
    checks_failed: int
    warnings: list[str]
    blocking: list[str]
    seconds: float
    # Data Docs left for the caller to build (`build_docs`) while the run loads.
    docs_pending: NotRequired[bool]


class ValidatedRun(TypedDict):
    """What the loader needs: the checks' verdict and the run's stats so far."""

    validation: Validation
    stats: RunStats


class LoadResult(TypedDict):
    articles: int
    topics: int
    facts: int
    failures: int
    quarantined: int
    relevant: int
    # Near-duplicates and stories (docs/stories.md): copies found among the loaded
    # articles, relevant articles given a story, and how many of those started one.
    near_duplicates: int
    stories_assigned: int
    new_stories: int
    deferred: int
    snapshot: str
    db: str
    seconds: float


class RetagResult(TypedDict):
    taxonomy_version: str
    articles: int
    relevant: int
    topic_rows: int
    fact_rows: int
    relevance_rows: int
    deleted_rows: int
    stories: int  # after the rebuild (0 when the version was not made current)
