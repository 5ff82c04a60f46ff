"""A small real analyst database: the real migrations, then a few weeks of hand-made rows.

Latest data is in ISO week 2026-W06 (Mon 2 Feb 2026); rows reach back to December
2025 so exports span three months. Stories are summarised by the real code, as the
loader does: every migrated database has the story tables and views.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from policy_news.store.schema import migrate

NOW = datetime(2026, 2, 8, 12, tzinfo=UTC)
SCRIPT_TITLE = "<script>alert('x')</script> Sheriff signs 287(g) pact"

# id, title, url, published_at, fetched_at, relevant, duplicate_of
ARTICLES = [
    (
        "a1",
        "ICE arrests 120 in Texas sweep",
        "https://news.example.org/a1",
        datetime(2026, 2, 3, 9, tzinfo=UTC),
        datetime(2026, 2, 3, 10, tzinfo=UTC),
        True,
        None,
    ),
    (
        "a2",
        SCRIPT_TITLE,
        "javascript:alert(1)",
        datetime(2026, 2, 4, 9, tzinfo=UTC),
        datetime(2026, 2, 4, 10, tzinfo=UTC),
        True,
        None,
    ),
    (
        "a3",
        "Deportation flight leaves El Paso",
        "https://news.example.org/a3",
        datetime(2026, 1, 27, 9, tzinfo=UTC),
        datetime(2026, 1, 27, 10, tzinfo=UTC),
        True,
        None,
    ),
    (
        "a4",
        "Removals rose in early January",
        "https://news.example.org/a4",
        None,
        datetime(2026, 1, 5, 10, tzinfo=UTC),
        True,
        None,
    ),
    (
        "a5",
        "ICE arrests 120 in Texas sweep (wire copy)",
        "https://wire.example.org/a5",
        datetime(2026, 2, 3, 11, tzinfo=UTC),
        datetime(2026, 2, 3, 12, tzinfo=UTC),
        True,
        "a1",
    ),
    (
        "a6",
        "Mild weather expected",
        "https://news.example.org/a6",
        datetime(2026, 2, 5, 9, tzinfo=UTC),
        datetime(2026, 2, 5, 10, tzinfo=UTC),
        False,
        None,
    ),
    (
        "a7",
        "Year-end detention numbers",
        "https://news.example.org/a7",
        datetime(2025, 12, 30, 9, tzinfo=UTC),
        datetime(2025, 12, 30, 10, tzinfo=UTC),
        True,
        None,
    ),
]

# article_id, subtopic, taxonomy_version
TOPICS = [
    ("a1", "arrests_operations", "tx-1"),
    ("a2", "local_cooperation_287g", "tx-1"),
    ("a2", "arrests_operations", "tx-1"),
    ("a3", "removal_deportation", "tx-1"),
    ("a4", "removal_deportation", "tx-1"),
    ("a5", "arrests_operations", "tx-1"),
    ("a7", "detention", "tx-1"),
    ("a1", "retired_subtopic", "tx-0"),  # an old taxonomy version: never shown
]

COUNT_SENTENCE = "Agents arrested 120 people across Texas on Tuesday, ICE said."
SMALL_COUNT_SENTENCE = "Deputies will screen 15 people a week under the 287(g) pact."
PACT_SENTENCE = "The sheriff signed a 287(g) agreement with ICE in Florida."

# article_id, kind, value, normalized, sentence, attrs
FACTS = [
    ("a1", "agency", "ICE", "U.S. Immigration and Customs Enforcement", COUNT_SENTENCE, {}),
    ("a1", "place", "Texas", "Texas", COUNT_SENTENCE, {"level": "state"}),
    (
        "a1",
        "operation",
        "Operation Lone Star Sweep",
        "Operation Lone Star Sweep",
        COUNT_SENTENCE,
        {},
    ),
    (
        "a1",
        "count",
        "120",
        "120",
        COUNT_SENTENCE,
        {
            "counts": "arrests",
            "unit": "count",
            "agency": "U.S. Immigration and Customs Enforcement",
            "state": "Texas",
            "operation": "Operation Lone Star Sweep",
        },
    ),
    ("a2", "agency", "ICE", "U.S. Immigration and Customs Enforcement", PACT_SENTENCE, {}),
    ("a2", "program", "287(g)", "287(g) program", PACT_SENTENCE, {}),
    ("a2", "place", "Florida", "Florida", PACT_SENTENCE, {"level": "state"}),
    ("a2", "place", "Texas", "Texas", PACT_SENTENCE, {"level": "state"}),
    ("a2", "count", "15", "15", SMALL_COUNT_SENTENCE, {"counts": "people", "unit": "count"}),
    ("a3", "place", "Texas", "Texas", "A flight left El Paso, Texas.", {"level": "state"}),
    ("a3", "program", "287(g)", "287(g) program", "An old 287(g) mention.", {}),
    (
        "a3",
        "count",
        "900",
        "900",
        "ICE removed 900 people last week.",
        {"counts": "removals", "unit": "count"},
    ),
    ("a5", "count", "120", "120", COUNT_SENTENCE, {"counts": "arrests", "unit": "count"}),
]


def build_db(path: Path, *, stories: bool = True) -> Path:
    """Apply every migration in order, insert the rows above and (unless told not to) stories."""
    conn = duckdb.connect(str(path))
    migrate(conn)
    conn.execute(
        "INSERT INTO taxonomy_versions VALUES ('tx-0', $t, FALSE, '{}'), ('tx-1', $t, TRUE, '{}')",
        {"t": NOW},
    )
    conn.execute(
        "INSERT INTO feeds (feed_name, url, added_at, updated_at, last_success_at, "
        "last_new_item_at, consecutive_failures) VALUES "
        "('alpha', 'https://news.example.org/feed', $t, $t, $t, $t, 0), "
        "('beta', 'https://broken.example.org/feed', $t, $t, NULL, NULL, 2)",
        {"t": NOW},
    )
    conn.execute(
        "INSERT INTO feed_fetches (run_id, feed_name, feed_url, fetched_at, outcome, http_status, "
        "items_seen, items_new, error_kind, error) VALUES "
        "('r1', 'alpha', 'https://news.example.org/feed', $t, 'ok', 200, 5, 5, NULL, NULL), "
        "('r1', 'beta', 'https://broken.example.org/feed', $t, 'error', 503, 0, 0, 'http', 'HTTP 503')",
        {"t": NOW},
    )
    for article_id, title, url, published, fetched, relevant, duplicate_of in ARTICLES:
        conn.execute(
            "INSERT INTO articles (article_id, url, feed_name, title, text, published_at, "
            "date_source, fetched_at, duplicate_of, relevant, relevance_score, taxonomy_version, "
            "first_run_id, last_run_id, loaded_at) "
            "VALUES ($id, $url, 'alpha', $title, 'Body text.', $pub, $src, $fetched, $dup, $rel, "
            "0.9, 'tx-1', 'r1', 'r1', $t)",
            {
                "id": article_id,
                "url": url,
                "title": title,
                "pub": published,
                "src": "feed" if published else "unknown",
                "fetched": fetched,
                "dup": duplicate_of,
                "rel": relevant,
                "t": NOW,
            },
        )
        conn.execute(
            "INSERT INTO article_html VALUES ($id, $html, $t)",
            {"id": article_id, "html": b"<html>raw</html>", "t": fetched},
        )
    for article_id, subtopic, version in TOPICS:
        conn.execute(
            "INSERT INTO article_topics VALUES ($id, $s, $v, 0.8, 'Evidence sentence.', 'text', "
            "0, 10, 'rule-1')",
            {"id": article_id, "s": subtopic, "v": version},
        )
    for index, (article_id, kind, value, normalized, sentence, attrs) in enumerate(FACTS):
        conn.execute(
            "INSERT INTO article_facts VALUES ($id, 'tx-1', $i, $kind, $value, $norm, $sentence, "
            "'text', $i, $i + 3, 'fact-rule', $attrs)",
            {
                "id": article_id,
                "i": index,
                "kind": kind,
                "value": value,
                "norm": normalized,
                "sentence": sentence,
                "attrs": json.dumps(attrs),
            },
        )
    if stories:
        _add_stories(conn)
    conn.close()
    return path


def _add_stories(conn: duckdb.DuckDBPyConnection) -> None:
    """One story per relevant article, the wire copy in its original's, summarised by the real code."""
    from policy_news.stories.persistence import refresh_stories

    # Exact copies are near-duplicates too (similarity 1.0), as the loader marks them.
    conn.execute(
        "UPDATE articles SET near_duplicate_of = duplicate_of, duplicate_similarity = 1.0 "
        "WHERE duplicate_of IS NOT NULL"
    )
    conn.execute("UPDATE articles SET story_id = coalesce(duplicate_of, article_id) WHERE relevant")
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT story_id FROM articles WHERE story_id IS NOT NULL"
        ).fetchall()
    ]
    refresh_stories(conn, ids)


# Built once per session: the report and the export only ever open them read-only.
@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("db") / "policy_news.snapshot.duckdb")


@pytest.fixture(scope="session")
def snapshot_without_stories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same articles, loaded before any story was assigned."""
    return build_db(tmp_path_factory.mktemp("db") / "policy_news.snapshot.duckdb", stories=False)
