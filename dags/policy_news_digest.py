"""
### policy_news_digest

Downstream of the ingest: scheduled on the Asset `policy_news_duckdb`, so it runs after
every successful load (or retag). Two independent tasks write into `data/reports/`:

- `write_digest`: `digest-YYYY-MM-DD.md`, subtopics this week against last week, states,
  agencies and the largest reported counts with their evidence sentences;
- `write_report`: `report-YYYY-Www.html`, the weekly HTML report of the latest data's
  ISO week (articles and stories per subtopic over twelve weeks, states, agencies,
  operations, largest counts, 287(g) mentions, feed health); one self-contained page,
  also linked from the Airflow UI ("Weekly report").

Both read the analyst snapshot, so they never block a load.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from policy_news.orchestration import DEFAULT_ARGS, POLICY_NEWS_DB, duckdb_task_args


@dag(
    dag_id="policy_news_digest",
    schedule=[POLICY_NEWS_DB],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["policy-news", "reporting"],
    doc_md=__doc__,
)
def policy_news_digest() -> None:
    @task(**duckdb_task_args())  # reads the snapshot beside the database
    def write_digest() -> str:
        from policy_news.reporting.digest import write_digest as write
        from policy_news.settings import get_settings

        settings = get_settings()
        return str(write(settings.snapshot_path, settings.reports_dir))

    @task
    def write_report() -> str:
        from policy_news.reporting.report import write_report as write
        from policy_news.settings import get_settings

        settings = get_settings()
        return str(write(settings.snapshot_path, settings.reports_dir))

    write_digest()
    write_report()


policy_news_digest()
