"""Re-tagging stored articles: one transaction, version rows replaced, current version moved."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from policy_news.pipeline.retag import PartialRetagError, retag_articles
from policy_news.settings import get_settings
from policy_news.tagging.tagger import Tagger

ARTICLES = [
    # id, title, text, published_at, fetched_at
    (
        "a-ice",
        "ICE agents arrest 40 in Texas raid",
        "Immigration and Customs Enforcement agents arrested 40 people in Houston, Texas. "
        "Protesters rallied outside the detention center.",
        datetime(2025, 3, 2, tzinfo=UTC),
        datetime(2025, 3, 3, tzinfo=UTC),
    ),
    (
        "b-weather",
        "Mild weather expected",
        "Forecasters expect a mild, sunny week.",
        datetime(2025, 3, 5, tzinfo=UTC),
        datetime(2025, 3, 5, tzinfo=UTC),
    ),
    (
        "c-nodate",
        "Deportation flights resume, DHS says",
        "The Department of Homeland Security said deportation flights to Honduras resumed.",
        None,
        datetime(2025, 3, 4, tzinfo=UTC),
    ),
    (
        "d-old",
        "ICE detains man at courthouse",
        "ICE officers detained a man at the courthouse.",
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 2, tzinfo=UTC),
    ),
]


@pytest.fixture
def db(migrated_db: Path) -> Path:
    path = migrated_db
    con = duckdb.connect(str(path))
    now = datetime.now(UTC)
    for article_id, title, text, published, fetched in ARTICLES:
        con.execute(
            "INSERT INTO articles (article_id, url, feed_name, title, summary, text, published_at, "
            "date_source, fetched_at, first_run_id, last_run_id, loaded_at) "
            "VALUES (?, ?, 'feed', ?, NULL, ?, ?, 'feed', ?, 'r1', 'r1', ?)",
            [article_id, f"https://example.org/{article_id}", title, text, published, fetched, now],
        )
    con.close()
    return path


def _tagger_with_version(tmp_path: Path, version: str) -> Tagger:
    path = tmp_path / f"tax-{version}.yaml"
    text = get_settings().taxonomy_path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"^version: .*$", f'version: "{version}"', text, flags=re.M), encoding="utf-8"
    )
    return Tagger.from_path(path)


def _query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_retag_writes_version_rows_and_updates_articles(db: Path, tagger: Tagger) -> None:
    stats = retag_articles(db, tagger, None, None)
    assert stats["articles"] == 4 and stats["relevance_rows"] == 4
    assert stats["relevant"] == 3
    assert stats["topic_rows"] > 0 and stats["fact_rows"] > 0
    rows = dict(_query(db, "SELECT article_id, relevant FROM articles"))
    assert rows == {"a-ice": True, "b-weather": False, "c-nodate": True, "d-old": True}
    assert _query(db, "SELECT DISTINCT taxonomy_version FROM articles") == [(tagger.version,)]
    assert _query(db, "SELECT taxonomy_version, is_current FROM taxonomy_versions") == [
        (tagger.version, True)
    ]
    attrs = _query(db, "SELECT attrs FROM article_facts WHERE kind = 'count'")
    assert all(isinstance(json.loads(a), dict) for (a,) in attrs)


def test_retag_stores_probability_and_review_flag(db: Path, tagger: Tagger) -> None:
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE articles SET summary = 'Despite parole rules, the inmate met followers online.', "
        "title = 'Sect leader leaves prison again', text = NULL WHERE article_id = 'b-weather'"
    )
    con.close()
    retag_articles(db, tagger, None, None)
    stored = _query(
        db,
        "SELECT r.article_id, r.relevance_probability, r.needs_review, "
        "a.relevance_probability, a.needs_review FROM article_relevance r "
        "JOIN articles a USING (article_id) ORDER BY 1",
    )
    assert all(row[1] is not None and row[1] == row[3] and row[2] == row[4] for row in stored)
    flagged = {row[0] for row in stored if row[2]}
    assert flagged == {"b-weather"}
    assert all(0.35 <= row[1] <= 0.65 for row in stored if row[2])


def test_rerun_replaces_rows_instead_of_adding(db: Path, tagger: Tagger) -> None:
    first = retag_articles(db, tagger, None, None)
    counts = _query(
        db,
        "SELECT (SELECT count(*) FROM article_topics), (SELECT count(*) FROM article_facts), "
        "(SELECT count(*) FROM article_relevance)",
    )
    second = retag_articles(db, tagger, None, None)
    assert (
        _query(
            db,
            "SELECT (SELECT count(*) FROM article_topics), (SELECT count(*) FROM article_facts), "
            "(SELECT count(*) FROM article_relevance)",
        )
        == counts
    )
    assert (
        second["deleted_rows"] == first["topic_rows"] + first["fact_rows"] + first["relevance_rows"]
    )


def test_window_uses_fetched_at_when_published_at_is_missing(db: Path, tagger: Tagger) -> None:
    stats = retag_articles(db, tagger, date(2025, 3, 1), date(2025, 3, 4), make_current=False)
    assert stats["articles"] == 2  # a-ice (published 2 March) and c-nodate (fetched 4 March)
    tagged = {r[0] for r in _query(db, "SELECT article_id FROM article_relevance")}
    assert tagged == {"a-ice", "c-nodate"}


def test_window_cannot_become_current_while_other_articles_lack_the_version(
    db: Path, tagger: Tagger, tmp_path: Path
) -> None:
    retag_articles(db, tagger, None, None)
    newer = _tagger_with_version(tmp_path, "next-4")
    with pytest.raises(PartialRetagError, match="2 stored articles outside the window"):
        retag_articles(db, newer, date(2025, 3, 1), date(2025, 3, 4))
    # nothing written: the current views still cover every article
    versions = dict(_query(db, "SELECT taxonomy_version, is_current FROM taxonomy_versions"))
    assert versions == {tagger.version: True}
    assert _query(db, "SELECT count(DISTINCT article_id) FROM article_relevance") == [(4,)]


def test_window_may_become_current_once_every_article_has_the_version(
    db: Path, tagger: Tagger, tmp_path: Path
) -> None:
    newer = _tagger_with_version(tmp_path, "next-5")
    retag_articles(db, newer, None, None, make_current=False)
    retag_articles(db, newer, date(2025, 3, 1), date(2025, 3, 4))
    current = _query(
        db,
        "SELECT count(DISTINCT r.article_id) FROM article_relevance r JOIN taxonomy_versions v "
        "ON v.taxonomy_version = r.taxonomy_version AND v.is_current",
    )
    assert current == [(4,)]


def test_not_current_keeps_articles_and_current_version(
    db: Path, tagger: Tagger, tmp_path: Path
) -> None:
    retag_articles(db, tagger, None, None)
    trial = _tagger_with_version(tmp_path, "trial-2")
    retag_articles(db, trial, None, None, make_current=False)
    assert _query(db, "SELECT DISTINCT taxonomy_version FROM articles") == [(tagger.version,)]
    versions = dict(_query(db, "SELECT taxonomy_version, is_current FROM taxonomy_versions"))
    assert versions == {tagger.version: True, "trial-2": False}
    assert _query(db, "SELECT count(DISTINCT taxonomy_version) FROM article_relevance") == [(2,)]


def test_new_current_version_replaces_the_old_one(db: Path, tagger: Tagger, tmp_path: Path) -> None:
    retag_articles(db, tagger, None, None)
    newer = _tagger_with_version(tmp_path, "next-3")
    retag_articles(db, newer, None, None)
    versions = dict(_query(db, "SELECT taxonomy_version, is_current FROM taxonomy_versions"))
    assert versions == {tagger.version: False, "next-3": True}
    assert _query(db, "SELECT DISTINCT taxonomy_version FROM articles") == [("next-3",)]


def test_failure_part_way_leaves_previous_tags(
    db: Path, tagger: Tagger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retag_articles(db, tagger, None, None)
    before = _query(db, "SELECT count(*) FROM article_topics")
    calls = {"n": 0}
    original = tagger.tag

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom")
        return original(*args, **kwargs)

    monkeypatch.setattr(tagger, "tag", flaky)
    with pytest.raises(RuntimeError, match="boom"):
        retag_articles(db, tagger, None, None)
    assert _query(db, "SELECT count(*) FROM article_topics") == before
    assert _query(db, "SELECT count(*) FROM article_relevance") == [(4,)]


STORY_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "articles.jsonl"


def test_retag_rebuilds_stories_with_the_ids_the_loads_gave(
    migrated_db: Path, tagger: Tagger
) -> None:
    """Loads assign stories day by day; retag rebuilds them from nothing to the same ids."""
    from policy_news.stories.persistence import (
        story_members,
        update_near_duplicates,
        update_stories,
    )
    from policy_news.stories.synthetic import rewrite

    rows = [json.loads(line) for line in STORY_FIXTURE.read_text().splitlines() if line]
    first = rows[0]
    copy = rewrite(first["article_id"], first["title"], first["text"], 2)
    # A reworded reprint of a1 the next day, from another outlet.
    rows.append({**first, "article_id": "a1-copy", "outlet": "Wire", "day": "2026-03-03"})
    rows[-1].update(title=copy.title, text=copy.text)
    con = duckdb.connect(str(migrated_db))
    for minute, row in enumerate(rows):
        published = datetime.fromisoformat(row["day"]).replace(hour=8, tzinfo=UTC)
        con.execute(
            "INSERT INTO articles (article_id, url, feed_name, site_name, title, text, "
            "published_at, date_source, fetched_at, content_hash, first_run_id, last_run_id, "
            "loaded_at) VALUES (?, ?, 'feed', ?, ?, ?, ?, 'feed', ?, ?, 'r1', 'r1', ?)",
            [
                row["article_id"],
                f"https://example.org/{row['article_id']}",
                row["outlet"],
                row["title"],
                row["text"],
                published,
                published.replace(hour=9, minute=minute),
                f"hash-{row['article_id']}",
                published,
            ],
        )
    con.close()
    retag_articles(migrated_db, tagger, None, None)  # tags, as the loads would have

    con = duckdb.connect(str(migrated_db))
    con.execute("UPDATE articles SET story_id = NULL")
    con.execute("DELETE FROM stories")
    for day in sorted({row["day"] for row in rows}):  # one load a day
        ids = [row["article_id"] for row in rows if row["day"] == day]
        update_near_duplicates(con, ids)
        update_stories(con, ids)
    loaded = story_members(con)
    copy_of = con.execute(
        "SELECT near_duplicate_of FROM articles WHERE article_id = 'a1-copy'"
    ).fetchone()
    # Wiped, so only the retag's rebuild can bring them back.
    con.execute("UPDATE articles SET story_id = NULL")
    con.execute("DELETE FROM stories")
    con.close()
    assert copy_of == ("a1",)
    assert loaded["a1"] == ["a1", "a2", "a1-copy"]
    assert loaded["e1"] == ["e1", "e2"]

    stats = retag_articles(migrated_db, tagger, None, None)
    assert stats["stories"] == len(loaded)
    con = duckdb.connect(str(migrated_db), read_only=True)
    try:
        assert story_members(con) == loaded
        assert con.execute("SELECT count(*) FROM stories").fetchone() == (len(loaded),)
    finally:
        con.close()
