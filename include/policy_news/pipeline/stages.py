"""The pipeline's stages as functions of (run_id, settings, paths) -> paths and counts.

The Airflow DAG maps these over batches; `policy-news run` calls them in a row.
Every stage reads and writes Parquet in the run folder, so a cleared or retried
task redoes only its own work, and the loader is the only code that writes DuckDB.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policy_news import staging
from policy_news.sources.registry import FeedConfig, load_feeds

if TYPE_CHECKING:
    from policy_news.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


class BlockingCheckError(RuntimeError):
    """A blocking data-quality check failed; nothing was loaded."""


def new_run_id(prefix: str = "cli") -> str:
    return f"{prefix}__{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), max(size, 1))]


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def partition_by_host(urls: Sequence[str], parts: int, min_per_part: int = 1) -> list[list[int]]:
    """Split indexes into at most `parts` groups, each host in exactly one group.

    Politeness limits live inside one task's HTTP client, so a host must never be
    fetched by two tasks at once; a stable hash keeps the split deterministic.
    Fewer groups are made when there are fewer than `min_per_part` URLs per group:
    each mapped task costs seconds of start-up, which a small run would mostly pay.
    """
    parts = min(max(parts, 1), max(1, -(-len(urls) // max(min_per_part, 1))))
    groups: list[list[int]] = [[] for _ in range(parts)]
    for index, url in enumerate(urls):
        digest = hashlib.blake2b(_host(url).encode(), digest_size=4).digest()
        groups[int.from_bytes(digest, "big") % len(groups)].append(index)
    return [g for g in groups if g]


def interleave_by_host(urls: Sequence[str], indexes: Sequence[int]) -> list[int]:
    """Reorder indexes round-robin over hosts (first-seen host order, stable within a host).

    Articles are fetched in chunks of `article_batch_size`; a chunk of consecutive items
    from the same few feeds would wait on those hosts' politeness delays while the
    other hosts of the group sit idle.
    """
    queues: dict[str, list[int]] = {}
    for index in indexes:
        queues.setdefault(_host(urls[index]), []).append(index)
    out: list[int] = []
    for round_ in itertools.zip_longest(*queues.values()):
        out.extend(i for i in round_ if i is not None)
    return out


def _timed(stats: dict[str, Any], name: str, started: float) -> None:
    stats.setdefault("timings", {})[name] = round(time.perf_counter() - started, 3)


# --- stage 1: plan ---------------------------------------------------------------------


def plan_run(
    run_id: str,
    settings: Settings,
    feeds_path: Path | None = None,
    *,
    trigger: str = "cli",
    limit: int | None = None,
    poll_all: bool = False,
) -> dict[str, Any]:
    """Pick the feeds due and group them by host; records the run's manifest."""
    from policy_news.store import db as store

    started = time.perf_counter()
    path = feeds_path or settings.feeds_path
    feeds = load_feeds(path)
    with store.open_db(settings.db_path, read_only=True) as conn:
        due = store.feeds_due(conn, feeds, datetime.now(UTC), poll_all=poll_all)
    folder = staging.run_dir(settings.staging_dir, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "trigger": trigger,
        "feeds_path": str(path),
        "limit": limit,
        "feeds": [f.model_dump(mode="json") for f in feeds],
        "due": [f.name for f in due],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    batches = [
        [due[i].name for i in group]
        for group in partition_by_host(
            [f.url for f in due], settings.feed_tasks, settings.feed_task_min_feeds
        )
    ]
    log.info("run %s: %d feeds, %d due, %d batches", run_id, len(feeds), len(due), len(batches))
    plan = {
        "run_dir": str(folder),
        "feed_batches": batches,
        "feeds_total": len(feeds),
        "feeds_due": len(due),
        "seconds": round(time.perf_counter() - started, 3),
    }
    (folder / "plan.json").write_text(json.dumps(plan))
    return plan


def _manifest(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "manifest.json").read_text()))


def _manifest_feeds(run_dir: Path) -> list[FeedConfig]:
    return [FeedConfig.model_validate(f) for f in _manifest(run_dir)["feeds"]]


# --- stage 2: fetch feeds (mapped over feed batches) -----------------------------------


def fetch_feed_batch(
    run_dir: Path, feed_names: Sequence[str], batch_index: int, settings: Settings
) -> dict[str, Any]:
    from policy_news.sources.feed_fetch import fetch_feeds
    from policy_news.store import db as store

    started = time.perf_counter()
    run_id = _manifest(run_dir)["run_id"]
    wanted = set(feed_names)
    feeds = [f for f in _manifest_feeds(run_dir) if f.name in wanted]
    with store.open_db(settings.db_path, read_only=True) as conn:
        states = store.feed_states(conn)
    fetches, items = fetch_feeds(run_id, feeds, states, settings)
    fetches_path = run_dir / f"feed_fetches_{batch_index:04d}.parquet"
    items_path = run_dir / f"feed_items_{batch_index:04d}.parquet"
    staging.write("feed_fetches", fetches, fetches_path)
    staging.write("feed_items", items, items_path)
    return {
        "feed_fetches": str(fetches_path),
        "feed_items": str(items_path),
        "feeds": len(fetches),
        "feeds_failed": sum(1 for f in fetches if f.outcome == "error"),
        "items": len(items),
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- stage 3: new items ----------------------------------------------------------------


def select_new_items(
    run_dir: Path, feed_item_paths: Sequence[str], settings: Settings
) -> dict[str, Any]:
    """Keep items not stored yet (first feed wins), add earlier failures due a retry, batch them."""
    from policy_news.store import db as store

    started = time.perf_counter()
    manifest = _manifest(run_dir)
    items = staging.read("feed_items", feed_item_paths)
    with store.open_db(settings.db_path, read_only=True) as conn:
        unique_ids = list(dict.fromkeys(items.column("article_id").to_pylist()))
        skip = store.known_article_ids(conn, unique_ids)
        skip |= store.exhausted_failures(conn, unique_ids, settings.max_article_attempts)
        retries = store.retryable_failures(conn, settings.max_article_attempts)
    seen: set[str] = set()
    keep = []
    for i, article_id in enumerate(items.column("article_id").to_pylist()):
        if article_id not in skip and article_id not in seen:
            seen.add(article_id)
            keep.append(i)
    new = items.take(pa.array(keep, pa.int64()))
    retry_mask = pc.invert(
        pc.is_in(retries.column("article_id"), value_set=pa.array(list(seen), pa.string()))
    )
    retries = retries.filter(retry_mask).cast(staging.SCHEMAS["feed_items"])
    limit = manifest.get("limit")
    todo = pa.concat_tables([new, retries])
    if limit is not None:
        todo = todo.slice(0, int(limit))
    batch_paths = []
    urls = todo.column("url").to_pylist()
    groups = [
        interleave_by_host(urls, g)
        for g in partition_by_host(urls, settings.article_tasks, settings.article_task_min_items)
    ]
    for index, group in enumerate(groups):
        path = run_dir / f"new_items_{index:04d}.parquet"
        staging.write("feed_items", todo.take(pa.array(group, pa.int64())), path)
        batch_paths.append(str(path))
    new_per_feed: dict[str, int] = {}
    for name in new.column("feed_name").to_pylist():
        new_per_feed[name] = new_per_feed.get(name, 0) + 1
    (run_dir / "new_per_feed.json").write_text(json.dumps(new_per_feed))
    selection = {
        "item_batches": batch_paths,
        "items_seen": items.num_rows,
        "items_new": new.num_rows,
        "retries": retries.num_rows,
        "seconds": round(time.perf_counter() - started, 3),
    }
    (run_dir / "selection.json").write_text(json.dumps(selection))
    return selection


# --- stage 4: fetch and extract articles (mapped over item batches) ---------------------


def fetch_article_batch(
    run_dir: Path, items_path: str, settings: Settings, progress: Progress | None = None
) -> dict[str, Any]:
    """Fetch and extract one task's items in chunks, streaming results to Parquet.

    Chunks bound memory (pages in flight, extracted texts) whatever the run's size.
    """
    from policy_news.extract.articles import extraction_pool, fetch_articles
    from policy_news.models import FeedItem
    from policy_news.pipeline.memory import tune_allocators

    tune_allocators()
    started = time.perf_counter()
    rows = staging.read("feed_items", [items_path]).to_pylist()
    stem = Path(items_path).stem.replace("new_items", "")
    articles_path = run_dir / f"articles{stem}.parquet"
    failures_path = run_dir / f"failures{stem}.parquet"
    html_path = run_dir / f"html{stem}.parquet"
    fetched = failed = 0
    with (
        extraction_pool(settings),  # one pool for every chunk, shared with concurrent batches
        staging.StreamWriter("articles", articles_path) as articles_out,
        staging.StreamWriter("article_html", html_path) as html_out,
        staging.StreamWriter("failures", failures_path) as failures_out,
    ):
        for chunk in _chunks(rows, settings.article_batch_size):
            articles, failures = fetch_articles([FeedItem(**row) for row in chunk], settings)
            html_out.write(
                {
                    "article_id": a.article_id,
                    "url": a.final_url or a.url,
                    "fetched_at": a.fetched_at,
                    "raw_html_gz": a.raw_html_gz,
                }
                for a in articles
            )
            articles_out.write(articles)
            failures_out.write(failures)
            fetched += len(articles)
            failed += len(failures)
            if progress:
                progress(
                    f"  articles: {fetched} extracted, {failed} failed of {len(rows)} in {stem}"
                )
    return {
        "articles": str(articles_path),
        "article_html": str(html_path),
        "failures": str(failures_path),
        "fetched": fetched,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- stage 5: tag ----------------------------------------------------------------------


def tag_batch(run_dir: Path, articles_path: str, settings: Settings) -> dict[str, Any]:
    """Tag one batch of extracted articles; writes tagged articles plus topic/fact rows."""
    from policy_news.tagging.tagger import get_tagger, result_rows

    started = time.perf_counter()
    tagger = get_tagger(settings.taxonomy_path)
    stem = Path(articles_path).stem.replace("articles", "")
    out = {
        "articles": run_dir / f"tagged{stem}.parquet",
        "article_topics": run_dir / f"topics{stem}.parquet",
        "article_facts": run_dir / f"facts{stem}.parquet",
        "article_relevance": run_dir / f"relevance{stem}.parquet",
    }
    now = datetime.now(UTC)
    tagged = relevant = 0
    with (
        staging.StreamWriter("articles", out["articles"]) as articles_out,
        staging.StreamWriter("article_topics", out["article_topics"]) as topics_out,
        staging.StreamWriter("article_facts", out["article_facts"]) as facts_out,
        staging.StreamWriter("article_relevance", out["article_relevance"]) as relevance_out,
    ):
        for rows in staging.iter_rows("articles", articles_path, settings.article_batch_size):
            topics: list[dict[str, Any]] = []
            facts: list[dict[str, Any]] = []
            relevance: list[dict[str, Any]] = []
            for row in rows:
                result = tagger.tag(row["title"], row["summary"], row["text"])
                row["relevant"] = result.relevant
                row["relevance_score"] = result.score
                row["taxonomy_version"] = result.taxonomy_version
                t_rows, f_rows, r_row = result_rows(row["article_id"], result, now)
                topics.extend(t_rows)
                facts.extend(f_rows)
                relevance.append(r_row)
                relevant += bool(result.relevant)
            tagged += len(rows)
            articles_out.write(rows)
            topics_out.write(topics)
            facts_out.write(facts)
            relevance_out.write(relevance)
    return {
        **{k: str(v) for k, v in out.items()},
        "tagged": tagged,
        "relevant": relevant,
        "taxonomy_version": tagger.version,
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- stage 6: validate -----------------------------------------------------------------


@dataclass
class StagedPaths:
    """Paths of every staged file of a run, grouped by kind."""

    feed_fetches: list[str] = field(default_factory=list)
    feed_items: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    article_topics: list[str] = field(default_factory=list)
    article_facts: list[str] = field(default_factory=list)
    article_relevance: list[str] = field(default_factory=list)
    article_html: list[str] = field(default_factory=list)  # archived by the loader, never validated

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def _detach_text(articles: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(articles without `text` but with its length as `dq_text_chars`, the text alone)."""
    text = articles.column("text")
    chars = pc.fill_null(pc.utf8_length(text), 0).cast(pa.int64())
    rest = articles.drop_columns(["text"]).append_column("dq_text_chars", chars)
    return rest, pa.table({"text": text})


def _write_rejoined(
    kind: str, frame: Any, detached: pa.Table, rows: Any, path: Path, window: int = 1000
) -> None:
    """Write the kept rows (`frame`) with their detached columns, `window` input rows at a
    time: the text is filtered slice by slice, never copied whole (at 10,000 articles a
    whole-column take or filter held ~65-130 MB more)."""
    schema = staging.SCHEMAS[kind]
    with staging.StreamWriter(kind, path) as out:
        for lo in range(0, detached.num_rows, window):
            hi = min(lo + window, detached.num_rows)
            first, last = np.searchsorted(rows, [lo, hi])  # kept rows in [lo, hi)
            if first == last:
                continue
            mask = np.zeros(hi - lo, dtype=bool)
            mask[rows[first:last] - lo] = True
            part = pa.Table.from_pandas(frame.iloc[first:last], preserve_index=False)
            extra = detached.slice(lo, hi - lo).filter(pa.array(mask))
            for name in extra.column_names:
                part = part.append_column(name, extra.column(name))
            out.write_table(part.select(schema.names).cast(schema))


def validate_run(run_dir: Path, paths: dict[str, list[str]], settings: Settings) -> dict[str, Any]:
    """Run the GX suites; write the rows that passed, quarantine and results as Parquet.

    A blocking failure is recorded in DuckDB (run row and check results, no data)
    and raised, so the Airflow graph shows the run stopped here.
    """
    from policy_news.pipeline.memory import tune_allocators
    from policy_news.quality import checks, data_docs
    from policy_news.store import db as store
    from policy_news.tagging.tagger import get_tagger

    tune_allocators()
    started = time.perf_counter()
    manifest = _manifest(run_dir)
    # The raw HTML stays on disk: no check reads it and it is most of a run's bytes;
    # the loader copies it from the staged files into the archive.
    frames: dict[str, Any] = {}
    detached: dict[str, pa.Table] = {}
    for kind, files in paths.items():
        if kind == "article_html":
            continue
        table = staging.read(kind, files)
        if kind == "articles":
            # The text stays in Arrow: checks read only its length, and pandas would copy
            # it at every filter (~65 MB a copy at 10,000 articles).
            table, detached[kind] = _detach_text(table)
        frames[kind] = table.to_pandas()
    tagger = get_tagger(settings.taxonomy_path)
    with store.open_db(settings.db_path, read_only=True) as conn:
        baseline = checks.feed_baseline(conn)
    report = checks.validate_batch(
        manifest["run_id"],
        frames,
        taxonomy_ids=tagger.subtopic_ids,
        feed_baseline=baseline,
        config_path=settings.checks_path,
        detached=detached,
    )
    del frames
    out_dir = run_dir / "validated"
    out: dict[str, Any] = {}
    for kind, frame in report.frames.items():
        if kind not in staging.SCHEMAS:
            continue
        path = out_dir / f"{kind}.parquet"
        if kind in detached:
            _write_rejoined(kind, frame, detached[kind], report.kept_rows[kind], path)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            staging.write(
                kind, table.select(staging.SCHEMAS[kind].names).cast(staging.SCHEMAS[kind]), path
            )
        out[kind] = str(path)
    quarantine = pa.Table.from_pandas(report.quarantine, preserve_index=False)
    results = pa.Table.from_pandas(report.results, preserve_index=False)
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(quarantine, out_dir / "quarantine.parquet")
    pq.write_table(results, out_dir / "dq_results.parquet")
    summary = {
        "validated": out,
        "html_files": list(paths.get("article_html", [])),
        "quarantine": str(out_dir / "quarantine.parquet"),
        "dq_results": str(out_dir / "dq_results.parquet"),
        "quarantined": int(quarantine.num_rows),
        "checks_passed": report.checks_passed,
        "checks_failed": report.checks_failed,
        "warnings": report.warnings,
        "blocking": report.blocking,
        "seconds": round(time.perf_counter() - started, 3),
    }
    try:
        data_docs.build_data_docs(report, settings.docs_dir)
    except Exception:  # docs are a convenience; never fail a run over them
        log.exception("could not build Data Docs")
    if report.blocking:
        message = "blocking data-quality check failed: " + "; ".join(report.blocking)
        load = _load_input(run_dir, {}, summary, settings, manifest)
        with store.open_db(settings.db_path) as conn:
            store.record_blocked_run(conn, load, results, message)
        raise BlockingCheckError(message)
    return summary


# --- stage 7: load ---------------------------------------------------------------------


def _load_input(
    run_dir: Path,
    tables: dict[str, pa.Table],
    stats: dict[str, Any],
    settings: Settings,
    manifest: dict[str, Any] | None = None,
) -> Any:
    from policy_news.store import db as store
    from policy_news.tagging.tagger import get_tagger

    manifest = manifest or _manifest(run_dir)
    tagger = get_tagger(settings.taxonomy_path)
    return store.LoadInput(
        run_id=manifest["run_id"],
        started_at=datetime.fromisoformat(manifest["started_at"]),
        feeds=[FeedConfig.model_validate(f) for f in manifest["feeds"]],
        tables=tables,
        taxonomy_version=tagger.version,
        taxonomy_definition=getattr(tagger, "definition", None),
        run_stats={**stats, "trigger": manifest.get("trigger")},
    )


def load_run(
    run_dir: Path, validation: dict[str, Any], stats: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The single writer: one transaction, upserts, then a fresh analyst snapshot."""
    import pyarrow.parquet as pq

    from policy_news.pipeline.memory import tune_allocators
    from policy_news.store import db as store
    from policy_news.store import html_archive

    tune_allocators()
    started = time.perf_counter()
    validated = validation["validated"]
    tables: dict[str, pa.Table] = {
        kind: staging.read(kind, [validated[kind]] if kind in validated else [])
        for kind in staging.SCHEMAS
    }
    # items_new per feed is known only after de-duplication; the fetch rows get it here.
    new_per_feed = json.loads((run_dir / "new_per_feed.json").read_text())
    fetches = tables["feed_fetches"].to_pylist()
    for row in fetches:
        row["items_new"] = new_per_feed.get(row["feed_name"], 0)
    tables["feed_fetches"] = staging.to_table("feed_fetches", fetches)
    tables["quarantine"] = pq.read_table(validation["quarantine"])
    tables["dq_results"] = pq.read_table(validation["dq_results"])
    articles = tables["articles"]
    stats = {
        **stats,
        "articles_loaded": articles.num_rows,
        "relevant_loaded": int(pc.sum(articles.column("relevant")).as_py() or 0),
        "quarantined": validation["quarantined"],
        "checks_passed": validation["checks_passed"],
        "checks_failed": validation["checks_failed"],
    }
    load = _load_input(run_dir, tables, stats, settings)
    with store.open_db(settings.db_path) as conn:
        # Written while this process holds the database, so no other loader sweeps it
        # before our transaction registers it.
        load.archived = html_archive.write_run(
            load.run_id,
            validation.get("html_files") or [],
            articles.column("article_id"),
            settings.db_path,
        )
        counts = store.load_run(conn, load)
        html_archive.sweep_orphans(conn, settings.db_path)
    snapshot = store.publish_snapshot(settings.db_path)
    return {
        **counts,
        "relevant": stats["relevant_loaded"],
        "snapshot": str(snapshot),
        "db": str(settings.db_path),
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- everything in one process (CLI, tests, benchmarks) --------------------------------


@dataclass
class RunSummary:
    run_id: str
    outcome: str
    stats: dict[str, Any]
    load: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


def run_dir_for(run_id: str, settings: Settings) -> Path:
    return staging.run_dir(settings.staging_dir, run_id)


def collect_stats(
    run_dir: Path,
    feed_results: Sequence[dict[str, Any]],
    article_results: Sequence[dict[str, Any]],
    tag_results: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """Counts and stage timings of a run, as recorded in pipeline_runs."""
    plan = json.loads((run_dir / "plan.json").read_text())
    selection = json.loads((run_dir / "selection.json").read_text())
    feeds_failed = sum(r["feeds_failed"] for r in feed_results)
    feeds = sum(r["feeds"] for r in feed_results)
    return {
        "feeds_total": plan["feeds_total"],
        "feeds_ok": feeds - feeds_failed,
        "feeds_failed": feeds_failed,
        "items_seen": selection["items_seen"],
        "items_new": selection["items_new"],
        "articles_fetched": sum(r["fetched"] for r in article_results),
        "articles_failed": sum(r["failed"] for r in article_results),
        "timings": {
            "plan": plan["seconds"],
            "fetch_feeds": round(sum(r["seconds"] for r in feed_results), 3),
            "select_new_items": selection["seconds"],
            "fetch_articles": round(sum(r["seconds"] for r in article_results), 3),
            "tag": round(sum(r["seconds"] for r in tag_results), 3),
        },
    }


def staged_paths(
    feed_results: Sequence[dict[str, Any]],
    tag_results: Sequence[dict[str, Any]],
    article_results: Sequence[dict[str, Any]],
) -> dict[str, list[str]]:
    paths = StagedPaths(
        feed_fetches=[r["feed_fetches"] for r in feed_results],
        feed_items=[r["feed_items"] for r in feed_results],
        failures=[r["failures"] for r in article_results],
        article_html=[r.get("article_html", "") for r in article_results if r.get("article_html")],
        articles=[r["articles"] for r in tag_results],
        article_topics=[r["article_topics"] for r in tag_results],
        article_facts=[r["article_facts"] for r in tag_results],
        article_relevance=[r["article_relevance"] for r in tag_results],
    )
    return paths.as_dict()


def _fetch_feeds(
    run_dir: Path, batches: Sequence[Sequence[str]], settings: Settings
) -> list[dict[str, Any]]:
    """Every feed batch at once, as the DAG's mapped tasks run (batches hold disjoint hosts)."""
    from concurrent.futures import ThreadPoolExecutor

    if len(batches) <= 1:
        return [fetch_feed_batch(run_dir, b, i, settings) for i, b in enumerate(batches)]
    with ThreadPoolExecutor(max_workers=len(batches)) as threads:
        jobs = [
            threads.submit(fetch_feed_batch, run_dir, b, i, settings) for i, b in enumerate(batches)
        ]
        return [job.result() for job in jobs]


def _validate(run_dir: Path, paths: dict[str, list[str]], settings: Settings) -> dict[str, Any]:
    """validate_run, in a child process when `settings.isolate_validation` (see Settings)."""
    if not settings.isolate_validation:
        return validate_run(run_dir, paths, settings)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        return child.submit(validate_run, run_dir, paths, settings).result()


def _fetch_and_tag(
    run_dir: Path, item_batches: Sequence[str], settings: Settings, progress: Progress | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fetch every item group at once (as the DAG's mapped tasks do) and tag each when done.

    Groups hold disjoint hosts, so per-host politeness is unchanged while all hosts are
    busy at once; one shared extraction pool keeps CPU use at `extract_workers`.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from policy_news.extract.articles import extraction_pool

    if not item_batches:
        return [], []
    article_results: list[dict[str, Any]] = [{} for _ in item_batches]
    tag_results: list[dict[str, Any]] = [{} for _ in item_batches]
    with extraction_pool(settings), ThreadPoolExecutor(max_workers=len(item_batches)) as threads:
        jobs = {
            threads.submit(fetch_article_batch, run_dir, path, settings, progress): index
            for index, path in enumerate(item_batches)
        }
        for job in as_completed(jobs):
            index = jobs[job]
            article_results[index] = job.result()
            tag_results[index] = tag_batch(run_dir, article_results[index]["articles"], settings)
    return article_results, tag_results


def run_pipeline(
    settings: Settings,
    feeds_path: Path | None = None,
    *,
    run_id: str | None = None,
    limit: int | None = None,
    poll_all: bool = False,
    progress: Progress | None = None,
    keep_staging: bool = False,
) -> RunSummary:
    """Run every stage in this process, the same functions the DAG maps over."""
    from policy_news.extract.articles import extraction_pool
    from policy_news.pipeline.memory import release_memory, tune_allocators

    tune_allocators()
    say = progress or (lambda _msg: None)
    run_id = run_id or new_run_id()
    # Great Expectations (~3 s of CPU, ~180 MB) is imported by validate_run, after the
    # extraction workers have exited: importing it earlier, while the run waits on the
    # network, saved ~3 s of wall time but put the run's peak memory over 1 GiB.
    plan = plan_run(run_id, settings, feeds_path, limit=limit, poll_all=poll_all)
    run_dir = Path(plan["run_dir"])
    say(f"run {run_id}: {plan['feeds_due']} feeds to poll")
    with extraction_pool(settings, start=True):  # workers import while feeds download
        feed_results = _fetch_feeds(run_dir, plan["feed_batches"], settings)
        say(f"  feeds {sum(r['feeds'] for r in feed_results)}/{plan['feeds_due']} fetched")
        selection = select_new_items(run_dir, [r["feed_items"] for r in feed_results], settings)
        say(f"{selection['items_new']} new articles, {selection['retries']} retries")
        article_results, tag_results = _fetch_and_tag(
            run_dir, selection["item_batches"], settings, progress
        )
    stats = collect_stats(run_dir, feed_results, article_results, tag_results)
    paths = staged_paths(feed_results, tag_results, article_results)
    release_memory()  # each stage's peak starts from what the last one left
    try:
        validation = _validate(run_dir, paths, settings)
    except BlockingCheckError as exc:
        return RunSummary(run_id, "blocked", stats, message=str(exc))
    stats["timings"]["validate"] = validation["seconds"]
    say(f"checks: {validation['checks_passed']} passed, {validation['checks_failed']} failed")
    release_memory()
    load = load_run(run_dir, validation, stats, settings)
    if not keep_staging:
        staging.clean_run_dir(settings.staging_dir, run_id)
    return RunSummary(run_id, "success", stats, load=load)


def taxonomy_file_for(version: str | None, settings: Settings) -> Path:
    """The taxonomy YAML declaring `version` (any file in the taxonomy folder); None = configured."""
    import yaml

    if not version:
        return settings.taxonomy_path
    folder = settings.taxonomy_path.parent
    for path in sorted(folder.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if str(data.get("version")) == version:
            return path
    found = ", ".join(
        sorted(
            str((yaml.safe_load(p.read_text()) or {}).get("version")) for p in folder.glob("*.y*ml")
        )
    )
    raise ValueError(f"no taxonomy file in {folder} declares version {version!r} (found: {found})")
