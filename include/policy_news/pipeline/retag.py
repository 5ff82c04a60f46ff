"""Re-tag stored articles with a (new) taxonomy version, in one DuckDB transaction.

When analysts bump the taxonomy, stored tags must follow without refetching:
this reads title/summary/text back from `articles`, tags them, replaces that
version's rows in article_topics/article_facts/article_relevance, records the
version in taxonomy_versions and, if it is to become current, updates the
articles' own relevance columns and rebuilds every story from scratch (relevance and
facts decide stories; the rebuild gives the ids incremental loads gave). All or
nothing: a failure leaves the previous tags and stories in place.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from policy_news.tagging.rows import result_rows

if TYPE_CHECKING:
    from pathlib import Path

    from policy_news.pipeline.contracts import RetagResult
    from policy_news.settings import Settings
    from policy_news.stories.clustering import StoryParams
    from policy_news.tagging.tagger import Tagger

BATCH_SIZE = 2_000

TOPIC_COLUMNS = (
    "article_id",
    "subtopic",
    "taxonomy_version",
    "score",
    "evidence",
    "field",
    "start_offset",
    "end_offset",
    "rule_id",
)
FACT_COLUMNS = (
    "article_id",
    "taxonomy_version",
    "fact_index",
    "kind",
    "value",
    "normalized",
    "sentence",
    "field",
    "start_offset",
    "end_offset",
    "rule_id",
    "attrs",
)
RELEVANCE_COLUMNS = (
    "article_id",
    "taxonomy_version",
    "relevant",
    "relevance_score",
    "evidence",
    "rule_id",
    "tagged_at",
    "relevance_probability",
    "needs_review",
)

# Articles without a publication date are placed by when they were fetched.
_ARTICLE_DATE = "coalesce(published_at, fetched_at)"


def _window(since: date | None, until: date | None) -> tuple[str, list[Any]]:
    """SQL filter for [since, until] (whole days, UTC)."""
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append(f"{_ARTICLE_DATE} >= ?")
        params.append(datetime.combine(since, time.min, tzinfo=UTC))
    if until is not None:
        clauses.append(f"{_ARTICLE_DATE} < ?")
        params.append(datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC))
    return (" AND ".join(clauses) or "TRUE"), params


def _insert(con: Any, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> int:
    """Bulk insert through a registered DataFrame (one statement, no per-row round trips)."""
    if not rows:
        return 0
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(columns))
    view = f"_retag_{table}"
    con.register(view, frame)
    try:
        cols = ", ".join(columns)
        select = ", ".join("CAST(attrs AS JSON)" if c == "attrs" else c for c in columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM {view}")
    finally:
        con.unregister(view)
    return len(frame)


def _record_version(con: Any, tagger: Tagger, now: datetime, make_current: bool) -> None:
    definition = json.dumps(tagger.taxonomy.definition(), ensure_ascii=False)
    con.execute(
        "INSERT INTO taxonomy_versions (taxonomy_version, loaded_at, is_current, definition) "
        "VALUES (?, ?, ?, CAST(? AS JSON)) "
        "ON CONFLICT (taxonomy_version) DO UPDATE SET definition = excluded.definition",
        [tagger.version, now, make_current, definition],
    )
    if make_current:
        con.execute(
            "UPDATE taxonomy_versions SET is_current = (taxonomy_version = ?)", [tagger.version]
        )


class PartialRetagError(ValueError):
    """A windowed retag may not become current while other articles lack its tags."""


def _check_window_can_become_current(con: Any, version: str, where: str, params: list[Any]) -> None:
    """The `current_*` views follow one version for every article: making a version
    current from a window would drop the articles outside it from those views."""
    missing = con.execute(
        f"SELECT count(*) FROM articles WHERE NOT ({where}) AND article_id NOT IN "
        "(SELECT article_id FROM article_relevance WHERE taxonomy_version = ?)",
        [*params, version],
    ).fetchone()
    if missing and missing[0]:
        raise PartialRetagError(
            f"{missing[0]} stored articles outside the window have no tags of taxonomy "
            f"{version}; making it current would drop them from the current_* views. "
            "Retag them too (no --since/--until), or retag this window without making "
            "the version current (--not-current / make_current=False)."
        )


def retag_articles(
    db_path: Path,
    tagger: Tagger,
    since: date | None,
    until: date | None,
    make_current: bool = True,
    story_params: StoryParams | None = None,
) -> dict[str, int]:
    """Re-tag the articles published (else fetched) between `since` and `until`, inclusive.

    With a window, `make_current` is refused (PartialRetagError, nothing written) unless
    every article outside the window already has tags of this version.
    """
    import duckdb

    from policy_news.stories.persistence import rebuild_all_stories

    now = datetime.now(UTC)
    where, params = _window(since, until)
    version = tagger.version
    stats = {
        "articles": 0,
        "relevant": 0,
        "topic_rows": 0,
        "fact_rows": 0,
        "relevance_rows": 0,
        "deleted_rows": 0,
        "stories": 0,
    }
    con = duckdb.connect(str(db_path))
    try:
        if make_current and (since is not None or until is not None):
            _check_window_can_become_current(con, version, where, params)
        con.begin()
        try:
            selected = f"SELECT article_id FROM articles WHERE {where}"
            for table in ("article_topics", "article_facts", "article_relevance"):
                deleted = con.execute(
                    f"DELETE FROM {table} "
                    f"WHERE taxonomy_version = ? AND article_id IN ({selected})",
                    [version, *params],
                ).fetchone()
                stats["deleted_rows"] += int(deleted[0]) if deleted else 0
            last_id = ""
            while True:
                # Keyset pages keep memory flat however many articles match.
                batch = con.execute(
                    f"SELECT article_id, title, summary, text FROM articles "
                    f"WHERE {where} AND article_id > ? ORDER BY article_id LIMIT {BATCH_SIZE}",
                    [*params, last_id],
                ).fetchall()
                if not batch:
                    break
                last_id = batch[-1][0]
                topics: list[dict[str, Any]] = []
                facts: list[dict[str, Any]] = []
                relevance: list[dict[str, Any]] = []
                for article_id, title, summary, text in batch:
                    result = tagger.tag(title or "", summary, text)
                    t_rows, f_rows, r_row = result_rows(article_id, result, now)
                    topics += t_rows
                    facts += f_rows
                    relevance.append(r_row)
                    stats["relevant"] += int(result.relevant)
                stats["articles"] += len(batch)
                stats["topic_rows"] += _insert(con, "article_topics", TOPIC_COLUMNS, topics)
                stats["fact_rows"] += _insert(con, "article_facts", FACT_COLUMNS, facts)
                stats["relevance_rows"] += _insert(
                    con, "article_relevance", RELEVANCE_COLUMNS, relevance
                )
                if make_current:
                    _update_articles(con, relevance)
            _record_version(con, tagger, now, make_current)
            if make_current:
                rebuilt = rebuild_all_stories(con, story_params)
                stats["stories"] = rebuilt.new_stories
            con.commit()
        except BaseException:
            con.rollback()
            raise
    finally:
        con.close()
    return stats


def _update_articles(con: Any, relevance: list[dict[str, Any]]) -> None:
    import pandas as pd

    columns = [
        "article_id",
        "relevant",
        "relevance_score",
        "taxonomy_version",
        "relevance_probability",
        "needs_review",
    ]
    frame = pd.DataFrame.from_records([[r[c] for c in columns] for r in relevance], columns=columns)
    con.register("_retag_current", frame)
    try:
        con.execute(
            "UPDATE articles SET relevant = c.relevant, relevance_score = c.relevance_score, "
            "taxonomy_version = c.taxonomy_version, "
            "relevance_probability = CAST(c.relevance_probability AS DOUBLE), "
            "needs_review = c.needs_review FROM _retag_current c "
            "WHERE articles.article_id = c.article_id"
        )
    finally:
        con.unregister("_retag_current")


def taxonomy_file_for(version: str | None, settings: Settings) -> Path:
    """The taxonomy YAML declaring `version` (any file in the taxonomy folder); None = configured."""
    import yaml

    if not version:
        return settings.taxonomy_path
    folder = settings.taxonomy_path.parent
    declared: dict[Path, str] = {}
    for path in sorted(folder.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        declared[path] = str(data.get("version"))
        if declared[path] == version:
            return path
    found = ", ".join(sorted(declared.values()))
    raise ValueError(f"no taxonomy file in {folder} declares version {version!r} (found: {found})")


def retag_stored(
    settings: Settings,
    *,
    taxonomy_path: Path | None = None,
    taxonomy_version: str | None = None,
    since: date | None = None,
    until: date | None = None,
    make_current: bool = True,
) -> RetagResult:
    """Re-tag stored articles under a taxonomy (a file, or the file declaring a version),
    then publish a fresh analyst snapshot. What the retag DAG and `policy-news retag` run."""
    from policy_news.store.snapshot import publish_snapshot
    from policy_news.stories.persistence import story_params
    from policy_news.tagging.tagger import get_tagger

    path = taxonomy_path or taxonomy_file_for(taxonomy_version, settings)
    tagger = get_tagger(path)
    counts = retag_articles(
        settings.db_path,
        tagger,
        since,
        until,
        make_current=make_current,
        story_params=story_params(settings),
    )
    publish_snapshot(settings.db_path)
    return {
        "taxonomy_version": tagger.version,
        "articles": counts["articles"],
        "relevant": counts["relevant"],
        "topic_rows": counts["topic_rows"],
        "fact_rows": counts["fact_rows"],
        "relevance_rows": counts["relevance_rows"],
        "deleted_rows": counts["deleted_rows"],
        "stories": counts["stories"],
    }
