"""CPU of near-duplicates and stories, per article of a realistic batch.

The texts are hashed here as the loader does for texts without staged sketches (retag);
in a pipeline run the extraction workers make those sketches (~2 ms a page) and the
loader only compares them, so the loader's own share is lower than the figure.

`python -m tools.bench.stories_overhead [--articles 500] [--days 3]`

Builds a migrated DuckDB file, then loads `--days` daily batches of `--articles`
articles made from the shared labelled texts (`../shared/corpus/labels/articles-dev.jsonl`),
each text repeated as synthetic rewrites (other headline, boilerplate, trimmed,
appended, word edits). Tags come from the bundled taxonomy (each source text tagged
once, its rewrites sharing its tags). Each batch runs what `store.loader.load_run`
runs in its transaction: `update_near_duplicates`, then `update_stories`; the last
batch, with the earlier days in its window, is the one reported. Every rewrite has
copies in the batch and the window, so LSH finds far more candidates than on real
feeds: an upper bound.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2].parent / "shared/corpus/labels/articles-dev.jsonl"
PIPELINE_MS_PER_ARTICLE = 26.0  # extraction ~20 ms + tagging, checks and load (docs/stories.md)


def _sources() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]


def _batch(sources: list[dict[str, Any]], day: int, size: int) -> list[tuple[str, str, str, str]]:
    """(article_id, source_id, title, text) rewrites of the sources, `size` of them."""
    from policy_news.stories.synthetic import rewrite

    batch: list[tuple[str, str, str, str]] = []
    variant = 0
    while len(batch) < size:
        for source in sources:
            if len(batch) == size:
                break
            copy = rewrite(source["id"], source["title"], source["text"], day * 100 + variant)
            batch.append((f"d{day}-{copy.article_id}", source["id"], copy.title, copy.text))
        variant += 1
    return batch


def measure(
    articles: int = 500,
    days: int = 3,
    say: Any = print,
    pipeline_ms: float = PIPELINE_MS_PER_ARTICLE,
) -> dict[str, Any]:
    """Load `days` batches of `articles` rewrites; the last batch's stories CPU per article,
    against `pipeline_ms`, the whole pipeline's CPU per article (measured by the bench)."""
    from policy_news.pipeline.retag import (
        FACT_COLUMNS,
        RELEVANCE_COLUMNS,
        TOPIC_COLUMNS,
        _insert,
    )
    from policy_news.store import connection
    from policy_news.stories.persistence import update_near_duplicates, update_stories
    from policy_news.tagging.rows import result_rows
    from policy_news.tagging.tagger import get_tagger

    sources = _sources()
    tagger = get_tagger()
    now = datetime.now(UTC)
    tags = {s["id"]: tagger.tag(s["title"], None, s["text"]) for s in sources}
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    with (
        tempfile.TemporaryDirectory() as folder,
        connection.open_db(Path(folder) / "bench.duckdb") as conn,
    ):
        conn.execute(
            "INSERT INTO taxonomy_versions VALUES (?, ?, TRUE, NULL)", [tagger.version, now]
        )
        for day in range(days):
            batch = _batch(sources, day, articles)
            published = start + timedelta(days=day)
            topics: list[dict[str, Any]] = []
            facts: list[dict[str, Any]] = []
            relevance: list[dict[str, Any]] = []
            for index, (article_id, source_id, title, text) in enumerate(batch):
                result = tags[source_id]
                conn.execute(
                    "INSERT INTO articles (article_id, url, feed_name, site_name, title, text, "
                    "published_at, date_source, fetched_at, content_hash, relevant, "
                    "relevance_score, taxonomy_version, first_run_id, last_run_id, loaded_at) "
                    "VALUES (?, ?, 'feed', ?, ?, ?, ?, 'feed', ?, ?, ?, 1, ?, 'r', 'r', ?)",
                    [
                        article_id,
                        f"https://example.test/{article_id}",
                        f"outlet-{index % 40}",
                        title,
                        text,
                        published,
                        published + timedelta(seconds=index),
                        f"hash-{article_id}",
                        result.relevant,
                        tagger.version,
                        now,
                    ],
                )
                t_rows, f_rows, r_row = result_rows(article_id, result, now)
                topics += t_rows
                facts += f_rows
                relevance.append(r_row)
            _insert(conn, "article_topics", TOPIC_COLUMNS, topics)
            _insert(conn, "article_facts", FACT_COLUMNS, facts)
            _insert(conn, "article_relevance", RELEVANCE_COLUMNS, relevance)
            ids = [row[0] for row in batch]
            cpu, wall = time.process_time(), time.perf_counter()
            copies = update_near_duplicates(conn, ids)
            stories = update_stories(conn, ids)
            cpu_ms = (time.process_time() - cpu) * 1000 / len(ids)
            wall_ms = (time.perf_counter() - wall) * 1000 / len(ids)
            relevant = sum(1 for r in relevance if r["relevant"])
            say(
                f"day {day + 1}: {len(ids)} articles ({relevant} relevant), "
                f"{copies} near-duplicates, {stories.new_stories} new stories; "
                f"{cpu_ms:.2f} ms CPU / {wall_ms:.2f} ms wall per article"
            )
    share = 100 * cpu_ms / pipeline_ms
    say(
        f"last batch: {cpu_ms:.2f} ms CPU per article = {share:.1f} % of the pipeline's "
        f"{pipeline_ms:.1f} ms per article"
    )
    return {
        "articles_per_batch": articles,
        "batches": days,
        "cpu_ms_per_article": round(cpu_ms, 3),
        "wall_ms_per_article": round(wall_ms, 3),
        "pipeline_ms_per_article": round(pipeline_ms, 2),
        "share_of_pipeline_pct": round(share, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    measure(args.articles, args.days)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
