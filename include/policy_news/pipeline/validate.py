"""Stage 6: validate the run's staged records with the GX suites, and the run's stats.

`validate_stage` is what the DAG's `validate_batch` task and `run_pipeline` both call:
it gathers the staged files and stage timings of every batch, runs the checks (in a
child process when asked) and returns what the loader needs.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from policy_news import staging
from policy_news.http.limits import FEED_CAP
from policy_news.pipeline.run_folder import read_manifest, with_items_new
from policy_news.staging_store import locate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from policy_news.pipeline.contracts import (
        ArticleBatchResult,
        FeedBatchResult,
        RunStats,
        TagBatchResult,
        ValidatedRun,
        Validation,
    )
    from policy_news.pipeline.validation_child import ValidationChild
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath

log = logging.getLogger(__name__)


class BlockingCheckError(RuntimeError):
    """A blocking data-quality check failed; nothing was loaded."""

    stats: RunStats | None = None  # the run's counts, attached by validate_stage


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
    # Handed to the loader as they are: items left for later, pending items looked at,
    # the texts' MinHash values.
    deferred_items: list[str] = field(default_factory=list)
    pending_taken: list[str] = field(default_factory=list)
    article_sketches: list[str] = field(default_factory=list)


# Kinds no check reads; validation copies them through to the loader.
PASSED_THROUGH = ("deferred_items", "pending_taken", "article_sketches")


def staged_paths(
    feed_results: Sequence[FeedBatchResult],
    article_results: Sequence[ArticleBatchResult],
    tag_results: Sequence[TagBatchResult],
) -> dict[str, list[str]]:
    """The files to validate, by kind: fetches and items per feed batch, the rest per item batch."""
    paths = StagedPaths(
        feed_fetches=[r["feed_fetches"] for r in feed_results],
        feed_items=[r["feed_items"] for r in feed_results],
        failures=[r["failures"] for r in article_results],
        article_html=[r["article_html"] for r in article_results if r.get("article_html")],
        articles=[r["articles"] for r in tag_results],
        article_topics=[r["article_topics"] for r in tag_results],
        article_facts=[r["article_facts"] for r in tag_results],
        article_relevance=[r["article_relevance"] for r in tag_results],
        deferred_items=[r["deferred_items"] for r in article_results if r.get("deferred_items")],
        article_sketches=[
            r["article_sketches"] for r in article_results if r.get("article_sketches")
        ],
    )
    return asdict(paths)


def collect_stats(
    run_dir: StagedPath,
    feed_results: Sequence[FeedBatchResult],
    article_results: Sequence[ArticleBatchResult],
    tag_results: Sequence[TagBatchResult],
) -> RunStats:
    """Counts and stage timings of a run so far, as recorded in pipeline_runs."""
    plan = json.loads((run_dir / "plan.json").read_text())
    selection = json.loads((run_dir / "selection.json").read_text())
    feeds_failed = sum(r["feeds_failed"] for r in feed_results)
    feeds = sum(r["feeds"] for r in feed_results)
    deferred: dict[str, int] = {FEED_CAP: selection.get("capped", 0)}
    for result in article_results:
        for reason, count in result.get("deferred", {}).items():
            deferred[reason] = deferred.get(reason, 0) + count
    deferred = {reason: count for reason, count in deferred.items() if count}
    return {
        "feeds_total": plan["feeds_total"],
        "feeds_ok": feeds - feeds_failed,
        "feeds_failed": feeds_failed,
        "items_seen": selection["items_seen"],
        "items_new": selection["items_new"],
        "articles_fetched": sum(r["fetched"] for r in article_results),
        "articles_failed": sum(r["failed"] for r in article_results),
        "items_deferred": sum(deferred.values()),
        "deferred_reasons": deferred,
        "pending_taken": selection.get("pending", 0),
        "timings": {
            "plan": plan["seconds"],
            "fetch_feeds": round(sum(r["seconds"] for r in feed_results), 3),
            "select_new_items": selection["seconds"],
            "fetch_articles": round(sum(r["seconds"] for r in article_results), 3),
            "tag": round(sum(r["seconds"] for r in tag_results), 3),
        },
    }


def validate_stage(
    run_dir: StagedPath,
    feed_results: Sequence[FeedBatchResult],
    article_results: Sequence[ArticleBatchResult],
    tag_results: Sequence[TagBatchResult],
    settings: Settings,
    *,
    in_child_process: bool | None = None,
    child: ValidationChild | None = None,
    defer_docs: bool = False,
) -> ValidatedRun:
    """Stats, then the checks; raises BlockingCheckError after recording a blocked run.

    `in_child_process` defaults to `settings.isolate_validation`: GX's import (~180 MB)
    and its frames then never sit under the load's peak. An Airflow task is already a
    process of its own and passes False. `child` is a warm validation process started
    earlier by the caller (`run_pipeline`); the checks then run there. `defer_docs`
    leaves the Data Docs to the caller (`build_docs`, `docs_pending` in the verdict).
    """
    stats = collect_stats(run_dir, feed_results, article_results, tag_results)
    paths = staged_paths(feed_results, article_results, tag_results)
    selection = json.loads((run_dir / "selection.json").read_text())
    for kind in PASSED_THROUGH:
        if selection.get(kind):
            paths[kind].append(selection[kind])
    isolate = settings.isolate_validation if in_child_process is None else in_child_process
    try:
        if not has_rows_to_validate(feed_results, tag_results):
            # only the run's numbers to judge, without GX (plain_checks): no process needed
            validation = validate_run(run_dir, paths, settings)
        elif child is not None and child.alive:
            validation = child.run(validate_run, str(run_dir), paths, settings, defer_docs)
        elif isolate:
            validation = _validate_in_child(run_dir, paths, settings)
        else:
            validation = validate_run(run_dir, paths, settings)
    except BlockingCheckError as exc:
        exc.stats = stats
        raise
    stats["timings"]["validate"] = validation["seconds"]
    return {"validation": validation, "stats": stats}


def has_rows_to_validate(
    feed_results: Sequence[FeedBatchResult], tag_results: Sequence[TagBatchResult]
) -> bool:
    """Whether any row-level suite gets a row: feed items seen, or articles tagged."""
    return any(r["items"] for r in feed_results) or any(r["tagged"] for r in tag_results)


def build_docs(dq_results: str, settings: Settings) -> None:
    """The Data Docs of a validated run, from its `dq_results` file (`docs_pending`)."""
    import pandas as pd

    _build_docs(pd.read_parquet(dq_results), settings)


def _build_docs(results: Any, settings: Settings) -> None:
    """`results`: a ValidationReport or a dq_results frame."""
    from policy_news.quality import data_docs

    try:
        data_docs.build_data_docs(results, settings.docs_dir)
    except Exception:  # docs are a convenience; never fail a run over them
        log.exception("could not build Data Docs")


def _validate_in_child(
    run_dir: StagedPath, paths: dict[str, list[str]], settings: Settings
) -> Validation:
    from policy_news.pipeline.validation_child import ValidationChild

    child = ValidationChild(settings)
    try:
        # The URL, not the path: a remote filesystem's session does not cross processes.
        return child.run(validate_run, str(run_dir), paths, settings)
    finally:
        child.stop()


def _detach_text(articles: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(articles without `text` but with its length as `dq_text_chars`, the text alone)."""
    text = articles.column("text")
    chars = pc.fill_null(pc.utf8_length(text), 0).cast(pa.int64())
    rest = articles.drop_columns(["text"]).append_column("dq_text_chars", chars)
    return rest, pa.table({"text": text})


def _write_rejoined(
    kind: str, frame: Any, detached: pa.Table, rows: Any, path: StagedPath, window: int = 1000
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


def validate_run(
    run_dir: StagedPath | str,
    paths: dict[str, list[str]],
    settings: Settings,
    defer_docs: bool = False,
) -> Validation:
    """Run the GX suites; write the rows that passed, quarantine and results as Parquet.

    A blocking failure is recorded in DuckDB (run row and check results, no data)
    and raised, so the Airflow graph shows the run stopped here. With `defer_docs`, a
    run that is not blocked leaves its Data Docs to `build_docs` (`docs_pending`), so
    the caller can build them while it loads.
    """
    from policy_news.pipeline.load import load_input
    from policy_news.pipeline.memory import tune_allocators
    from policy_news.quality import checks
    from policy_news.store import connection, loader
    from policy_news.tagging.tagger import get_tagger

    tune_allocators()
    started = time.perf_counter()
    run_dir = locate(run_dir, settings.staging_conn_id)
    manifest = read_manifest(run_dir)
    # The raw HTML stays on disk: no check reads it and it is most of a run's bytes;
    # the loader copies it from the staged files into the archive.
    frames: dict[str, Any] = {}
    detached: dict[str, pa.Table] = {}
    fetches = staging.SCHEMAS["feed_fetches"].empty_table()
    for kind, files in paths.items():
        if kind == "article_html" or kind in PASSED_THROUGH:
            continue
        table = staging.read(kind, files)
        if kind == "feed_fetches":
            table = with_items_new(table, run_dir)
            fetches = table
        if kind == "articles":
            # The text stays in Arrow: checks read only its length, and pandas would copy
            # it at every filter (~65 MB a copy at 10,000 articles).
            table, detached[kind] = _detach_text(table)
        frames[kind] = table.to_pandas()
    tagger = get_tagger(settings.taxonomy_path)
    with connection.open_db(settings.db_path, read_only=True) as conn:
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
    out: dict[str, str] = {}
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
    for kind in PASSED_THROUGH:
        path = out_dir / f"{kind}.parquet"
        staging.write(kind, staging.read(kind, paths.get(kind, [])), path)
        out[kind] = str(path)
    quarantine = pa.Table.from_pandas(report.quarantine, preserve_index=False)
    results = pa.Table.from_pandas(report.results, preserve_index=False)
    (out_dir / "quarantine.parquet").write_parquet(quarantine)
    (out_dir / "dq_results.parquet").write_parquet(results)
    summary: Validation = {
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
    # a run judged without GX leaves the last docs as they are
    if report.gx_used and defer_docs and not report.blocking:
        summary["docs_pending"] = True
    elif report.gx_used:
        _build_docs(report, settings)
    if report.blocking:
        message = "blocking data-quality check failed: " + "; ".join(report.blocking)
        counts = {k: summary[k] for k in ("quarantined", "checks_passed", "checks_failed")}
        # The fetches are recorded (feed failures count), the data is not.
        load = load_input(manifest, {"feed_fetches": fetches}, counts, settings)
        with connection.open_db(settings.db_path) as conn:
            loader.record_blocked_run(conn, load, results, message)
        raise BlockingCheckError(message)
    return summary
