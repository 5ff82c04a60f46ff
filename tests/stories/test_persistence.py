"""Migration 006 on a real DuckDB file, the loader entry points and the story views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from policy_news.stories.persistence import (
    load_signature_window,
    rebuild_all_stories,
    story_members,
    update_near_duplicates,
    update_stories,
)
from policy_news.stories.synthetic import rewrite

VERSION = "tax-1"


@pytest.fixture
def conn(migrated_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(migrated_db))
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(
        "INSERT INTO taxonomy_versions VALUES (?, now(), TRUE, NULL), ('old', now(), FALSE, NULL)",
        [VERSION],
    )
    yield connection
    connection.close()


def _insert_article(conn, article_id, outlet, title, text, day, minute, content_hash=None):
    fetched = datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=9, minutes=minute)
    conn.execute(
        "INSERT INTO articles (article_id, url, feed_name, site_name, title, text, published_at, "
        "date_source, fetched_at, content_hash, relevant, relevance_score, taxonomy_version, "
        "first_run_id, last_run_id, loaded_at) "
        "VALUES (?, ?, 'feed', ?, ?, ?, ?, 'feed', ?, ?, TRUE, 1, ?, 'r', 'r', now())",
        [
            article_id,
            f"https://example.test/{article_id}",
            outlet,
            title,
            text,
            fetched - timedelta(hours=1),
            fetched,
            content_hash or f"h-{article_id}",
            VERSION,
        ],
    )


def _fact(conn, article_id, index, kind, normalized, attrs=None, version=VERSION):
    conn.execute(
        "INSERT INTO article_facts VALUES (?, ?, ?, ?, ?, ?, ?, 'text', 0, 1, 'rule', ?)",
        [
            article_id,
            version,
            index,
            kind,
            normalized,
            normalized,
            f"sentence {index}",
            json.dumps(attrs) if attrs else None,
        ],
    )


def _topic(conn, article_id, subtopic):
    conn.execute(
        "INSERT INTO article_topics VALUES (?, ?, ?, 1, 'evidence', 'text', 0, 1, 'rule')",
        [article_id, subtopic, VERSION],
    )


def _load_fixture(conn, fixture_articles):
    """a1 and a2 (one raid), a wire copy of a1 at a third outlet, and b1 (another event)."""
    a1, a2, b1 = (fixture_articles[k] for k in ("a1", "a2", "b1"))
    copy = rewrite("a1", a1["title"], a1["text"], 4)
    rows = [
        ("a1", "Valley Courier", a1["title"], a1["text"], a1["day"], 0),
        ("a2", "Coastline Public Radio", a2["title"], a2["text"], a2["day"], 5),
        ("a1-copy", "Harbor Herald", copy.title, copy.text, a1["day"], 30),
        ("b1", "Prairie Ledger", b1["title"], b1["text"], b1["day"], 0),
    ]
    for row in rows:
        _insert_article(conn, *row)
    for article_id, number in (("a1", "14"), ("a1-copy", "14"), ("a2", "15")):
        _fact(conn, article_id, 0, "count", number, {"counts": "arrests", "unit": "people"})
        _fact(conn, article_id, 1, "place", "Oregon", {"level": "state"})
        _fact(conn, article_id, 2, "operation", "Operation Low Tide")
        _fact(conn, article_id, 3, "place", "Millbrook", {"level": "city", "state": "Oregon"})
        _topic(conn, article_id, "arrests_raids")
    _fact(conn, "a1", 4, "count", "99", {"counts": "arrests"}, version="old")  # not current
    _fact(conn, "b1", 0, "place", "Kansas", {"level": "state"})
    _fact(conn, "b1", 1, "agency", "ICE")
    _topic(conn, "b1", "287g_local_cooperation")
    return [r[0] for r in rows]


def test_migration_adds_columns_and_tables(conn):
    columns = {r[0] for r in conn.execute("DESCRIBE articles").fetchall()}
    assert {"near_duplicate_of", "duplicate_similarity", "story_id"} <= columns
    assert conn.execute("SELECT count(*) FROM stories").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM article_signatures").fetchone() == (0,)


def test_load_marks_the_copy_and_groups_the_event(conn, fixture_articles):
    ids = _load_fixture(conn, fixture_articles)
    assert update_near_duplicates(conn, ids) == 1
    row = conn.execute(
        "SELECT near_duplicate_of, duplicate_similarity FROM articles WHERE article_id = 'a1-copy'"
    ).fetchone()
    assert row[0] == "a1" and 0.5 < row[1] < 1.0
    update = update_stories(conn, ids)
    assert (update.stories_assigned, update.new_stories) == (4, 2)
    assert story_members(conn) == {"a1": ["a1", "a2", "a1-copy"], "b1": ["b1"]}
    story = conn.execute(
        "SELECT first_seen, title, articles, independent_articles, outlets, states, places, "
        "operations, subtopics FROM stories WHERE story_id = 'a1'"
    ).fetchone()
    assert story == (
        date(2026, 3, 2),
        fixture_articles["a1"]["title"],
        3,
        2,
        ["Coastline Public Radio", "Harbor Herald", "Valley Courier"],
        ["Oregon"],
        ["Millbrook"],
        ["Operation Low Tide"],
        ["arrests_raids"],
    )


def test_signatures_are_stored_and_read_back_for_the_window(conn, fixture_articles):
    ids = _load_fixture(conn, fixture_articles)
    update_near_duplicates(conn, ids)
    window = {s.article_id: s for s in load_signature_window(conn, date(2026, 3, 1))}
    assert set(window) == set(ids)
    assert window["a1-copy"].canonical_id == "a1"
    assert load_signature_window(conn, date(2026, 3, 3)) and "a1" not in {
        s.article_id for s in load_signature_window(conn, date(2026, 3, 3))
    }


def test_second_load_joins_existing_story_without_renaming_it(conn, fixture_articles):
    ids = _load_fixture(conn, fixture_articles)
    update_near_duplicates(conn, ids)
    update_stories(conn, ids)
    e1, e2 = fixture_articles["e1"], fixture_articles["e2"]
    a2_copy = rewrite("a2", "t", fixture_articles["a2"]["text"], 2)
    _insert_article(conn, "e1", "Lakeshore Times", e1["title"], e1["text"], e1["day"], 0)
    _insert_article(conn, "e2", "Grantsville Gazette", e2["title"], e2["text"], e2["day"], 0)
    _insert_article(conn, "a2-late", "Coast Weekly", "Raid", a2_copy.text, "2026-03-04", 0)
    later = ["e1", "e2", "a2-late"]
    update_near_duplicates(conn, later)
    update_stories(conn, later)
    members = story_members(conn)
    assert members["a1"] == ["a1", "a2", "a1-copy", "a2-late"]
    assert members["e1"] == ["e1", "e2"]
    incremental = members
    rebuild_all_stories(conn)
    assert story_members(conn) == incremental
    assert conn.execute("SELECT count(*) FROM stories").fetchone() == (3,)


def test_story_views_count_each_event_once(conn, fixture_articles):
    ids = _load_fixture(conn, fixture_articles)
    update_near_duplicates(conn, ids)
    update_stories(conn, ids)
    daily = conn.execute(
        "SELECT day, subtopic, stories, articles, outlets FROM stories_daily_by_subtopic ORDER BY ALL"
    ).fetchall()
    assert daily == [
        (date(2026, 3, 2), "arrests_raids", 1, 2, 3),
        (date(2026, 3, 3), "287g_local_cooperation", 1, 1, 1),
    ]
    states = conn.execute(
        "SELECT state, stories, articles FROM stories_by_state ORDER BY ALL"
    ).fetchall()
    assert states == [("Kansas", 1, 1), ("Oregon", 1, 2)]
    counts = conn.execute(
        "SELECT story_id, counts, unit, number, max_number, outlets_agree, outlets, "
        "numbers_reported, independent_reports FROM story_counts"
    ).fetchall()
    # 14 reported by two outlets (one a wire copy) beats 15 from one; the old version's 99 is ignored
    assert counts == [
        (
            "a1",
            "arrests",
            "people",
            14.0,
            15.0,
            False,
            ["Coastline Public Radio", "Harbor Herald", "Valley Courier"],
            [14.0, 15.0],
            2,
        )
    ]


def test_non_relevant_articles_stay_out_of_stories(conn, fixture_articles):
    ids = _load_fixture(conn, fixture_articles)
    conn.execute("UPDATE articles SET relevant = FALSE WHERE article_id = 'b1'")
    update_near_duplicates(conn, ids)
    update_stories(conn, ids)
    assert "b1" not in {m for ms in story_members(conn).values() for m in ms}


def _staged_sketches(conn, ids, text_of=None):
    """The `article_sketches` table the extraction workers stage, from the stored texts."""
    import pyarrow as pa

    from policy_news import staging
    from policy_news.stories.sketches import sketch_text, values_to_bytes

    texts = dict(conn.execute("SELECT article_id, text FROM articles").fetchall())
    rows = []
    for article_id in ids:
        sketches = sketch_text((text_of or texts)[article_id])
        rows.append(
            {
                "article_id": article_id,
                "shingle_sketch": values_to_bytes(sketches.shingles),
                "word_sketch": values_to_bytes(sketches.words),
                "shingle_count": sketches.shingle_count,
            }
        )
    return pa.Table.from_pylist(rows, schema=staging.SCHEMAS["article_sketches"])


def _stored_signatures(conn):
    return conn.execute(
        "SELECT article_id, shingles, words, shingle_count FROM article_signatures ORDER BY 1"
    ).fetchall()


def test_staged_sketches_give_the_same_copies_and_signatures(conn, migrated_db, fixture_articles):
    from policy_news.stories.persistence import staged_signatures

    ids = _load_fixture(conn, fixture_articles)
    staged = staged_signatures(_staged_sketches(conn, ids))
    assert set(staged) == set(ids)
    assert update_near_duplicates(conn, ids, staged=staged) == 1
    with_staged = _stored_signatures(conn)
    duplicate = conn.execute(
        "SELECT near_duplicate_of, duplicate_similarity FROM articles WHERE article_id = 'a1-copy'"
    ).fetchone()
    assert update_near_duplicates(conn, ids) == 1  # hashed here, as retag does
    assert _stored_signatures(conn) == with_staged
    assert (
        conn.execute(
            "SELECT near_duplicate_of, duplicate_similarity FROM articles "
            "WHERE article_id = 'a1-copy'"
        ).fetchone()
        == duplicate
    )


def test_the_loader_uses_the_staged_sketch_and_hashes_what_has_none(conn, fixture_articles):
    from policy_news.stories.persistence import staged_signatures
    from policy_news.stories.sketches import sketch_text, values_to_bytes

    ids = _load_fixture(conn, fixture_articles)
    # b1 staged with a1's values: the stored signature must be the staged one
    staged = staged_signatures(
        _staged_sketches(conn, ["b1"], {"b1": fixture_articles["a1"]["text"]})
    )
    update_near_duplicates(conn, ids, staged=staged)
    stored = {row[0]: row for row in _stored_signatures(conn)}
    a1_values = values_to_bytes(sketch_text(fixture_articles["a1"]["text"]).shingles)
    assert stored["b1"][1][-len(a1_values) :] == a1_values
    # a2 had no staged sketch: hashed from its own text
    a2_values = values_to_bytes(sketch_text(fixture_articles["a2"]["text"]).shingles)
    assert stored["a2"][1][-len(a2_values) :] == a2_values


def test_sketches_of_other_parameters_are_hashed_again_not_fatal(conn, fixture_articles, caplog):
    import pyarrow as pa

    from policy_news import staging
    from policy_news.stories.persistence import staged_signatures

    ids = _load_fixture(conn, fixture_articles)
    good = _staged_sketches(conn, ids).to_pylist()
    good[0]["shingle_sketch"] = good[0]["shingle_sketch"][:256]  # 64 permutations
    table = pa.Table.from_pylist(good, schema=staging.SCHEMAS["article_sketches"])
    staged = staged_signatures(table)
    assert set(staged) == set(ids) - {ids[0]}
    assert "other MinHash parameters" in caplog.text
    assert update_near_duplicates(conn, ids, staged=staged) == 1
