"""DuckDB side of near-duplicates and stories, for the loader and retag to call.

Each function takes the loader's open connection and runs inside its transaction;
none commits. Inputs are the rows the load has already written to `articles`,
`article_facts` and `article_topics` (so call these after those upserts), which is
also what retag has. The order matters: near-duplicates first (stories use them).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from policy_news.stories.clustering import (
    Assignment,
    StoryArticle,
    StoryParams,
    assign_stories,
    group_existing,
    rebuild_stories,
)
from policy_news.stories.near_duplicates import (
    ArticleText,
    NearDuplicateParams,
    StoredSignature,
    find_near_duplicates,
)
from policy_news.stories.signatures import (
    TextSignature,
    signature_of,
    sketch_from_bytes,
    sketch_to_bytes,
)
from policy_news.stories.sketches import TextSketches, values_from_bytes

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date

    import duckdb
    import pyarrow as pa

    from policy_news.settings import Settings


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoriesUpdate:
    """What a load changed, for its log line and run counts."""

    near_duplicates: int
    stories_assigned: int
    new_stories: int


def near_duplicate_params(settings: Settings) -> NearDuplicateParams:
    """The near-duplicate window and thresholds analysts may tune (POLICY_NEWS_*)."""
    return NearDuplicateParams(
        threshold=settings.near_duplicate_threshold,
        containment=settings.near_duplicate_containment,
        window_days=settings.near_duplicate_window_days,
    )


def story_params(settings: Settings) -> StoryParams:
    """The story window and threshold analysts may tune; the weights stay in code."""
    return StoryParams(window_days=settings.story_window_days, threshold=settings.story_threshold)


def _run_with(
    conn: duckdb.DuckDBPyConnection, sql: str, rows: dict[str, tuple[str, Sequence[Any]]]
) -> None:
    """Run `sql` reading `rows` ({column: (SQL type, values)}) as the table `_stories_rows`.

    One statement whatever the number of rows: DuckDB's executemany costs about a
    millisecond per row, and register() refuses to run while a caller's result is open.
    """
    columns = ", ".join(f"unnest(${name}::{kind}[]) AS {name}" for name, (kind, _) in rows.items())
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _stories_rows AS SELECT {columns}",
        {name: list(values) for name, (_, values) in rows.items()},
    )
    conn.execute(sql)
    conn.execute("DROP TABLE _stories_rows")


def _ids_table(conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> None:
    _run_with(
        conn,
        "CREATE OR REPLACE TEMP TABLE _stories_ids AS SELECT DISTINCT article_id FROM _stories_rows",
        {"article_id": ("VARCHAR", article_ids)},
    )


def _batch_days(conn: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    row = conn.execute(
        "SELECT min(d.day), max(d.day) FROM article_days d JOIN _stories_ids USING (article_id)"
    ).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1])


def load_signature_window(conn: duckdb.DuckDBPyConnection, since: date) -> list[StoredSignature]:
    """Stored signatures of articles published (else fetched) on or after `since`."""
    rows = conn.execute(
        "SELECT s.article_id, a.fetched_at, a.content_hash, s.shingles, s.words, "
        "s.shingle_count, a.near_duplicate_of "
        "FROM article_signatures s JOIN articles a USING (article_id) WHERE s.day >= ?",
        [since],
    ).fetchall()
    return [
        StoredSignature(
            article_id,
            seen_at,
            content_hash,
            TextSignature(sketch_from_bytes(shingles), sketch_from_bytes(words), count),
            canonical,
        )
        for article_id, seen_at, content_hash, shingles, words, count, canonical in rows
    ]


def staged_signatures(sketches: pa.Table) -> dict[str, TextSignature]:
    """The signatures of the MinHash values the extraction workers staged (`article_sketches`).

    Values of another size (staged by code with other MinHash parameters) are left out,
    with a warning: those texts are hashed by the loader instead.
    """
    rows = zip(
        sketches.column("article_id").to_pylist(),
        sketches.column("shingle_sketch").to_pylist(),
        sketches.column("word_sketch").to_pylist(),
        sketches.column("shingle_count").to_pylist(),
        strict=True,
    )
    signatures: dict[str, TextSignature] = {}
    for article_id, shingles, words, count in rows:
        if shingles is None or words is None or count is None:
            continue
        try:
            values = TextSketches(values_from_bytes(shingles), values_from_bytes(words), count)
        except ValueError:  # another size: values_from_bytes names it
            continue
        signatures[article_id] = signature_of(values)
    if len(signatures) < sketches.num_rows:
        log.warning(
            "%d staged sketches were made with other MinHash parameters; their texts are "
            "hashed by the loader",
            sketches.num_rows - len(signatures),
        )
    return signatures


def update_near_duplicates(
    conn: duckdb.DuckDBPyConnection,
    article_ids: Sequence[str],
    params: NearDuplicateParams | None = None,
    staged: Mapping[str, TextSignature] | None = None,
) -> int:
    """Check the loaded articles against the window; store their signatures and matches.

    `staged` holds signatures the extraction workers made from the same texts (by
    article id); an article without one is hashed here (retag, runs staged before).
    """
    params = params or NearDuplicateParams()
    _ids_table(conn, article_ids)
    days = _batch_days(conn)
    if days is None:
        return 0
    window = load_signature_window(conn, days[0] - timedelta(days=params.window_days))
    rows = conn.execute(
        "SELECT a.article_id, coalesce(a.text, ''), a.fetched_at, a.content_hash, d.day "
        "FROM articles a JOIN _stories_ids USING (article_id) JOIN article_days d USING (article_id)"
    ).fetchall()
    day_of = {row[0]: row[4] for row in rows}
    staged = staged or {}
    result = find_near_duplicates(
        [ArticleText(r[0], r[1], r[2], r[3], staged.get(r[0])) for r in rows], window, params
    )
    conn.execute(
        "UPDATE articles SET near_duplicate_of = NULL, duplicate_similarity = NULL "
        "WHERE article_id IN (SELECT article_id FROM _stories_ids)"
    )
    if result.matches:
        _run_with(
            conn,
            "UPDATE articles SET near_duplicate_of = m.duplicate_of, "
            "duplicate_similarity = m.similarity FROM _stories_rows m "
            "WHERE articles.article_id = m.article_id",
            {
                "article_id": ("VARCHAR", [m.article_id for m in result.matches]),
                "duplicate_of": ("VARCHAR", [m.duplicate_of for m in result.matches]),
                "similarity": ("DOUBLE", [round(m.similarity, 4) for m in result.matches]),
            },
        )
    conn.execute(
        "DELETE FROM article_signatures WHERE article_id IN (SELECT article_id FROM _stories_ids)"
    )
    if result.signatures:
        signatures = result.signatures
        _run_with(
            conn,
            "INSERT INTO article_signatures SELECT * FROM _stories_rows",
            {
                "article_id": ("VARCHAR", [s.article_id for s in signatures]),
                "day": ("DATE", [day_of[s.article_id] for s in signatures]),
                "shingles": ("BLOB", [sketch_to_bytes(s.signature.shingles) for s in signatures]),
                "words": ("BLOB", [sketch_to_bytes(s.signature.words) for s in signatures]),
                "shingle_count": ("INTEGER", [s.signature.shingle_count for s in signatures]),
            },
        )
    return len(result.matches)


_STORY_ARTICLES = """
SELECT a.article_id, a.fetched_at, d.day, coalesce(a.site_name, a.feed_name), coalesce(a.title, ''),
       s.words, coalesce(a.near_duplicate_of, a.duplicate_of), a.story_id,
       list(DISTINCT f.normalized) FILTER (WHERE f.kind = 'operation'),
       list(DISTINCT f.normalized) FILTER (
           WHERE f.kind = 'place' AND json_extract_string(f.attrs, '$.level') IN ('city', 'county')),
       list(DISTINCT coalesce(json_extract_string(f.attrs, '$.state'), f.normalized)) FILTER (
           WHERE f.kind = 'place' AND json_extract_string(f.attrs, '$.level') = 'state'),
       list(DISTINCT json_extract_string(f.attrs, '$.counts') || ':' || f.normalized)
           FILTER (WHERE f.kind = 'count')
FROM articles a
JOIN article_days d USING (article_id)
LEFT JOIN article_signatures s USING (article_id)
LEFT JOIN current_article_facts f USING (article_id)
WHERE a.relevant AND ({where})
GROUP BY ALL
"""


def load_story_articles(
    conn: duckdb.DuckDBPyConnection, where: str, params: Sequence[object] = ()
) -> list[StoryArticle]:
    """Relevant articles matching `where` (SQL on `a` = articles, `d` = article_days)."""
    rows = conn.execute(_STORY_ARTICLES.format(where=where), list(params)).fetchall()
    return [
        StoryArticle(
            article_id=r[0],
            seen_at=r[1],
            day=r[2],
            outlet=r[3],
            title=r[4],
            words=sketch_from_bytes(r[5]) if r[5] is not None else None,
            copy_of=r[6],
            story_id=r[7],
            operations=frozenset(r[8] or ()),
            places=frozenset(r[9] or ()),
            states=frozenset(r[10] or ()),
            counts=frozenset(tuple(c.split(":", 1)) for c in r[11] or () if c),
        )
        for r in rows
    ]


def update_stories(
    conn: duckdb.DuckDBPyConnection,
    article_ids: Sequence[str],
    params: StoryParams | None = None,
) -> StoriesUpdate:
    """Assign the loaded relevant articles to stories and refresh the touched stories."""
    params = params or StoryParams()
    _ids_table(conn, article_ids)
    days = _batch_days(conn)
    if days is None:
        return StoriesUpdate(0, 0, 0)
    window = timedelta(days=params.window_days)
    new = load_story_articles(
        conn, "a.article_id IN (SELECT article_id FROM _stories_ids) AND a.story_id IS NULL"
    )
    # Every story with an article near the batch's days, whole, so ids stay stable.
    existing = load_story_articles(
        conn,
        "a.story_id IN (SELECT a2.story_id FROM articles a2 JOIN article_days d2 USING (article_id) "
        "WHERE d2.day BETWEEN ? AND ? AND a2.story_id IS NOT NULL)",
        [days[0] - window, days[1] + window],
    )
    assignments = assign_stories(new, group_existing(existing), params)
    _write_assignments(conn, assignments)
    return StoriesUpdate(
        sum(1 for a in new if a.copy_of),
        len(assignments),
        sum(1 for a in assignments if a.new_story),
    )


def rebuild_all_stories(
    conn: duckdb.DuckDBPyConnection, params: StoryParams | None = None
) -> StoriesUpdate:
    """Every story from scratch (after retag): same input, same ids."""
    articles = load_story_articles(conn, "TRUE")
    assignments = rebuild_stories(articles, params)
    conn.execute("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL")
    conn.execute("DELETE FROM stories")
    _write_assignments(conn, assignments)
    return StoriesUpdate(
        sum(1 for a in articles if a.copy_of),
        len(assignments),
        sum(1 for a in assignments if a.new_story),
    )


def _write_assignments(conn: duckdb.DuckDBPyConnection, assignments: list[Assignment]) -> None:
    if not assignments:
        return
    _run_with(
        conn,
        "UPDATE articles SET story_id = a.story_id FROM _stories_rows a "
        "WHERE articles.article_id = a.article_id",
        {
            "article_id": ("VARCHAR", [a.article_id for a in assignments]),
            "story_id": ("VARCHAR", [a.story_id for a in assignments]),
        },
    )
    refresh_stories(conn, sorted({a.story_id for a in assignments}))


_REFRESH_STORIES = """
INSERT OR REPLACE INTO stories
WITH members AS (
    SELECT * FROM story_articles WHERE story_id IN (SELECT story_id FROM _stories_touched)
),
facts AS (
    SELECT m.story_id, f.kind, f.normalized, f.attrs FROM members m
    JOIN current_article_facts f USING (article_id)
),
topics AS (
    SELECT m.story_id, t.subtopic, count(*) AS n FROM members m
    JOIN current_article_topics t USING (article_id) GROUP BY ALL
)
SELECT m.story_id, min(m.day), max(m.day),
       arg_min(m.title, (m.day, m.article_id)),
       count(*), count(*) FILTER (WHERE NOT m.is_copy),
       list(DISTINCT m.outlet ORDER BY m.outlet),
       (SELECT list(subtopic ORDER BY n DESC, subtopic) FROM topics t WHERE t.story_id = m.story_id),
       (SELECT list(DISTINCT normalized ORDER BY normalized) FROM facts f
        WHERE f.story_id = m.story_id AND f.kind = 'place'
          AND json_extract_string(f.attrs, '$.level') = 'state'),
       (SELECT list(DISTINCT normalized ORDER BY normalized) FROM facts f
        WHERE f.story_id = m.story_id AND f.kind = 'place'
          AND json_extract_string(f.attrs, '$.level') IN ('city', 'county')),
       (SELECT list(DISTINCT normalized ORDER BY normalized) FROM facts f
        WHERE f.story_id = m.story_id AND f.kind = 'agency'),
       (SELECT list(DISTINCT normalized ORDER BY normalized) FROM facts f
        WHERE f.story_id = m.story_id AND f.kind = 'operation'),
       $now
FROM members m
GROUP BY m.story_id
"""


def refresh_stories(conn: duckdb.DuckDBPyConnection, story_ids: Sequence[str]) -> None:
    """Recompute the `stories` rows of these stories from their articles and facts."""
    _run_with(
        conn,
        "CREATE OR REPLACE TEMP TABLE _stories_touched AS "
        "SELECT DISTINCT story_id FROM _stories_rows",
        {"story_id": ("VARCHAR", story_ids)},
    )
    conn.execute("DELETE FROM stories WHERE story_id IN (SELECT story_id FROM _stories_touched)")
    conn.execute(_REFRESH_STORIES, {"now": datetime.now(UTC)})


def story_members(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """story_id -> its article ids in story order (for tests and reports)."""
    members: dict[str, list[str]] = defaultdict(list)
    for story_id, article_id in conn.execute(
        "SELECT story_id, article_id FROM articles WHERE story_id IS NOT NULL "
        "ORDER BY story_id, fetched_at, article_id"
    ).fetchall():
        members[story_id].append(article_id)
    return dict(members)
