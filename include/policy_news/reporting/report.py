"""The weekly HTML report: one self-contained page analysts open offline.

Reads the analyst snapshot read-only (so it never blocks a load), asks the
questions in `queries`, draws the charts with matplotlib (inline SVG) and
renders an autoescaped Jinja2 template. The page fetches nothing: its Content
Security Policy forbids every external load, so it reads the same on a plane.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb
import jinja2

from policy_news.reporting import charts, queries

_TEMPLATES = Path(__file__).with_name("templates")


def write_report(snapshot: Path, out_dir: Path, week: str | None = None) -> Path:
    """Write `report-YYYY-Www.html` for `week` (default: the latest data's week)."""
    chosen = queries.parse_week(week) if week else None
    with duckdb.connect(str(snapshot), read_only=True) as conn:
        context = build_context(conn, chosen or queries.latest_week(conn))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"report-{context['week'].label}.html"
    partial = path.with_suffix(".html.partial")
    partial.write_text(render(context), encoding="utf-8")
    partial.replace(path)  # readers never see half a page
    return path


def build_context(conn: duckdb.DuckDBPyConnection, week: queries.Week) -> dict[str, Any]:
    """Everything the template shows, charts included."""
    trend = queries.weekly_by_subtopic(conn, week)
    weeks = week.trend_weeks
    states = queries.states(conn, week)
    agencies = queries.agencies(conn, week)
    context: dict[str, Any] = {
        "week": week,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "taxonomy_version": queries.current_taxonomy(conn),
        "relevant_articles": queries.relevant_articles(conn, week),
        "subtopics": _subtopic_rows(trend, week),
        "states": states,
        "agencies": agencies,
        "operations": queries.operations(conn, week),
        "counts": queries.largest_counts(conn, week),
        "mentions_287g": queries.new_287g_mentions(conn, week),
        "feeds": queries.feed_health(conn),
        "charts": {},
    }
    context["feed_summary"] = dict(Counter(row["health"] for row in context["feeds"]))
    chart_svgs: dict[str, str] = context["charts"]
    if trend:
        chart_svgs["trend_articles"] = charts.trend_chart(
            _series(trend, "articles"), weeks, name="trend_articles", ylabel="relevant articles"
        )
        chart_svgs["trend_stories"] = charts.trend_chart(
            _series(trend, "stories"), weeks, name="trend_stories", ylabel="stories"
        )
    if states:
        chart_svgs["states"] = charts.ranked_bar_chart(
            [r["state"] for r in states],
            [r["articles"] for r in states],
            name="states",
            xlabel="relevant articles naming the state",
        )
    if agencies:
        chart_svgs["agencies"] = charts.ranked_bar_chart(
            [r["agency"] for r in agencies],
            [r["articles"] for r in agencies],
            name="agencies",
            xlabel="relevant articles naming the agency",
        )
    return context


def render(context: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["when"] = _when
    env.filters["link"] = safe_link
    return env.get_template("report.html.j2").render(**context)


def safe_link(url: object) -> str | None:
    """Only http(s) URLs become links: a `javascript:` URL from a feed must not be clickable."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def _subtopic_rows(trend: list[queries.Row], week: queries.Week) -> list[dict[str, Any]]:
    previous = week.start - timedelta(weeks=1)
    rows: dict[str, dict[str, Any]] = {}
    for r in trend:
        row = rows.setdefault(
            r["subtopic"],
            {
                "subtopic": r["subtopic"],
                "articles": 0,
                "previous_articles": 0,
                "stories": 0,
                "previous_stories": 0,
                "trend_articles": 0,
            },
        )
        row["trend_articles"] += r["articles"] or 0
        if r["week"] == week.start:
            row["articles"] += r["articles"] or 0
            row["stories"] += r["stories"] or 0
        elif r["week"] == previous:
            row["previous_articles"] += r["articles"] or 0
            row["previous_stories"] += r["stories"] or 0
    return sorted(
        rows.values(), key=lambda r: (-r["articles"], -r["trend_articles"], r["subtopic"])
    )


def _series(trend: list[queries.Row], value: str) -> dict[str, dict[date, int]]:
    series: dict[str, dict[date, int]] = {}
    for r in trend:
        series.setdefault(r["subtopic"], {})[r["week"]] = r[value] or 0
    return series


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)
