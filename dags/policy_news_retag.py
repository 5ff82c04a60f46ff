"""
### policy_news_retag

Re-tags stored articles from their stored text (no refetch) with a taxonomy version,
so analysts can change `include/taxonomy/*.yaml` and see the effect on past news.

**Trigger:** manual only. **Params:** `taxonomy_version` (the `version:` of a YAML file
in `include/taxonomy/`; empty = the configured taxonomy), `since` / `until` (dates,
inclusive, on the publication date, else the fetch date), `make_current` (whether the
default views switch to this version).

**Runs on** the DuckDB queue (`POLICY_NEWS_DUCKDB_QUEUE`, pool `POLICY_NEWS_DUCKDB_POOL`).

**Output:** rows in `article_topics`, `article_facts` and `article_relevance` under the
chosen version (earlier versions stay queryable), a refreshed analyst snapshot, and an
update of the Asset `policy_news_duckdb`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from policy_news.orchestration import DEFAULT_ARGS, POLICY_NEWS_DB, duckdb_task_args

if TYPE_CHECKING:
    from policy_news.pipeline.contracts import RetagResult


@dag(
    dag_id="policy_news_retag",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "taxonomy_version": Param(None, type=["null", "string"], description="taxonomy version"),
        "since": Param(None, type=["null", "string"], format="date", description="YYYY-MM-DD"),
        "until": Param(None, type=["null", "string"], format="date", description="YYYY-MM-DD"),
        "make_current": Param(True, type="boolean", description="switch the default views"),
    },
    tags=["policy-news", "tagging"],
    doc_md=__doc__,
)
def policy_news_retag() -> None:
    @task(outlets=[POLICY_NEWS_DB], **duckdb_task_args())
    def retag_articles() -> RetagResult:
        from datetime import date

        from policy_news.pipeline.retag import retag_stored
        from policy_news.settings import get_settings

        params = get_current_context()["params"]
        return retag_stored(
            get_settings(),
            taxonomy_version=params.get("taxonomy_version"),
            since=date.fromisoformat(params["since"]) if params.get("since") else None,
            until=date.fromisoformat(params["until"]) if params.get("until") else None,
            make_current=bool(params.get("make_current", True)),
        )

    retag_articles()


policy_news_retag()
