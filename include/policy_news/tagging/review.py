"""Human review of the tagger: export a coding sheet, import the reviewer's decisions.

The sheet (CSV, one row per article) holds every article the tagger flagged
`needs_review` (its probability fell in the taxonomy's borderline band) and a seeded
random sample of the others, so reviewers also see the cases the machine was sure of
and the evaluation on reviewed articles is not only about hard cases. A decision is
stored in `tag_reviews` keyed by article and reviewer; the analyst views use the latest
decision for an article over the machine's (migration 005).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import date
    from pathlib import Path

    import duckdb

# Articles not flagged for review that join the sheet, picked at random (seeded, so the
# same database gives the same sheet, e.g. for two reviewers measuring agreement).
SAMPLE_SIZE = 20
SAMPLE_SEED = 2026

MACHINE_COLUMNS = (
    "article_id",
    "link",
    "title",
    "day",
    "taxonomy_version",
    "relevant",
    "probability",
    "needs_review",
    "subtopics",
    "evidence",
)
REVIEWER_COLUMNS = ("reviewer_relevant", "reviewer_subtopics", "reviewer_note")
SHEET_COLUMNS = MACHINE_COLUMNS + REVIEWER_COLUMNS
# What import reads; the machine's other columns are there for the reviewer's eyes.
REQUIRED_COLUMNS = ("article_id", "taxonomy_version", *REVIEWER_COLUMNS)

_YES = {"yes", "y"}
_NO = {"no", "n"}
_MAX_ERRORS_SHOWN = 20


class SheetError(ValueError):
    """A coding sheet that cannot be imported; the message names each bad row and column."""


@dataclass(frozen=True)
class Decision:
    """One reviewed row of a sheet."""

    article_id: str
    taxonomy_version: str
    relevant: bool
    subtopics: tuple[str, ...] | None  # None: the machine's subtopics stand
    note: str | None


# -- export ---------------------------------------------------------------------

_CANDIDATES = """
SELECT a.article_id, coalesce(a.needs_review, FALSE), d.day
FROM articles a JOIN article_days d USING (article_id)
WHERE a.duplicate_of IS NULL AND a.taxonomy_version IS NOT NULL
  AND ($since IS NULL OR d.day >= $since)
ORDER BY a.article_id
"""

_SHEET_ROWS = """
SELECT a.article_id, coalesce(nullif(a.final_url, ''), a.url) AS link, a.title, d.day,
       a.taxonomy_version, a.relevant, a.relevance_probability, coalesce(a.needs_review, FALSE),
       (SELECT list(t.subtopic ORDER BY t.score DESC, t.subtopic) FROM article_topics t
        WHERE t.article_id = a.article_id AND t.taxonomy_version = a.taxonomy_version),
       (SELECT list(t.subtopic || ': ' || t.evidence ORDER BY t.score DESC, t.subtopic)
        FROM article_topics t
        WHERE t.article_id = a.article_id AND t.taxonomy_version = a.taxonomy_version),
       r.evidence
FROM articles a
JOIN article_days d USING (article_id)
LEFT JOIN article_relevance r
       ON r.article_id = a.article_id AND r.taxonomy_version = a.taxonomy_version
WHERE a.article_id IN (SELECT article_id FROM sheet_ids)
"""


def select_for_review(
    conn: duckdb.DuckDBPyConnection,
    since: date | None = None,
    limit: int | None = None,
    sample_size: int = SAMPLE_SIZE,
    seed: int = SAMPLE_SEED,
) -> list[str]:
    """Ids for the sheet: every borderline article (newest first), then a seeded sample
    of the rest; `limit` caps the total (borderline articles first)."""
    rows = conn.execute(_CANDIDATES, {"since": since}).fetchall()
    flagged_rows = sorted((r for r in rows if r[1]), key=lambda r: (-r[2].toordinal(), r[0]))
    borderline = [article_id for article_id, _, _ in flagged_rows]
    others = [article_id for article_id, flagged, _ in rows if not flagged]
    sample = random.Random(seed).sample(others, min(sample_size, len(others)))
    chosen = borderline + sorted(sample)
    return chosen if limit is None else chosen[:limit]


def sheet_rows(conn: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The machine's view of each article, with empty reviewer columns, in `article_ids` order."""
    import pyarrow as pa

    conn.register("sheet_ids", pa.table({"article_id": pa.array(list(article_ids), pa.string())}))
    try:
        found = conn.execute(_SHEET_ROWS).fetchall()
    finally:
        conn.unregister("sheet_ids")
    by_id: dict[str, dict[str, Any]] = {}
    for (
        article_id,
        link,
        title,
        day,
        version,
        relevant,
        probability,
        flagged,
        subtopics,
        topic_evidence,
        relevance_evidence,
    ) in found:
        evidence = ([f"relevance: {relevance_evidence}"] if relevance_evidence else []) + list(
            topic_evidence or []
        )
        by_id[article_id] = {
            "article_id": article_id,
            "link": link,
            "title": title or "",
            "day": day.isoformat() if day else "",
            "taxonomy_version": version,
            "relevant": _yes_no(relevant),
            "probability": "" if probability is None else f"{probability:.3f}",
            "needs_review": _yes_no(flagged),
            "subtopics": "; ".join(subtopics or []),
            "evidence": "\n".join(evidence),
            **dict.fromkeys(REVIEWER_COLUMNS, ""),
        }
    return [by_id[i] for i in article_ids if i in by_id]


def write_sheet(rows: Iterable[dict[str, Any]], path: Path) -> int:
    """Write the rows as CSV (UTF-8 with BOM, so spreadsheet programs read the accents)."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(SHEET_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def export_sheet(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    since: date | None = None,
    limit: int | None = None,
    sample_size: int = SAMPLE_SIZE,
) -> int:
    """Write a coding sheet to `path`; returns the number of articles in it."""
    ids = select_for_review(conn, since, limit, sample_size)
    return write_sheet(sheet_rows(conn, ids), path)


def _yes_no(value: object) -> str:
    return "yes" if value else "no"


# -- import ---------------------------------------------------------------------


def read_sheet(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The sheet's rows with their spreadsheet row numbers (the header is row 1)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise SheetError(
                f"{path}: nothing imported: row 1 (header): missing column(s) "
                f"{', '.join(missing)}; a sheet needs {', '.join(REQUIRED_COLUMNS)}"
            )
        reader.fieldnames = header
        return [
            (number, {k: (v or "").strip() for k, v in row.items() if k is not None})
            for number, row in enumerate(reader, start=2)
        ]


def validate_rows(
    rows: Sequence[tuple[int, dict[str, str]]],
    known_articles: set[str],
    subtopics_of: dict[str, set[str]],
    source: str = "sheet",
) -> list[Decision]:
    """Every reviewed row as a Decision, or SheetError listing each bad cell.

    A row with an empty `reviewer_relevant` and nothing else filled in was not
    reviewed and is skipped.
    """
    decisions: list[Decision] = []
    errors: list[str] = []
    for number, row in rows:
        decision = _decision(row, number, known_articles, subtopics_of, errors)
        if decision is not None:
            decisions.append(decision)
    if errors:
        shown = errors[:_MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise SheetError(f"{source}: nothing imported:\n  " + "\n  ".join(shown) + tail)
    return decisions


def _decision(
    row: dict[str, str],
    number: int,
    known_articles: set[str],
    subtopics_of: dict[str, set[str]],
    errors: list[str],
) -> Decision | None:
    def cell(column: str) -> str:
        return row.get(column, "")

    def bad(column: str, message: str) -> None:
        errors.append(f"row {number}, column {column}: {message}")

    article_id, version = cell("article_id"), cell("taxonomy_version")
    answer, listed, note = (cell(c) for c in REVIEWER_COLUMNS)
    if not answer:
        if listed or note:
            bad("reviewer_relevant", "empty, but the row has reviewer subtopics or a note")
        return None
    before = len(errors)
    if article_id not in known_articles:
        bad("article_id", f"unknown article id {article_id!r}")
    relevant = answer.lower() in _YES
    if not relevant and answer.lower() not in _NO:
        bad("reviewer_relevant", f"{answer!r} is not yes or no")
    known_subtopics = subtopics_of.get(version)
    if known_subtopics is None:
        bad("taxonomy_version", f"unknown taxonomy version {version!r}")
        known_subtopics = set()
    subtopics = tuple(dict.fromkeys(s.strip() for s in listed.split(";") if s.strip()))
    if subtopics and not relevant:
        bad("reviewer_subtopics", "subtopics given for an article reviewed as not relevant")
    for subtopic in subtopics:
        if subtopic not in known_subtopics:
            known = ", ".join(sorted(known_subtopics))
            bad("reviewer_subtopics", f"unknown subtopic {subtopic!r} (known: {known})")
    if len(errors) > before:
        return None
    return Decision(article_id, version, relevant, subtopics or None, note or None)


def known_subtopics(
    conn: duckdb.DuckDBPyConnection, fallback: Sequence[str]
) -> dict[str, set[str]]:
    """Subtopic ids per stored taxonomy version (from its stored definition; `fallback`,
    the configured taxonomy's ids, for versions stored without one)."""
    found: dict[str, set[str]] = {}
    for version, definition in conn.execute(
        "SELECT taxonomy_version, definition FROM taxonomy_versions"
    ).fetchall():
        data = json.loads(definition) if isinstance(definition, str) else definition
        ids = {s["id"] for s in (data or {}).get("subtopics") or [] if "id" in s}
        found[version] = ids or set(fallback)
    return found


def stored_article_ids(conn: duckdb.DuckDBPyConnection, article_ids: Iterable[str]) -> set[str]:
    """Which of these ids name a stored article."""
    import pyarrow as pa

    ids = pa.table({"article_id": pa.array(sorted(article_ids), pa.string())})
    conn.register("sheet_ids", ids)
    try:
        rows = conn.execute(
            "SELECT article_id FROM articles WHERE article_id IN (SELECT article_id FROM sheet_ids)"
        ).fetchall()
    finally:
        conn.unregister("sheet_ids")
    return {r[0] for r in rows}


def store_decisions(
    conn: duckdb.DuckDBPyConnection,
    decisions: Sequence[Decision],
    reviewer: str,
    reviewed_at: datetime,
) -> int:
    """Write the decisions in one transaction, replacing this reviewer's earlier ones."""
    conn.execute("BEGIN TRANSACTION")
    try:
        for d in decisions:
            conn.execute(
                "INSERT OR REPLACE INTO tag_reviews (article_id, reviewer, reviewed_at, "
                "taxonomy_version, relevant, subtopics, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    d.article_id,
                    reviewer,
                    reviewed_at,
                    d.taxonomy_version,
                    d.relevant,
                    list(d.subtopics) if d.subtopics is not None else None,
                    d.note,
                ],
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(decisions)


def import_sheet(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    reviewer: str,
    fallback_subtopics: Sequence[str],
    reviewed_at: datetime | None = None,
) -> int:
    """Validate the whole sheet, then store its decisions; returns how many were stored."""
    reviewer = reviewer.strip()
    if not reviewer:
        raise SheetError("a reviewer name is required")
    rows = read_sheet(path)
    known_articles = stored_article_ids(conn, {row.get("article_id", "") for _, row in rows})
    subtopics_of = known_subtopics(conn, fallback_subtopics)
    decisions = validate_rows(rows, known_articles, subtopics_of, source=str(path))
    return store_decisions(conn, decisions, reviewer, reviewed_at or datetime.now(UTC))
