"""
### policy_news_ingest

Fetches the news and government feeds listed in `include/feeds.yaml`, extracts each
new article's full text, tags the ones about US immigration enforcement, validates
the batch with Great Expectations and loads DuckDB.

**Schedule:** `POLICY_NEWS_SCHEDULE` (default every 30 minutes), no catch-up, one run
at a time (DuckDB has a single writer).

**Graph:** `plan_run` → `fetch_feeds` (mapped over host-partitioned feed groups) →
`select_new_items` → `fetch_articles` (mapped over a fixed number of item groups) →
`tag_articles` (mapped) → `validate_batch` → `load_duckdb`.
Records move between tasks as Parquet files in a run folder; XCom carries paths and
counts only. The task count does not grow with the number of articles.

**Outputs:** tables `articles`, `article_topics`, `article_facts`, `feed_fetches`,
`pipeline_runs`, `quarantine`, `dq_results` in `$POLICY_NEWS_DB`, a read-only snapshot
beside it for analysts, and the Asset `policy_news_duckdb` for downstream DAGs.

**Params:** `feeds_path` (another registry file), `limit` (max new articles this run),
`poll_all` (poll every feed now instead of following each feed's own rhythm).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from policy_news.orchestration import log_task_failure

POLICY_NEWS_DB = Asset("policy_news_duckdb")


def _settings() -> Any:
    from policy_news.settings import get_settings

    return get_settings()


def _run_dir() -> Any:
    """Every task of a run finds the run's staging folder from the Airflow run id."""
    from policy_news.pipeline.stages import run_dir_for

    return run_dir_for(get_current_context()["run_id"], _settings())


@dag(
    dag_id="policy_news_ingest",
    schedule=os.environ.get("POLICY_NEWS_SCHEDULE", "*/30 * * * *"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=2),
    default_args={
        "owner": "policy-news",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "on_failure_callback": log_task_failure,
    },
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
    @task
    def plan_run() -> list[list[str]]:
        """Pick the feeds due and group them by host; returns the groups to map over."""
        from pathlib import Path

        from policy_news.pipeline.stages import plan_run as plan

        context = get_current_context()
        params = context["params"]
        feeds_path = Path(params["feeds_path"]) if params.get("feeds_path") else None
        result = plan(
            context["run_id"],
            _settings(),
            feeds_path,
            trigger="airflow",
            limit=params.get("limit"),
            poll_all=bool(params.get("poll_all")),
        )
        return list(result["feed_batches"])

    @task
    def fetch_feeds(feed_names: list[str]) -> dict[str, Any]:
        from policy_news.pipeline.stages import fetch_feed_batch

        index = get_current_context()["ti"].map_index or 0
        return fetch_feed_batch(_run_dir(), feed_names, max(index, 0), _settings())

    # An empty mapped list (no feed due, no new item) skips its tasks; the stages after
    # it still run, so every run ends with a pipeline_runs row.
    @task(trigger_rule="none_failed")
    def select_new_items(feed_results: list[dict[str, Any]]) -> list[str]:
        """De-duplicate against DuckDB; returns one item file per article task."""
        from policy_news.pipeline.stages import select_new_items as select

        result = select(_run_dir(), [r["feed_items"] for r in feed_results], _settings())
        return list(result["item_batches"])

    @task
    def fetch_articles(items_path: str) -> dict[str, Any]:
        from policy_news.pipeline.stages import fetch_article_batch

        return fetch_article_batch(_run_dir(), items_path, _settings())

    @task
    def tag_articles(fetched: dict[str, Any]) -> dict[str, Any]:
        from policy_news.pipeline.stages import tag_batch

        return {**tag_batch(_run_dir(), fetched["articles"], _settings()), "fetched": fetched}

    @task(retries=0, trigger_rule="none_failed")  # a failed check cannot pass on retry
    def validate_batch(
        feed_results: list[dict[str, Any]], tagged: list[dict[str, Any]]
    ) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from policy_news.pipeline.stages import (
            BlockingCheckError,
            collect_stats,
            staged_paths,
            validate_run,
        )

        fetched = [t["fetched"] for t in tagged]
        stats = collect_stats(_run_dir(), feed_results, fetched, tagged)
        try:
            validation = validate_run(
                _run_dir(), staged_paths(feed_results, tagged, fetched), _settings()
            )
        except BlockingCheckError as exc:
            raise AirflowFailException(str(exc)) from exc
        stats["timings"]["validate"] = validation["seconds"]
        return {"validation": validation, "stats": stats}

    @task(outlets=[POLICY_NEWS_DB], trigger_rule="none_failed")
    def load_duckdb(validated: dict[str, Any]) -> dict[str, Any]:
        from policy_news.pipeline.stages import load_run

        return load_run(_run_dir(), validated["validation"], validated["stats"], _settings())

    # Task calls take XComArgs where the functions declare the values they resolve to.
    feed_results = fetch_feeds.expand(feed_names=plan_run())
    fetched = fetch_articles.expand(items_path=select_new_items(feed_results))  # type: ignore[arg-type]
    tagged = tag_articles.expand(fetched=fetched)
    load_duckdb(validate_batch(feed_results, tagged))  # type: ignore[arg-type]


policy_news_ingest()
