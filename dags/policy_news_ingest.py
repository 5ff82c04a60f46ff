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

**Params:** `feeds_path` (another registry file), `limit` (max new articles this run).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from policy_news.callbacks import log_task_failure

POLICY_NEWS_DB = Asset("policy_news_duckdb")


def _settings() -> Any:
    from policy_news.settings import get_settings

    return get_settings()


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
    },
    tags=["policy-news", "ingest"],
    doc_md=__doc__,
)
def policy_news_ingest() -> None:
    @task
    def plan_run() -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import plan_run as plan

        context = get_current_context()
        params = context["params"]
        feeds_path = Path(params["feeds_path"]) if params.get("feeds_path") else None
        return plan(
            context["run_id"], _settings(), feeds_path, trigger="airflow", limit=params.get("limit")
        )

    @task
    def fetch_feeds(run_dir: str, feed_names: list[str]) -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import fetch_feed_batch

        index = get_current_context()["ti"].map_index
        return fetch_feed_batch(Path(run_dir), feed_names, max(index, 0), _settings())

    @task
    def select_new_items(run_dir: str, feed_results: list[dict[str, Any]]) -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import select_new_items as select

        return select(Path(run_dir), [r["feed_items"] for r in feed_results], _settings())

    @task
    def fetch_articles(run_dir: str, items_path: str) -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import fetch_article_batch

        return fetch_article_batch(Path(run_dir), items_path, _settings())

    @task
    def tag_articles(run_dir: str, fetched: dict[str, Any]) -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import tag_batch

        return {**tag_batch(Path(run_dir), fetched["articles"], _settings()), "fetched": fetched}

    @task(retries=0)  # a failed check fails for good: retrying cannot change the data
    def validate_batch(
        run_dir: str,
        plan: dict[str, Any],
        feed_results: list[dict[str, Any]],
        selection: dict[str, Any],
        tagged: list[dict[str, Any]],
    ) -> dict[str, Any]:
        from pathlib import Path

        from airflow.sdk.exceptions import AirflowFailException

        from policy_news.pipeline import (
            BlockingCheckError,
            collect_stats,
            staged_paths,
            validate_run,
        )

        article_results = [t["fetched"] for t in tagged]
        stats = collect_stats(plan, feed_results, selection, article_results)
        stats["timings"]["tag"] = round(sum(t["seconds"] for t in tagged), 3)
        paths = staged_paths(feed_results, tagged, article_results)
        try:
            validation = validate_run(Path(run_dir), paths, _settings())
        except BlockingCheckError as exc:
            raise AirflowFailException(str(exc)) from exc
        stats["timings"]["validate"] = validation["seconds"]
        return {"validation": validation, "stats": stats}

    @task(outlets=[POLICY_NEWS_DB])
    def load_duckdb(run_dir: str, validated: dict[str, Any]) -> dict[str, Any]:
        from pathlib import Path

        from policy_news.pipeline import load_run

        return load_run(Path(run_dir), validated["validation"], validated["stats"], _settings())

    plan = plan_run()
    run_dir = plan["run_dir"]
    feed_results = fetch_feeds.partial(run_dir=run_dir).expand(feed_names=plan["feed_batches"])
    selection = select_new_items(run_dir, feed_results)
    fetched = fetch_articles.partial(run_dir=run_dir).expand(items_path=selection["item_batches"])
    tagged = tag_articles.partial(run_dir=run_dir).expand(fetched=fetched)
    validated = validate_batch(run_dir, plan, feed_results, selection, tagged)
    load_duckdb(run_dir, validated)


policy_news_ingest()
