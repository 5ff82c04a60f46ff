"""Stage 7: the single writer: one transaction, upserts, then a fresh analyst snapshot."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc

from policy_news import staging
from policy_news.pipeline.run_folder import manifest_feeds, read_manifest, with_items_new
from policy_news.staging_store import locate

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pyarrow as pa

    from policy_news.pipeline.contracts import LoadResult, RunStats, ValidatedRun
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath
    from policy_news.store.loader import LoadInput

# Rows analysts read from the snapshot; a load that wrote none of them does not republish it.
_ANALYST_ROWS = ("articles", "topics", "facts", "failures", "quarantined")


def load_input(
    manifest: Mapping[str, Any],
    tables: dict[str, pa.Table],
    stats: Mapping[str, Any],
    settings: Settings,
) -> LoadInput:
    """What the store writes for a run: its tables, feeds, taxonomy version and stats."""
    from policy_news.store.loader import LoadInput
    from policy_news.tagging.tagger import get_tagger

    tagger = get_tagger(settings.taxonomy_path)
    return LoadInput(
        run_id=manifest["run_id"],
        started_at=datetime.fromisoformat(manifest["started_at"]),
        feeds=manifest_feeds(dict(manifest)),
        tables=tables,
        taxonomy_version=tagger.version,
        taxonomy_definition=tagger.taxonomy.definition(),
        run_stats={**stats, "trigger": manifest.get("trigger")},
    )


def load_run(run_dir: StagedPath, validated: ValidatedRun, settings: Settings) -> LoadResult:
    """Load the rows that passed the checks, archive the run's pages, publish the snapshot."""
    from policy_news.pipeline.memory import tune_allocators
    from policy_news.store import connection, html_archive, loader
    from policy_news.store.snapshot import publish_snapshot

    tune_allocators()
    started = time.perf_counter()
    validation = validated["validation"]
    paths = validation["validated"]
    # Damaged page files fail here, naming the file, before the database is touched.
    staging.verify("article_html", validation["html_files"])
    tables: dict[str, pa.Table] = {
        kind: staging.read(kind, [paths[kind]] if kind in paths else []) for kind in staging.SCHEMAS
    }
    tables["feed_fetches"] = with_items_new(tables["feed_fetches"], run_dir)
    tables["quarantine"] = locate(validation["quarantine"]).read_parquet()
    tables["dq_results"] = locate(validation["dq_results"]).read_parquet()
    articles = tables["articles"]
    stats: RunStats = {
        **validated["stats"],
        "articles_loaded": articles.num_rows,
        "relevant_loaded": int(pc.sum(articles.column("relevant")).as_py() or 0),
        "quarantined": validation["quarantined"],
        "checks_passed": validation["checks_passed"],
        "checks_failed": validation["checks_failed"],
    }
    load = load_input(read_manifest(run_dir), tables, stats, settings)
    with connection.open_db(settings.db_path) as conn:
        # Written while this process holds the database, so no other loader sweeps it
        # before our transaction registers it.
        load.archived = html_archive.write_run(
            load.run_id, validation["html_files"], articles.column("article_id"), settings.db_path
        )
        counts = loader.load_run(conn, load)
        html_archive.sweep_orphans(conn, settings.db_path)
    changed = any(counts[k] for k in _ANALYST_ROWS)
    snapshot = publish_snapshot(settings.db_path, changed=changed)
    return {
        "articles": counts["articles"],
        "topics": counts["topics"],
        "facts": counts["facts"],
        "failures": counts["failures"],
        "quarantined": counts["quarantined"],
        "relevant": stats["relevant_loaded"],
        "near_duplicates": counts["near_duplicates"],
        "stories_assigned": counts["stories_assigned"],
        "new_stories": counts["new_stories"],
        "deferred": counts["deferred"],
        "snapshot": str(snapshot),
        "db": str(settings.db_path),
        "seconds": round(time.perf_counter() - started, 3),
    }
