"""A weekly digest for analysts, written after each load by the downstream DAG.

Reads the analyst snapshot (never the main file, so it cannot block a load) and
writes Markdown: subtopics this week against last week, states, agencies and the
largest reported counts with their evidence sentences.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from pathlib import Path


def _table(headers: list[str], rows: list[tuple[object, ...]]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = [
            str(v if v is not None else "").replace("|", "\\|").replace("\n", " ") for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_digest(snapshot: Path, out_dir: Path, today: date | None = None) -> Path:
    """Write `digest-YYYY-MM-DD.md` for the 7 days up to `today`; returns its path."""
    today = today or date.today()
    week_start = today - timedelta(days=6)
    prev_start = week_start - timedelta(days=7)
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        topics = conn.execute(
            "SELECT subtopic, sum(articles) FILTER (WHERE day >= $w) AS this_week, "
            "sum(articles) FILTER (WHERE day < $w) AS last_week "
            "FROM relevant_daily_by_subtopic WHERE day BETWEEN $p AND $t "
            "GROUP BY 1 ORDER BY this_week DESC NULLS LAST, 1",
            {"w": week_start, "p": prev_start, "t": today},
        ).fetchall()
        states = conn.execute(
            "SELECT state, sum(articles) AS articles FROM relevant_daily_by_subtopic_state "
            "WHERE day BETWEEN $w AND $t GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
            {"w": week_start, "t": today},
        ).fetchall()
        agencies = conn.execute(
            "SELECT agency, sum(articles) AS articles FROM agencies_weekly "
            "WHERE week >= date_trunc('week', $w::DATE) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
            {"w": week_start},
        ).fetchall()
        counts = conn.execute(
            "SELECT number, counts, qualifier, state, evidence FROM reported_counts "
            "WHERE day BETWEEN $w AND $t AND unit = 'count' "
            "ORDER BY try_cast(number AS DOUBLE) DESC NULLS LAST LIMIT 10",
            {"w": week_start, "t": today},
        ).fetchall()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"digest-{today.isoformat()}.md"
    path.write_text(
        f"# Immigration enforcement news, {week_start} to {today}\n\n"
        "## Relevant articles by subtopic (this week, last week)\n\n"
        + _table(["subtopic", "this week", "last week"], topics)
        + "\n## States\n\n"
        + _table(["state", "articles"], states)
        + "\n## Agencies\n\n"
        + _table(["agency", "articles"], agencies)
        + "\n## Largest reported counts\n\n"
        + _table(["number", "counts", "qualifier", "state", "evidence"], counts),
        encoding="utf-8",
    )
    return path
