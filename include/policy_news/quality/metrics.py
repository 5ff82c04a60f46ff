"""Run-level numbers and per-feed volume, as one-row and per-feed frames GX judges.

`run_metrics` turns a run's frames into shares (failed feeds, failed extractions,
duplicates, undated and quarantined articles); a share over too few rows is None and
its check is skipped rather than judged on noise. `feed_volume` compares each feed's
silence this run with its usual rhythm from `feed_baseline` (the "silent zero": a
feed that fetches fine but has stopped yielding new items).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from policy_news.quality.config import ParamsConfig, load_checks_config
from policy_news.quality.values import utc_series

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping
    from pathlib import Path

    import duckdb


def _share(numerator: float, denominator: float, minimum: int) -> float | None:
    if denominator < minimum or denominator <= 0:
        return None
    return float(numerator) / float(denominator)


def run_metrics(
    run_id: str,
    frames: Mapping[str, pd.DataFrame],
    quarantined_articles: int,
    params: ParamsConfig,
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
    """The run's shares as a one-row frame, and per share its numerator and denominator."""
    fetches = frames.get("feed_fetches")
    items = frames.get("feed_items")
    articles = frames.get("articles")
    failures = frames.get("failures")
    n_fetches = 0 if fetches is None else len(fetches)
    n_fetch_errors = (
        0
        if fetches is None or "outcome" not in fetches
        else int((fetches["outcome"] == "error").sum())
    )
    n_articles = 0 if articles is None else len(articles)
    n_failures = 0 if failures is None else len(failures)
    # The extraction share judges this run's feed items only: retries of earlier
    # failures (often permanent, e.g. refused addresses) would otherwise block every
    # later run, and a blocked run never gets to count their attempts.
    n_new_articles, n_new_failures = n_articles, n_failures
    if items is not None and "article_id" in items:
        current = set(items["article_id"])
        if articles is not None and "article_id" in articles:
            n_new_articles = int(articles["article_id"].isin(current).sum())
        if failures is not None and "article_id" in failures:
            n_new_failures = int(failures["article_id"].isin(current).sum())
    n_undated = (
        0
        if articles is None or "date_source" not in articles
        else int((articles["date_source"] == "unknown").sum())
    )

    # duplicates: items repeating an earlier item's article_id, plus distinct articles
    # whose extracted content repeats an earlier article's content_hash.
    n_items = 0 if items is None else len(items)
    id_dups = content_dups = 0
    hashes: pd.Series | None = None
    if articles is not None and {"article_id", "content_hash"} <= set(articles.columns):
        hashes = articles.drop_duplicates("article_id").set_index("article_id")["content_hash"]
    if items is not None and "article_id" in items and n_items:
        id_dups = int(items["article_id"].duplicated().sum())
        if hashes is not None:
            distinct = pd.Series(items["article_id"].drop_duplicates().to_numpy())
            content_dups = int(distinct.map(hashes).dropna().duplicated().sum())
        denominator = n_items
    else:
        if hashes is not None:
            content_dups = int(hashes.dropna().duplicated().sum())
        denominator = n_articles

    metrics: dict[str, dict[str, Any]] = {
        "failed_feed_share": {
            "value": _share(n_fetch_errors, n_fetches, params.min_feeds_for_share),
            "numerator": n_fetch_errors,
            "denominator": n_fetches,
            "min_denominator": params.min_feeds_for_share,
        },
        "failed_extraction_share": {
            "value": _share(
                n_new_failures, n_new_articles + n_new_failures, params.min_articles_for_share
            ),
            "numerator": n_new_failures,
            "denominator": n_new_articles + n_new_failures,
            "min_denominator": params.min_articles_for_share,
        },
        "duplicate_rate": {
            "value": _share(id_dups + content_dups, denominator, params.min_items_for_share),
            "numerator": id_dups + content_dups,
            "denominator": denominator,
            "article_id_duplicates": id_dups,
            "content_hash_duplicates": content_dups,
            "min_denominator": params.min_items_for_share,
        },
        "undated_share": {
            "value": _share(n_undated, n_articles, params.min_articles_for_share),
            "numerator": n_undated,
            "denominator": n_articles,
            "min_denominator": params.min_articles_for_share,
        },
        "quarantined_article_share": {
            "value": _share(quarantined_articles, n_articles, params.min_articles_for_share),
            "numerator": quarantined_articles,
            "denominator": n_articles,
            "min_denominator": params.min_articles_for_share,
        },
    }
    row: dict[str, Any] = {"run_id": run_id}
    for name, info in metrics.items():
        row[name] = float("nan") if info["value"] is None else info["value"]
    return pd.DataFrame([row]), metrics


def feed_volume(
    frames: Mapping[str, pd.DataFrame],
    baseline: pd.DataFrame | None,
    params: ParamsConfig,
    now: datetime,
) -> pd.DataFrame:
    """One row per feed fetched fine this run: hours since its last new item vs its rhythm."""
    columns = [
        "feed_name",
        "items_new",
        "hours_since_new",
        "median_gap_hours",
        "fetches_with_new",
        "dq_silence_ratio",
        "dq_describe",
    ]
    fetches = frames.get("feed_fetches")
    if fetches is None or fetches.empty or "feed_name" not in fetches:
        return pd.DataFrame(columns=columns)
    ok = fetches[fetches.get("outcome", pd.Series("ok", index=fetches.index)) != "error"]
    if ok.empty:
        return pd.DataFrame(columns=columns)
    per_feed = ok.groupby("feed_name", sort=True).agg(
        items_new=("items_new", "sum") if "items_new" in ok else ("feed_name", "size"),
    )
    if "items_new" not in ok:
        per_feed["items_new"] = 0
    base = None
    if baseline is not None and not baseline.empty and "feed_name" in baseline:
        base = baseline.drop_duplicates("feed_name").set_index("feed_name")
    rows = []
    for feed_name, agg in per_feed.iterrows():
        new_now = int(agg["items_new"])
        last_new = gap = None
        with_new = 0
        if base is not None and feed_name in base.index:
            b = base.loc[feed_name]
            last_new = b.get("last_new_item_at")
            gap = b.get("median_gap_hours")
            with_new = int(b.get("fetches_with_new") or 0)
        hours = None
        if new_now > 0:
            hours = 0.0
        elif last_new is not None and not pd.isna(last_new):
            last = pd.Timestamp(last_new)
            last = last.tz_localize("UTC") if last.tzinfo is None else last.tz_convert("UTC")
            hours = max((pd.Timestamp(now) - last).total_seconds() / 3600.0, 0.0)
        ratio = None
        if (
            hours is not None
            and gap is not None
            and not pd.isna(gap)
            and with_new >= params.baseline_min_new_fetches
        ):
            ratio = hours / max(float(gap), params.baseline_min_gap_hours)
        describe = (
            f"{feed_name} ({hours:.0f} h without new items, usual gap {float(gap):.1f} h)"
            if ratio is not None and hours is not None and gap is not None
            else str(feed_name)
        )
        rows.append(
            {
                "feed_name": feed_name,
                "items_new": new_now,
                "hours_since_new": hours,
                "median_gap_hours": None if gap is None or pd.isna(gap) else float(gap),
                "fetches_with_new": with_new,
                "dq_silence_ratio": float("nan") if ratio is None else ratio,
                "dq_describe": describe,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def feed_baseline(
    conn: duckdb.DuckDBPyConnection,
    now: datetime | None = None,
    *,
    lookback_days: int | None = None,
    config_path: Path | None = None,
) -> pd.DataFrame:
    """Each feed's recent rhythm from tables `feeds` and `feed_fetches` (before this run).

    Columns: feed_name, fetches, fetches_with_new, median_gap_hours (median hours between
    consecutive fetches that brought new items), mean_new_per_fetch, last_fetch_at,
    last_new_item_at (latest of feeds.last_new_item_at and the last fetch with new items).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if lookback_days is None:
        lookback_days = load_checks_config(config_path).params.baseline_lookback_days
    since = now - timedelta(days=lookback_days)
    sql = """
        WITH recent AS (
            SELECT feed_name, fetched_at, items_new, outcome
            FROM feed_fetches
            WHERE fetched_at >= ? AND fetched_at <= ?
        ),
        new_fetches AS (
            SELECT feed_name, fetched_at,
                   epoch(fetched_at) - epoch(lag(fetched_at) OVER (
                       PARTITION BY feed_name ORDER BY fetched_at)) AS gap_s
            FROM recent WHERE items_new > 0
        ),
        gaps AS (
            SELECT feed_name, median(gap_s) / 3600.0 AS median_gap_hours,
                   max(fetched_at) AS last_new_fetch_at
            FROM new_fetches GROUP BY feed_name
        ),
        counts AS (
            SELECT feed_name, count(*) AS fetches,
                   count(*) FILTER (WHERE items_new > 0) AS fetches_with_new,
                   avg(items_new) FILTER (WHERE outcome <> 'error') AS mean_new_per_fetch,
                   max(fetched_at) AS last_fetch_at
            FROM recent GROUP BY feed_name
        ),
        names AS (
            SELECT feed_name FROM feeds UNION SELECT feed_name FROM counts
        )
        SELECT n.feed_name,
               coalesce(c.fetches, 0) AS fetches,
               coalesce(c.fetches_with_new, 0) AS fetches_with_new,
               g.median_gap_hours,
               c.mean_new_per_fetch,
               c.last_fetch_at,
               CASE WHEN f.last_new_item_at IS NULL THEN g.last_new_fetch_at
                    WHEN g.last_new_fetch_at IS NULL THEN f.last_new_item_at
                    ELSE greatest(f.last_new_item_at, g.last_new_fetch_at) END
                   AS last_new_item_at
        FROM names n
        LEFT JOIN feeds f USING (feed_name)
        LEFT JOIN counts c USING (feed_name)
        LEFT JOIN gaps g USING (feed_name)
        ORDER BY n.feed_name
    """
    frame = conn.execute(sql, [since, now]).df()
    for column in ("last_fetch_at", "last_new_item_at"):
        frame[column] = utc_series(frame[column])
    return frame
