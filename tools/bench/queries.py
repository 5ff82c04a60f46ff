"""Analyst queries over a synthetic database of 1,000,000 articles with the real schema.

The database is made by the project's own migrations (`connection.open_db`), then filled
in bulk with DuckDB SQL (`range()` + `random()`): two years of articles, a fifth of
them relevant, 1-3 current subtopics per relevant article, places (states, cities),
agencies, programs and counts as facts, an older taxonomy version's rows beside the
current ones, some syndicated duplicates. Then the views analysts use are timed.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from policy_news.store import connection
from policy_news.tagging.places import fifty_state_names
from policy_news.tagging.taxonomy import GUIDE_SUBTOPICS

SUBTOPICS = list(GUIDE_SUBTOPICS)
STATES = fifty_state_names()
AGENCIES = [
    "U.S. Immigration and Customs Enforcement",
    "U.S. Customs and Border Protection",
    "U.S. Border Patrol",
    "Homeland Security Investigations",
    "Department of Homeland Security",
    "U.S. Citizenship and Immigration Services",
    "Enforcement and Removal Operations",
    "Federal Bureau of Investigation",
    "Department of Justice",
    "National Guard",
    "Harris County Sheriff's Office",
    "Maricopa County Sheriff's Office",
    "Texas Department of Public Safety",
    "Florida Highway Patrol",
    "Chicago Police Department",
]

CURRENT, OLD = "2026.01.0", "2025.12.0"


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _count(conn: Any, sql: str) -> int:
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def build(db_path: Path, articles: int, seed: float = 0.42) -> dict[str, Any]:
    """Create the database (migrations, then bulk synthetic rows); returns counts and seconds."""
    for suffix in ("", ".wal"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    started = time.perf_counter()
    with connection.open_db(db_path) as conn:
        conn.execute("SET enable_progress_bar = false")
        conn.execute(f"SELECT setseed({seed})")
        conn.execute(
            "INSERT INTO taxonomy_versions VALUES (?, now(), TRUE, NULL), (?, now(), FALSE, NULL)",
            [CURRENT, OLD],
        )
        conn.execute(f"""
            CREATE TEMP TABLE src AS
            SELECT i,
                   TIMESTAMPTZ '2024-01-01 00:00:00+00'
                       + to_seconds((random() * 730 * 86400)::BIGINT) AS ts,
                   random() AS r_rel, random() AS r_dup, random() AS r_date,
                   (random() * 999)::INT AS feed
            FROM range({int(articles)}) t(i)
        """)
        conn.execute(f"""
            INSERT INTO articles BY NAME
            SELECT 'a' || lpad(i::VARCHAR, 8, '0') AS article_id,
                   'https://outlet' || (i % 700) || '.example/story/' || i AS url,
                   'https://outlet' || (i % 700) || '.example/story/' || i AS final_url,
                   'feed-' || feed AS feed_name,
                   'Synthetic story ' || i AS title,
                   NULL AS summary,
                   'Synthetic article body ' || i AS text,
                   'en' AS language,
                   CASE WHEN r_date < 0.05 THEN NULL ELSE ts END AS published_at,
                   CASE WHEN r_date < 0.05 THEN 'unknown' WHEN r_date < 0.9 THEN 'feed' ELSE 'html' END
                       AS date_source,
                   ts + INTERVAL 20 MINUTE AS fetched_at,
                   200 AS http_status,
                   md5(i::VARCHAR) AS content_hash,
                   CASE WHEN r_rel < 0.2 AND r_dup < 0.03 AND i > 10
                        THEN 'a' || lpad((i - 7)::VARCHAR, 8, '0') END AS duplicate_of,
                   400 + (i % 900) AS word_count,
                   r_rel < 0.2 AS relevant,
                   CASE WHEN r_rel < 0.2 THEN 0.5 + r_rel * 2 ELSE r_rel / 5 END AS relevance_score,
                   '{CURRENT}' AS taxonomy_version,
                   'bench' AS first_run_id, 'bench' AS last_run_id, ts + INTERVAL 30 MINUTE AS loaded_at
            FROM src
        """)
        # 1-3 current subtopics per relevant article (+ an older version's rows for 10%)
        conn.execute(f"""
            INSERT INTO article_topics BY NAME
            SELECT DISTINCT ON (article_id, subtopic, taxonomy_version)
                   'a' || lpad(i::VARCHAR, 8, '0') AS article_id,
                   {_list(SUBTOPICS)}[1 + ((i * 7 + k * 5 + (r_dup * 1000)::INT) % {len(SUBTOPICS)})]
                       AS subtopic,
                   CASE WHEN k = 3 AND r_date > 0.9 THEN '{OLD}' ELSE '{CURRENT}' END AS taxonomy_version,
                   0.5 + r_rel AS score, 'evidence sentence' AS evidence, 'text' AS field,
                   0 AS start_offset, 17 AS end_offset, 'rule-' || k AS rule_id
            FROM src, range(1, 4) t(k)
            WHERE r_rel < 0.2 AND (k = 1 OR (k = 2 AND r_dup < 0.5) OR k = 3)
        """)
        # facts: every article 0-3 places, relevant ones also agencies, programs and counts
        conn.execute(f"""
            INSERT INTO article_facts BY NAME
            SELECT 'a' || lpad(i::VARCHAR, 8, '0') AS article_id,
                   '{CURRENT}' AS taxonomy_version,
                   k AS fact_index,
                   CASE WHEN k < 3 THEN 'place'
                        WHEN k < 5 THEN 'agency'
                        WHEN k = 5 THEN 'count' ELSE 'program' END AS kind,
                   CASE WHEN k < 3 THEN {_list(STATES)}[1 + ((i * 13 + k * 17) % {len(STATES)})]
                        WHEN k < 5 THEN {_list(AGENCIES)}[1 + ((i * 11 + k * 3) % {len(AGENCIES)})]
                        WHEN k = 5 THEN ((i % 400) + 2)::VARCHAR ELSE '287(g)' END AS value,
                   CASE WHEN k < 3 THEN {_list(STATES)}[1 + ((i * 13 + k * 17) % {len(STATES)})]
                        WHEN k < 5 THEN {_list(AGENCIES)}[1 + ((i * 11 + k * 3) % {len(AGENCIES)})]
                        WHEN k = 5 THEN ((i % 400) + 2)::VARCHAR ELSE '287(g)' END AS normalized,
                   'evidence sentence' AS sentence, 'text' AS field,
                   0 AS start_offset, 10 AS end_offset, 'fact-rule' AS rule_id,
                   CASE WHEN k = 0 THEN '{{"level": "state"}}'
                        WHEN k = 1 THEN '{{"level": "state"}}'
                        WHEN k = 2 THEN '{{"level": "city", "state": "Texas"}}'
                        WHEN k < 5 THEN '{{"level": "federal"}}'
                        WHEN k = 5 THEN '{{"counts": "arrests", "unit": "people"}}'
                        ELSE '{{}}' END AS attrs
            FROM src, range(0, 7) t(k)
            WHERE (k = 0 AND r_date < 0.7)
               OR (k = 1 AND r_rel < 0.1)
               OR (k = 2 AND r_dup < 0.3)
               OR (k BETWEEN 3 AND 6 AND r_rel < 0.2 AND (k = 3 OR r_dup < 0.5))
        """)
        conn.execute("DROP TABLE src")
        conn.execute("CHECKPOINT")
        counts = {
            t: _count(conn, f"SELECT count(*) FROM {t}")
            for t in ("articles", "article_topics", "article_facts")
        }
        counts["relevant"] = _count(conn, "SELECT count(*) FROM articles WHERE relevant")
    return {
        "counts": counts,
        "build_s": round(time.perf_counter() - started, 2),
        "size_mib": round(db_path.stat().st_size / 2**20, 1),
    }


QUERIES = {
    "relevant_daily_by_subtopic_state (whole view)": "SELECT * FROM relevant_daily_by_subtopic_state",
    "agencies_weekly (whole view)": "SELECT * FROM agencies_weekly",
    "per day/subtopic/state, last 90 days": (
        "SELECT * FROM relevant_daily_by_subtopic_state "
        "WHERE day >= (SELECT max(day) FROM article_days) - 90 ORDER BY day, subtopic, state"
    ),
    "top 10 agencies per week, last 26 weeks": (
        "SELECT * FROM (SELECT week, agency, articles, row_number() OVER "
        "(PARTITION BY week ORDER BY articles DESC) AS rank FROM agencies_weekly "
        "WHERE week >= (SELECT max(day) FROM article_days) - INTERVAL 26 WEEK) WHERE rank <= 10 "
        "ORDER BY week, rank"
    ),
}


def time_queries(db_path: Path, repeats: int = 3) -> dict[str, Any]:
    """Each query: first (cold) run and median of `repeats` warm runs, rows returned."""
    out: dict[str, Any] = {}
    conn = connection.connect(db_path, read_only=True)
    try:
        for name, sql in QUERIES.items():
            times = []
            rows = 0
            for _ in range(repeats + 1):
                t = time.perf_counter()
                rows = conn.sql(sql).to_arrow_table().num_rows
                times.append(time.perf_counter() - t)
            out[name] = {
                "rows": rows,
                "first_s": round(times[0], 3),
                "median_s": round(statistics.median(times[1:]), 3),
            }
    finally:
        conn.close()
    return out
