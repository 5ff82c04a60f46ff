"""Canned batches for the data-quality tests: a clean template run and the bad records.

A clean batch is built here; the bad records live in tests/fixtures/dq/*.json, each
marked with the check that must catch it (`_expect`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from policy_news.store.schema import migrate

if TYPE_CHECKING:
    from policy_news.quality.checks import ValidationReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dq"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TAXONOMY = {"worksite_raids", "detention", "deportation", "border_enforcement"}
RUN = "manual__2025-06-01T12:00:00+00:00"

TEXT = (
    "Immigration and Customs Enforcement agents detained dozens of workers on Tuesday "
    "during a raid at a meatpacking plant in northern Texas, according to lawyers for "
    "the families. Local officials said the operation lasted most of the day and that "
    "buses left the site in the evening."
)
assert len(TEXT) > 250


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def article_row(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": f"clean-{i:02d}",
        "url": f"https://news.example.org/2025/05/31/story-{i}",
        "final_url": f"https://news.example.org/2025/05/31/story-{i}",
        "feed_name": "border-wire",
        "title": f"ICE operation number {i} in Texas",
        "summary": "Agents detained workers at a plant.",
        "text": TEXT,
        "author": "Staff",
        "site_name": "Example News",
        "language": "en",
        "published_at": NOW - timedelta(hours=20 + i),
        "date_source": "feed",
        "fetched_at": NOW - timedelta(minutes=5),
        "http_status": 200,
        "raw_html_gz": b"\x1f\x8b fake gzip",
        "content_hash": f"hash-{i}",
        "relevant": True,
        "relevance_score": 0.9,
        "taxonomy_version": "t1",
    }
    row.update(overrides)
    return row


def fetch_row(feed_name: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "run_id": RUN,
        "feed_name": feed_name,
        "feed_url": f"https://{feed_name}.example.org/rss",
        "fetched_at": NOW - timedelta(minutes=10),
        "outcome": "ok",
        "http_status": 200,
        "bytes": 1000,
        "etag": None,
        "last_modified": None,
        "body_hash": None,
        "items_seen": 10,
        "items_new": 2,
        "error_kind": None,
        "error": None,
        "duration_ms": 120,
    }
    row.update(overrides)
    return row


def item_row(article: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article["article_id"],
        "url": article["url"],
        "original_url": article["url"] + "?utm_source=rss",
        "feed_name": article["feed_name"],
        "title": article["title"],
        "summary": article["summary"],
        "published_at": article["published_at"],
        "guid": article["url"],
    }
    row.update(overrides)
    return row


def topic_row(article_id: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article_id,
        "subtopic": "worksite_raids",
        "taxonomy_version": "t1",
        "score": 0.8,
        "evidence": TEXT[:120],
        "field": "text",
        "start_offset": 0,
        "end_offset": 120,
        "rule_id": "raid-1",
    }
    row.update(overrides)
    return row


def fact_row(article_id: str, index: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "article_id": article_id,
        "taxonomy_version": "t1",
        "fact_index": index,
        "kind": "count",
        "value": "dozens",
        "normalized": "24",
        "sentence": TEXT[:120],
        "field": "text",
        "start_offset": 60,
        "end_offset": 90,
        "rule_id": "count-1",
        "attrs": "{}",
    }
    row.update(overrides)
    return row


def relevance_row(article_id: str) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "taxonomy_version": "t1",
        "relevant": True,
        "relevance_score": 0.9,
        "evidence": TEXT[:80],
        "rule_id": "rel-ice",
        "tagged_at": NOW,
    }


def to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ("published_at", "fetched_at", "tagged_at", "failed_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def clean_rows(n: int = 12) -> dict[str, list[dict[str, Any]]]:
    articles = [article_row(i) for i in range(n)]
    return {
        "feed_fetches": [fetch_row(f) for f in ("border-wire", "capitol-desk", "valley-courier")]
        + [fetch_row("gulf-coast-daily", outcome="not_modified", http_status=304, items_new=0)],
        "feed_items": [item_row(a) for a in articles],
        "articles": articles,
        "failures": [],
        "article_topics": [topic_row(a["article_id"]) for a in articles],
        "article_facts": [fact_row(a["article_id"], 0) for a in articles],
        "article_relevance": [relevance_row(a["article_id"]) for a in articles],
    }


def frames_of(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    return {name: to_frame(r) for name, r in rows.items()}


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def bad_rows() -> dict[str, list[dict[str, Any]]]:
    """The clean batch plus every bad fixture record."""
    rows = clean_rows()
    template = article_row(99)
    for record in load_fixture("bad_articles.json")["articles"]:
        rows["articles"].append({**template, **_strip(record)})
        if record["article_id"] in ("bad-empty-text", "bad-language"):
            rows["article_topics"].append(
                topic_row(record["article_id"], start_offset=0, end_offset=10)
            )
    for record in load_fixture("bad_feed_items.json")["feed_items"]:
        rows["feed_items"].append({**item_row(template), **_strip(record)})
    tags = load_fixture("bad_tags.json")
    for record in tags["article_topics"]:
        rows["article_topics"].append({**topic_row(record["article_id"]), **_strip(record)})
    for record in tags["article_facts"]:
        base = fact_row(record["article_id"], record["fact_index"])
        rows["article_facts"].append({**base, **_strip(record)})
    # the first dup-raid copy, reached through the feed (the fixture holds the second)
    rows["articles"].insert(
        3,
        article_row(
            50,
            article_id="dup-raid",
            url="https://news.example.org/2025/05/31/worksite-raid",
            title="Worksite raid at meatpacking plant",
        ),
    )
    return rows


def expected_quarantine() -> set[tuple[str, str, str]]:
    """(stage, record id, check) for every `_expect` in the fixtures."""
    out: set[tuple[str, str, str]] = set()
    for name, stage_key in (
        ("bad_articles.json", "articles"),
        ("bad_feed_items.json", "feed_items"),
    ):
        for record in load_fixture(name)[stage_key]:
            for check in _as_list(record.get("_expect")):
                out.add((stage_key, record["article_id"], check))
    tags = load_fixture("bad_tags.json")
    for stage in ("article_topics", "article_facts"):
        for record in tags[stage]:
            for check in _as_list(record.get("_expect")):
                out.add((stage, record["article_id"], check))
    return out


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _record_id(stage: str, record_key: str) -> str:
    """The article id inside a quarantine record key (feed_items keys are feed|id)."""
    parts = record_key.split("#")[0].split("|")
    return parts[1] if stage == "feed_items" else parts[0]


def quarantined(report: ValidationReport) -> set[tuple[str, str, str]]:
    return {
        (row.stage, _record_id(row.stage, row.record_key), row.check_name)
        for row in report.quarantine.itertuples()
    }


def result(report: ValidationReport, suite: str, check: str) -> pd.Series:
    rows = report.results[(report.results.suite == suite) & (report.results.check_name == check)]
    assert len(rows) == 1, f"{suite}.{check}: {len(rows)} result rows"
    return rows.iloc[0]


def db_with_schema() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with every migration applied by the real migration code."""
    conn = duckdb.connect()
    migrate(conn)
    return conn
