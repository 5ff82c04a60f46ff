"""
### policy_news_retag

Re-tags stored articles from their stored text (no refetch) with a taxonomy version,
so analysts can change `include/taxonomy/*.yaml` and see the effect on past news.

**Trigger:** manual only. **Params:** `taxonomy_version` (the `version:` of a YAML file
in `include/taxonomy/`; empty = the configured taxonomy), `since` / `until` (dates,
inclusive, on the publication date, else the fetch date), `make_current` (whether the
default views switch to this version).

**Output:** rows in `article_topics`, `article_facts` and `article_relevance` under the
chosen version (earlier versions stay queryable), a refreshed analyst snapshot, and an
update of the Asset `policy_news_duckdb`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, Param, dag, get_current_context, task

from policy_news.orchestration import log_task_failure

POLICY_NEWS_DB = Asset("policy_news_duckdb")


@dag(
    dag_id="policy_news_retag",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "owner": "policy-news",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "on_failure_callback": log_task_failure,
    },
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
    @task(outlets=[POLICY_NEWS_DB])
    def retag_articles() -> dict[str, Any]:
        from datetime import date

        from policy_news.pipeline.retag import retag_articles as retag
        from policy_news.pipeline.stages import taxonomy_file_for
        from policy_news.settings import get_settings
        from policy_news.store import db as store
        from policy_news.tagging.tagger import Tagger

        params = get_current_context()["params"]
        settings = get_settings()
        tagger = Tagger.from_path(taxonomy_file_for(params.get("taxonomy_version"), settings))
        counts = retag(
            settings.db_path,
            tagger,
            date.fromisoformat(params["since"]) if params.get("since") else None,
            date.fromisoformat(params["until"]) if params.get("until") else None,
            make_current=bool(params.get("make_current", True)),
        )
        store.publish_snapshot(settings.db_path)
        return {**counts, "taxonomy_version": tagger.version}

    retag_articles()


policy_news_retag()
