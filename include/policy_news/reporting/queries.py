"""The questions the weekly HTML report asks of the analyst snapshot.

Every query reads the analyst views (current taxonomy version, syndicated copies
excluded) for one ISO week, so the page agrees with what analysts get from SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

TREND_WEEKS = 12
TOP_N = 15

_WEEK = re.compile(r"(\d{4})-W(\d{2})")

Row = dict[str, Any]


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday to Sunday."""

    start: date

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def trend_start(self) -> date:
        return self.start - timedelta(weeks=TREND_WEEKS - 1)

    @property
    def trend_weeks(self) -> list[date]:
        """The Mondays of the trend window, oldest first, this week last."""
        return [self.trend_start + timedelta(weeks=i) for i in range(TREND_WEEKS)]


def parse_week(text: str) -> Week:
    """`2026-W05` -> that week; a clear error for anything else."""
    match = _WEEK.fullmatch(text.strip())
    if not match:
        raise ValueError(f"week {text!r} is not an ISO week like 2026-W05")
    try:
        return Week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except ValueError as exc:
        raise ValueError(f"week {text!r} does not exist: {exc}") from None


def week_of(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def latest_week(conn: duckdb.DuckDBPyConnection) -> Week:
    """The week of the latest article day, or this week on an empty database."""
    row = conn.execute("SELECT max(day) FROM article_days").fetchone()
    return week_of(row[0] if row and row[0] else date.today())


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[Row]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _bounds(week: Week) -> dict[str, Any]:
    return {"start": week.start, "end": week.end}


def current_taxonomy(conn: duckdb.DuckDBPyConnection) -> str | None:
    row = conn.execute(
        "SELECT taxonomy_version FROM taxonomy_versions WHERE is_current LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def relevant_articles(conn: duckdb.DuckDBPyConnection, week: Week) -> int:
    row = conn.execute(
        "SELECT count(*) FROM articles a JOIN article_days d USING (article_id) "
        "WHERE a.relevant AND a.duplicate_of IS NULL AND d.day BETWEEN $start AND $end",
        _bounds(week),
    ).fetchone()
    return int(row[0]) if row else 0


def weekly_by_subtopic(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    """Articles and stories per subtopic and ISO week, twelve weeks.

    Articles come from `relevant_daily_by_subtopic` (as in the other views), stories
    from `stories_daily_by_subtopic`: a story counts in the week of its first day.
    """
    # A day holds each article once, so daily article counts add up to the week's.
    story_counts = (
        "SELECT date_trunc('week', day)::DATE AS week, subtopic, sum(stories)::BIGINT AS stories "
        "FROM stories_daily_by_subtopic WHERE day BETWEEN $start AND $end GROUP BY ALL"
    )
    return _rows(
        conn,
        "WITH article_counts AS ("
        "  SELECT date_trunc('week', day)::DATE AS week, subtopic, "
        "         sum(articles)::BIGINT AS articles "
        "  FROM relevant_daily_by_subtopic WHERE day BETWEEN $start AND $end GROUP BY ALL), "
        f"story_counts AS ({story_counts}) "
        "SELECT week, subtopic, coalesce(a.articles, 0) AS articles, s.stories "
        "FROM article_counts a FULL JOIN story_counts s USING (week, subtopic) ORDER BY 1, 2",
        {"start": week.trend_start, "end": week.end},
    )


def states(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    """States named in the week's relevant articles; each article counted once per state."""
    return _rows(
        conn,
        "SELECT p.normalized AS state, count(DISTINCT a.article_id) AS articles "
        "FROM articles a JOIN article_days d USING (article_id) "
        "JOIN current_article_facts p ON p.article_id = a.article_id AND p.kind = 'place' "
        "     AND json_extract_string(p.attrs, '$.level') = 'state' "
        "WHERE a.relevant AND a.duplicate_of IS NULL AND d.day BETWEEN $start AND $end "
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_N}",
        _bounds(week),
    )


def agencies(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    return _rows(
        conn,
        "SELECT agency, sum(articles)::BIGINT AS articles FROM agencies_weekly "
        f"WHERE week = $start GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_N}",
        {"start": week.start},
    )


def operations(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    return _rows(
        conn,
        "SELECT f.normalized AS operation, count(DISTINCT a.article_id) AS articles "
        "FROM current_article_facts f JOIN articles a USING (article_id) "
        "JOIN article_days d USING (article_id) "
        "WHERE f.kind = 'operation' AND a.relevant AND a.duplicate_of IS NULL "
        "  AND d.day BETWEEN $start AND $end "
        f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_N}",
        _bounds(week),
    )


def largest_counts(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    """The week's largest counted numbers (not shares), each with its sentence and link.

    `reported_counts` keeps syndicated copies; a wire story's count is reported once,
    by its original, whether the copies are exact or reworded (near-duplicates).
    """
    return _rows(
        conn,
        "SELECT day, try_cast(number AS DOUBLE) AS number, counts, qualifier, agency, state, "
        "operation, evidence, title, url FROM reported_counts "
        "WHERE day BETWEEN $start AND $end AND unit = 'count' "
        "  AND article_id NOT IN (SELECT article_id FROM articles "
        "    WHERE duplicate_of IS NOT NULL OR near_duplicate_of IS NOT NULL) "
        f"ORDER BY try_cast(number AS DOUBLE) DESC NULLS LAST, day, url LIMIT {TOP_N}",
        _bounds(week),
    )


def new_287g_mentions(conn: duckdb.DuckDBPyConnection, week: Week) -> list[Row]:
    """287(g) program mentions in articles first seen this week, with the states named."""
    return _rows(
        conn,
        "WITH article_states AS ("
        "  SELECT article_id, string_agg(DISTINCT normalized, ', ' ORDER BY normalized) AS states "
        "  FROM current_article_facts WHERE kind = 'place' "
        "    AND json_extract_string(attrs, '$.level') = 'state' GROUP BY 1) "
        "SELECT * FROM ("
        "SELECT DISTINCT ON (a.article_id, f.normalized) d.day, f.normalized AS program, "
        "       s.states, f.sentence AS evidence, a.title, a.url "
        "FROM current_article_facts f JOIN articles a USING (article_id) "
        "JOIN article_days d USING (article_id) LEFT JOIN article_states s USING (article_id) "
        "WHERE f.kind = 'program' AND f.normalized LIKE '287(g)%' "
        "  AND a.relevant AND a.duplicate_of IS NULL AND d.day BETWEEN $start AND $end "
        "ORDER BY a.article_id, f.normalized, f.start_offset) ORDER BY day, title, program",
        _bounds(week),
    )


def feed_health(conn: duckdb.DuckDBPyConnection) -> list[Row]:
    """Every feed, the ones that need attention first."""
    return _rows(
        conn,
        "SELECT feed_name, health, last_success_at, last_new_item_at, consecutive_failures, "
        "fetches, failed_fetches, last_outcome, last_error_kind, last_error FROM feed_health "
        "ORDER BY health = 'ok', health, feed_name",
        {},
    )
