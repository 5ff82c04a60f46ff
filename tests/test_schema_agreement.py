"""The records' three descriptions agree: models, staging schemas, DuckDB after all migrations."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from policy_news import models, staging

# Model fields that never reach the articles file (the page and the text's sketches go
# to their own kinds: article_html, article_sketches).
NOT_STAGED = {"raw_html_gz", "shingle_sketch", "word_sketch", "shingle_count"}

MODEL_OF_KIND = {
    "feed_fetches": models.FeedFetch,
    "feed_items": models.FeedItem,
    "articles": models.Article,
    "failures": models.ArticleFailure,
}

# Staged kind -> table the loader writes it to; columns the loader derives are left out.
TABLE_OF_KIND = {
    "feed_fetches": ("feed_fetches", set()),
    "articles": ("articles", set()),
    "failures": ("fetch_failures", {"failed_at"}),  # stored as first/last_failed_at
    "article_topics": ("article_topics", set()),
    "article_facts": ("article_facts", set()),
    "article_relevance": ("article_relevance", set()),
}


def _columns(db: Path, table: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("kind", sorted(MODEL_OF_KIND))
def test_model_fields_are_the_staging_columns(kind: str) -> None:
    fields = [f.name for f in dataclasses.fields(MODEL_OF_KIND[kind]) if f.name not in NOT_STAGED]
    assert fields == staging.SCHEMAS[kind].names, f"{MODEL_OF_KIND[kind].__name__} vs {kind}"


def test_the_side_kinds_take_their_columns_from_the_article() -> None:
    article = {f.name for f in dataclasses.fields(models.Article)}
    for kind in ("article_html", "article_sketches"):
        assert set(staging.SCHEMAS[kind].names) <= article, kind


@pytest.mark.parametrize("kind", sorted(TABLE_OF_KIND))
def test_staging_columns_exist_in_duckdb_after_all_migrations(kind: str, migrated_db: Path) -> None:
    table, derived = TABLE_OF_KIND[kind]
    missing = set(staging.SCHEMAS[kind].names) - derived - _columns(migrated_db, table)
    assert not missing, f"staged {kind} columns missing from table {table}: {sorted(missing)}"
