"""
### policy_news_ingest

Fetches the news and government feeds listed in `include/feeds.yaml`, extracts each
new article's full text, tags the ones about US immigration enforcement, validates
the batch with Great Expectations and loads DuckDB.

**Schedule:** `POLICY_NEWS_SCHEDULE` (default every 30 minutes), no catch-up, one run
at a time (DuckDB has a single writer).

**Graph:** `plan_run` → `fetch_feeds` (mapped over host-partitioned feed groups) →
`select_new_items` → `fetch_articles` (mapped over a fixed number of item groups) →
`tag_articles` (mapped) → `validate_batch` → `load_duckdb`, then two teardowns that
run whatever happened before them: `alert_operators` (mail on a blocked load, feeds
turned bad, subtopic spikes; once a day per condition; a task failing its last retry
mails through the failure callback) and `housekeeping` (removes loaded runs' staged
files, failed runs' after `POLICY_NEWS_STAGING_RETENTION_DAYS`, archived pages after
`POLICY_NEWS_RAW_HTML_RETENTION_DAYS`).
Records move between tasks as Parquet files in a run folder of the staging store
(`POLICY_NEWS_STAGING_URL`: a local folder or object storage); XCom carries URLs and
counts only (the contracts in `policy_news.pipeline.contracts`). The task count does
not grow with the number of articles.

**Queues:** the tasks that open DuckDB (`plan_run`, `select_new_items`,
`validate_batch`, `load_duckdb`, `alert_operators`, `housekeeping`) run on the `POLICY_NEWS_DUCKDB_QUEUE` queue (and pool
`POLICY_NEWS_DUCKDB_POOL`, if set); fetching, extraction and tagging run on any worker.

**Outputs:** tables `articles`, `article_topics`, `article_facts`, `feed_fetches`,
`pipeline_runs`, `quarantine`, `dq_results` in `$POLICY_NEWS_DB`, a read-only snapshot
beside it for analysts, and the Asset `policy_news_duckdb` for downstream DAGs.

**Params:** `feeds_path` (another registry file), `limit` (max new articles this run),
`poll_all` (poll every feed now instead of following each feed's own rhythm).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import pendulum
from airflow.sdk import Param, XComArg, dag, get_current_context, task, teardown

from policy_news.orchestration import DEFAULT_ARGS, POLICY_NEWS_DB, duckdb_task_args
from policy_news.settings import get_settings

if TYPE_CHECKING:
    from policy_news.pipeline.contracts import (
        ArticleBatchResult,
        FeedBatch,
        FeedBatchResult,
        ItemBatch,
        LoadResult,
        TagBatchResult,
        ValidatedRun,
    )
    from policy_news.staging_store import StagedPath

# Tasks that open DuckDB run where the database is (see duckdb_task_args).
ON_DUCKDB = duckdb_task_args()


def _run_dir() -> StagedPath:
    """Every task of a run finds the run's staging folder from the Airflow run id."""
    from policy_news.pipeline.run_folder import run_dir_for

    return run_dir_for(get_current_context()["run_id"], get_settings())


def _resolved(arg: XComArg) -> Any:
    """An XComArg passed to a task arrives as its value (a mapped task's: the list of results).

    Task functions declare the values they receive, so at the call the XComArg is typed
    as what it resolves to.
    """
    return cast("Any", arg)


@dag(
    dag_id="policy_news_ingest",
    schedule=get_settings().schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    params={
        "feeds_path": Param(None, type=["null", "string"], description="feed registry YAML"),
        "limit": Param(None, type=["null", "integer"], minimum=1, description="max new articles"),
        "poll_all": Param(
            False, type="boolean", description="poll every feed, whatever its rhythm"
        ),
    },
    tags=["policy-news", "ingest"],
    doc_md=__doc__,
)
def policy_news_ingest() -> None:
    @task(**ON_DUCKDB)
    def plan_run() -> list[FeedBatch]:
        """Pick the feeds due and group them by host; returns the batches to map over."""
        from pathlib import Path

        from policy_news.pipeline.plan import plan_run as plan

        context = get_current_context()
        params = context["params"]
        feeds_path = Path(params["feeds_path"]) if params.get("feeds_path") else None
        result = plan(
            context["run_id"],
            get_settings(),
            feeds_path,
            trigger="airflow",
            limit=params.get("limit"),
            poll_all=bool(params.get("poll_all")),
        )
        return result["feed_batches"]

    @task
    def fetch_feeds(batch: FeedBatch) -> FeedBatchResult:
        from policy_news.pipeline.feeds import fetch_feed_batch

        return fetch_feed_batch(_run_dir(), batch, get_settings())

    # An empty mapped list (no feed due, no new item) skips its tasks; the stages after
    # it still run, so every run ends with a pipeline_runs row.
    @task(trigger_rule="none_failed", **ON_DUCKDB)
    def select_new_items(feed_results: list[FeedBatchResult]) -> list[ItemBatch]:
        """De-duplicate against DuckDB; returns one item batch per article task."""
        from policy_news.pipeline.selection import select_new_items as select

        return select(_run_dir(), feed_results, get_settings())["item_batches"]

    @task
    def fetch_articles(batch: ItemBatch) -> ArticleBatchResult:
        from policy_news.pipeline.articles import fetch_article_batch

        return fetch_article_batch(_run_dir(), batch, get_settings())

    @task
    def tag_articles(fetched: ArticleBatchResult) -> TagBatchResult:
        from policy_news.pipeline.tag import tag_batch

        return tag_batch(_run_dir(), fetched, get_settings())

    @task(retries=0, trigger_rule="none_failed", **ON_DUCKDB)  # a failed check cannot pass on retry
    def validate_batch(
        feed_results: list[FeedBatchResult],
        fetched: list[ArticleBatchResult],
        tagged: list[TagBatchResult],
    ) -> ValidatedRun:
        from airflow.sdk.exceptions import AirflowFailException

        from policy_news.pipeline.validate import BlockingCheckError, validate_stage

        try:
            # This task is a process of its own: no need for validation's child process.
            return validate_stage(
                _run_dir(), feed_results, fetched, tagged, get_settings(), in_child_process=False
            )
        except BlockingCheckError as exc:
            raise AirflowFailException(str(exc)) from exc

    @task(outlets=[POLICY_NEWS_DB], trigger_rule="none_failed", **ON_DUCKDB)
    def load_duckdb(validated: ValidatedRun) -> LoadResult:
        from policy_news.pipeline.load import load_run

        return load_run(_run_dir(), validated, get_settings())

    # Teardowns, not all_done tasks: they run after a blocked validation too, yet the
    # run's state still follows the pipeline's tasks, so a blocked run stays failed.
    @teardown
    @task(**ON_DUCKDB)
    def alert_operators() -> dict[str, list[str]]:
        """Mail operators: a blocked load, feeds turned bad, subtopic spikes (once a day each)."""
        from policy_news.alerts.run import alert_operators as check

        result = check(get_settings())
        return {"sent": result.sent, "already_sent": result.already_sent}

    @teardown
    @task(**ON_DUCKDB)
    def housekeeping() -> dict[str, int]:
        """Apply the retention of staged runs and archived pages."""
        from policy_news.pipeline.housekeeping import housekeep

        result = housekeep(get_settings())
        return {
            "staging_removed": len(result.staging_removed),
            "archive_removed": len(result.archive_removed),
        }

    feed_results = fetch_feeds.expand(batch=plan_run())
    fetched = fetch_articles.expand(batch=select_new_items(_resolved(feed_results)))
    tagged = tag_articles.expand(fetched=fetched)
    validated = validate_batch(_resolved(feed_results), _resolved(fetched), _resolved(tagged))
    load_duckdb(_resolved(validated)) >> [alert_operators(), housekeeping()]


policy_news_ingest()
