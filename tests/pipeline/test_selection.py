"""The per-feed cap: each feed's newest items are taken, undated last, the rest deferred."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from policy_news import staging
from policy_news.pipeline.selection import cap_per_feed, deferred_rows


def _items(rows: list[tuple[str, str, int | None]]) -> pa.Table:
    return staging.to_table(
        "feed_items",
        [
            {
                "article_id": article_id,
                "url": f"http://example.org/{article_id}",
                "feed_name": feed,
                "published_at": None if day is None else datetime(2025, 4, day, tzinfo=UTC),
            }
            for article_id, feed, day in rows
        ],
    )


def test_cap_keeps_each_feeds_newest_items_and_undated_ones_last() -> None:
    items = _items(
        [
            ("a1", "big", 1),
            ("a2", "big", None),
            ("a3", "big", 9),
            ("a4", "big", 5),
            ("b1", "small", None),
        ]
    )
    kept, over = cap_per_feed(items, 2)
    assert kept.column("article_id").to_pylist() == ["a3", "a4", "b1"]
    assert over.column("article_id").to_pylist() == ["a1", "a2"]


def test_feed_under_the_cap_keeps_its_order() -> None:
    items = _items([("a1", "f", 1), ("a2", "f", 3), ("a3", "f", None)])
    kept, over = cap_per_feed(items, 3)
    assert kept.column("article_id").to_pylist() == ["a1", "a2", "a3"]
    assert over.num_rows == 0


def test_deferred_rows_carry_their_reason() -> None:
    rows = deferred_rows(_items([("a1", "f", 1)]), "feed_cap")
    assert rows.schema.equals(staging.SCHEMAS["deferred_items"])
    assert rows.column("deferred_reason").to_pylist() == ["feed_cap"]
