"""Every stage in one process (CLI, tests, benchmarks): the same functions the DAG maps over."""

from __future__ import annotations

import contextlib
import importlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from policy_news.pipeline.articles import Progress, fetch_article_batch
from policy_news.pipeline.feeds import fetch_feed_batch
from policy_news.pipeline.housekeeping import housekeep
from policy_news.pipeline.load import load_run
from policy_news.pipeline.plan import plan_run
from policy_news.pipeline.run_folder import new_run_id, run_dir_for
from policy_news.pipeline.selection import select_new_items
from policy_news.pipeline.tag import tag_batch
from policy_news.pipeline.validate import BlockingCheckError, build_docs, validate_stage
from policy_news.pipeline.validation_child import ValidationChild, keep_warm_child

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from policy_news.pipeline.contracts import (
        ArticleBatchResult,
        FeedBatch,
        FeedBatchResult,
        ItemBatch,
        RunStats,
        TagBatchResult,
        ValidatedRun,
    )
    from policy_news.settings import Settings
    from policy_news.staging_store import StagedPath


@dataclass
class RunSummary:
    run_id: str
    outcome: str
    stats: RunStats
    load: Mapping[str, Any] = field(default_factory=dict)  # a LoadResult once loaded
    message: str | None = None


def _validate(
    run_dir: StagedPath,
    feed_results: Sequence[FeedBatchResult],
    article_results: Sequence[ArticleBatchResult],
    tag_results: Sequence[TagBatchResult],
    settings: Settings,
    child: ValidationChild | None,
) -> ValidatedRun:
    """`validate_stage`, with the loader's story code imported while the child validates.

    This process only waits on a pipe meanwhile, so datasketch and scipy (~0.9 s) import
    then rather than at the start of the load. (Imported during the article stage instead,
    they slowed the fetch loop: three 300-article runs 2-4 s slower.)
    """

    def validate() -> ValidatedRun:
        return validate_stage(
            run_dir,
            feed_results,
            article_results,
            tag_results,
            settings,
            child=child,
            defer_docs=True,
        )

    if child is None or not child.alive or not any(r["tagged"] for r in tag_results):
        return validate()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="validate") as waiter:
        pending = waiter.submit(validate)
        importlib.import_module("policy_news.stories.persistence")
        return pending.result()


def _fetch_feeds(
    run_dir: StagedPath, batches: Sequence[FeedBatch], settings: Settings
) -> list[FeedBatchResult]:
    """Every feed batch at once, as the DAG's mapped tasks run (batches hold disjoint hosts)."""
    from concurrent.futures import ThreadPoolExecutor

    if len(batches) <= 1:
        return [fetch_feed_batch(run_dir, b, settings) for b in batches]
    with ThreadPoolExecutor(max_workers=len(batches)) as threads:
        jobs = [threads.submit(fetch_feed_batch, run_dir, b, settings) for b in batches]
        return [job.result() for job in jobs]


def _fetch_and_tag(
    run_dir: StagedPath, batches: Sequence[ItemBatch], settings: Settings, progress: Progress | None
) -> tuple[list[ArticleBatchResult], list[TagBatchResult]]:
    """Fetch every item batch at once (as the DAG's mapped tasks do) and tag each when done.

    Batches hold disjoint hosts, so per-host politeness is unchanged while all hosts are
    busy at once; one shared extraction pool keeps CPU use at `extract_workers`.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from policy_news.extract.articles import extraction_pool

    if not batches:
        return [], []
    fetched: dict[int, ArticleBatchResult] = {}
    tagged: dict[int, TagBatchResult] = {}
    with extraction_pool(settings), ThreadPoolExecutor(max_workers=len(batches)) as threads:
        jobs = {
            threads.submit(fetch_article_batch, run_dir, batch, settings, progress): position
            for position, batch in enumerate(batches)
        }
        for job in as_completed(jobs):
            position = jobs[job]
            fetched[position] = job.result()
            tagged[position] = tag_batch(run_dir, fetched[position], settings)
    order = range(len(batches))
    return [fetched[i] for i in order], [tagged[i] for i in order]


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
    """Run every stage in this process; a blocking check ends the run as `blocked`."""
    from policy_news.extract.articles import extraction_pool
    from policy_news.pipeline.memory import release_memory, tune_allocators

    tune_allocators()
    say = progress or (lambda _msg: None)
    run_id = run_id or new_run_id()
    plan = plan_run(run_id, settings, feeds_path, limit=limit, poll_all=poll_all)
    run_dir = run_dir_for(run_id, settings)
    say(f"run {run_id}: {plan['feeds_due']} feeds to poll")
    # Great Expectations (~5 CPU-s) imports in the validation child while the run waits
    # on the network; a large selection or nothing to validate stops it (validation_child).
    child = ValidationChild(settings) if settings.isolate_validation else None
    try:
        feed_results = _fetch_feeds(run_dir, plan["feed_batches"], settings)
        say(f"  feeds {sum(r['feeds'] for r in feed_results)}/{plan['feeds_due']} fetched")
        selection = select_new_items(run_dir, feed_results, settings)
        to_fetch = selection["items_new"] + selection["retries"] + selection["pending"]
        say(f"{selection['items_new']} new articles, {selection['retries']} retries")
        no_rows = not (to_fetch or selection["items_seen"])  # checks then run without GX
        if child is not None and (no_rows or not keep_warm_child(to_fetch)):
            child.stop()
        # Workers start only when there are pages, and import while the first ones download.
        with extraction_pool(settings, start=True) if to_fetch else contextlib.nullcontext():
            article_results, tag_results = _fetch_and_tag(
                run_dir, selection["item_batches"], settings, progress
            )
        release_memory()  # each stage's peak starts from what the last one left
        keep = (run_id,) if keep_staging else ()
        try:
            validated = _validate(
                run_dir, feed_results, article_results, tag_results, settings, child
            )
        except BlockingCheckError as exc:
            assert exc.stats is not None  # validate_stage attaches them
            housekeep(settings, keep)  # the blocked run's staging stays for the retention
            return RunSummary(run_id, "blocked", exc.stats, message=str(exc))
        validation = validated["validation"]
        say(f"checks: {validation['checks_passed']} passed, {validation['checks_failed']} failed")
        # The Data Docs (~0.5 CPU-s of GX rendering) are built while the run loads.
        docs = None
        if validation.get("docs_pending"):
            if child is not None and child.alive:
                docs = child.submit(build_docs, validation["dq_results"], settings)
            else:
                build_docs(validation["dq_results"], settings)
        release_memory()
        load = load_run(run_dir, validated, settings)
        if docs is not None:
            docs.result()
    finally:
        if child is not None:
            child.stop()
    housekeep(settings, keep)
    return RunSummary(run_id, "success", validated["stats"], load=load)
