"""Prints, as JSON, what a worker holds: run inside its mount namespace (see cluster.run_in_worker).

python -m tools.distributed.inspect_store rows DB_PATH   # articles with relevance and subtopics
python -m tools.distributed.inspect_store files DIR      # every file under DIR, with its size
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROWS_SQL = """
SELECT a.article_id, a.relevant, round(a.relevance_score, 6),
       coalesce(list_sort(list(DISTINCT t.subtopic) FILTER (WHERE t.subtopic IS NOT NULL)), [])
FROM articles a LEFT JOIN current_article_topics t USING (article_id)
GROUP BY ALL ORDER BY a.article_id
"""


def stored_rows(db_path: Path) -> dict[str, Any]:
    """Articles keyed by id, and the row count (a duplicate shows as count > number of keys)."""
    if not db_path.is_file():
        return {"error": f"no database at {db_path}"}
    import duckdb

    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = conn.execute(ROWS_SQL).fetchall()
        (count,) = conn.execute("SELECT count(*) FROM articles").fetchone() or (0,)
        runs = conn.execute("SELECT count(*) FROM pipeline_runs").fetchone() or (0,)
    finally:
        conn.close()
    articles = {
        article_id: {"relevant": relevant, "score": score, "subtopics": list(subtopics)}
        for article_id, relevant, score, subtopics in rows
    }
    return {"articles": articles, "article_rows": count, "pipeline_runs": runs[0]}


def files_under(folder: Path) -> dict[str, int]:
    if not folder.exists():
        return {}
    return {str(p): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


def main(argv: list[str]) -> int:
    kind, target = argv[0], Path(argv[1])
    result: Any = stored_rows(target) if kind == "rows" else files_under(target)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
