"""Records that pass between stages.

Plain dataclasses: cheap to build by the thousand and trivially turned into
Arrow rows (`dataclasses.asdict`). Column names match the DuckDB tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

DATE_SOURCES: tuple[str, ...] = ("feed", "html", "unknown")


@dataclass
class FeedState:
    """What we remember about a feed between runs (from the `feeds` table)."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class FeedFetch:
    """One attempt to fetch one feed (a row of `feed_fetches`)."""

    run_id: str
    feed_name: str
    feed_url: str
    fetched_at: datetime
    outcome: str
    http_status: int | None = None
    bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    items_seen: int = 0
    items_new: int = 0
    error_kind: str | None = None
    error: str | None = None
    duration_ms: int = 0


@dataclass
class FeedItem:
    """An entry of a parsed feed, keyed by its normalised URL."""

    article_id: str
    url: str
    original_url: str
    feed_name: str
    title: str
    summary: str
    published_at: datetime | None
    guid: str | None = None


@dataclass
class Article:
    """A fetched and extracted article (a row of `articles`, before tagging)."""

    article_id: str
    url: str
    final_url: str
    feed_name: str
    title: str
    summary: str
    text: str
    author: str | None
    site_name: str | None
    language: str | None
    published_at: datetime | None
    date_source: str
    fetched_at: datetime
    http_status: int | None
    raw_html_gz: bytes | None
    content_hash: str | None
    # ok | too_short | metadata_only: see extract.page.EXTRACTION_STATUSES
    extraction_status: str = "ok"
    relevant: bool = False
    relevance_score: float = 0.0
    taxonomy_version: str | None = None
    # The tagger's calibrated probability of relevance (None without a calibration) and
    # whether it falls in the taxonomy's borderline band (see TagResult).
    relevance_probability: float | None = None
    needs_review: bool = False
    # The text's MinHash values (stories.sketches, little-endian uint32) made by the
    # extraction worker, staged as `article_sketches` for the loader's story checks.
    shingle_sketch: bytes | None = None
    word_sketch: bytes | None = None
    shingle_count: int | None = None


@dataclass
class ArticleFailure:
    """An article that could not be fetched or extracted, kept so later runs retry it."""

    article_id: str
    url: str
    feed_name: str
    title: str
    summary: str
    feed_published_at: datetime | None
    stage: str
    error_kind: str
    error: str
    http_status: int | None
    failed_at: datetime


@dataclass(frozen=True)
class Evidence:
    """Why a tag or fact exists: the sentence and where it sits in `field`."""

    sentence: str
    start: int
    end: int
    rule_id: str
    field: str = "text"


@dataclass
class SubtopicTag:
    id: str
    score: float
    evidence: Evidence


@dataclass
class Fact:
    """An agency, program, place or count found in a relevant article."""

    kind: str
    value: str
    normalized: str
    evidence: Evidence
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class TagResult:
    relevant: bool
    score: float
    subtopics: list[SubtopicTag]
    facts: list[Fact]
    taxonomy_version: str
    relevance_evidence: Evidence | None = None
    # Estimated probability that the item is relevant (the taxonomy's calibration applied
    # to `score`); None when the taxonomy has no calibration.
    probability: float | None = None
    # The probability falls in the taxonomy's borderline band: worth a human look.
    needs_review: bool = False
