"""`make demo`: run the ingest DAG once through Airflow against the bundled sample site.

Starts the sample site on 127.0.0.1, runs `airflow dags test policy_news_ingest`
(real Airflow, SQLite metadata in the project's AIRFLOW_HOME), stops the site,
prints what landed in DuckDB and writes the weekly HTML report from the snapshot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from policy_news.settings import Settings, get_settings, project_home
from tools.sample_site import DEMO_PORT, SAMPLE_SITE_DIR, serve

EXAMPLE_QUERY = """SELECT t.subtopic, count(*) AS articles, any_value(t.evidence) AS example_evidence
FROM articles a JOIN current_article_topics t USING (article_id)
WHERE a.relevant GROUP BY ALL ORDER BY articles DESC;"""


def _airflow(args: list[str], env: dict[str, str], log_path: Path) -> int:
    with log_path.open("a") as log:
        log.write(f"\n$ airflow {' '.join(args)}\n")
        log.flush()
        airflow = Path(sys.executable).with_name("airflow")
        return subprocess.call(
            [str(airflow), *args],
            env=env,
            cwd=project_home(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _summary(db_path: Path) -> None:
    from policy_news.store import connection
    from policy_news.store.snapshot import snapshot_path_for

    with connection.open_db(db_path, read_only=True) as conn:
        latest = conn.execute(
            "SELECT run_id FROM pipeline_runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        if latest is None:
            print("no run was recorded", file=sys.stderr)
            return
        run_id = latest[0]
        run = conn.execute(
            "SELECT outcome, feeds_ok, feeds_failed, items_new, articles_loaded, relevant_loaded, "
            "articles_failed, quarantined, checks_passed, checks_failed, message "
            "FROM pipeline_runs WHERE run_id = ?",
            [run_id],
        ).fetchone()
        totals = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE relevant) FROM articles"
        ).fetchone()
        per_topic = conn.execute(
            "SELECT subtopic, count(DISTINCT article_id) FROM current_article_topics "
            "JOIN articles USING (article_id) WHERE relevant GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        fetches = conn.execute(
            "SELECT feed_name, outcome, http_status, items_seen, coalesce(error, '') "
            "FROM feed_fetches WHERE run_id = ? ORDER BY feed_name",
            [run_id],
        ).fetchall()
        suites = conn.execute(
            "SELECT suite, count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success), "
            "string_agg(check_name, ', ' ORDER BY check_name) FROM dq_results WHERE run_id = ? "
            "GROUP BY suite ORDER BY suite",
            [run_id],
        ).fetchall()
        failed_checks = conn.execute(
            "SELECT suite, check_name, severity, observed_value FROM dq_results "
            "WHERE run_id = ? AND NOT success ORDER BY suite, check_name",
            [run_id],
        ).fetchall()
    assert run is not None and totals is not None
    print("\n=== policy-news demo: summary ===")
    print(f"run {run_id}: {run[0]}")
    print(f"feeds fetched: {run[1]} ok, {run[2]} failed")
    for name, outcome, status, items, error in fetches:
        print(f"  {name:32} {outcome:12} http={status} items={items} {error[:60]}")
    print(
        f"new articles this run: {run[3]}; loaded: {run[4]} (relevant {run[5]}); "
        f"failed: {run[6]}; quarantined: {run[7]}"
    )
    print(f"articles in the database: {totals[0]} (relevant {totals[1]})")
    print("relevant articles per subtopic:")
    for subtopic, count in per_topic:
        print(f"  {subtopic:28} {count}")
    print(f"checks (Great Expectations): {run[8]} passed, {run[9]} failed")
    for suite, passed, failed, names in suites:
        print(
            f"  {suite:18} {passed} passed, {failed} failed: {names[:70]}{'...' if len(names) > 70 else ''}"
        )
    for suite, check, severity, observed in failed_checks:
        print(f"  failed [{severity}] {suite}.{check}: {observed}")
    print(f"DuckDB file: {db_path}")
    print(f"analyst snapshot: {snapshot_path_for(db_path)}")
    print("example query (reads the snapshot, never blocks a load):")
    print('  .venv/bin/policy-news query "' + EXAMPLE_QUERY.replace("\n", "\n    ") + '"')


def _weekly_report(settings: Settings) -> None:
    """What the digest DAG writes after each load, written here since the demo runs the ingest only."""
    from policy_news.reporting.report import write_report

    if not settings.snapshot_path.exists():
        print("no analyst snapshot, so no weekly report", file=sys.stderr)
        return
    report = write_report(settings.snapshot_path, settings.reports_dir)
    print(f"weekly report (open in a browser): {report}")


def main() -> int:
    settings = get_settings()
    home = settings.home
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", home / "airflow_home"))
    airflow_home.mkdir(parents=True, exist_ok=True)
    log_path = settings.db_path.parent / "demo-airflow.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(airflow_home),
        "POLICY_NEWS_FEEDS": os.environ.get(
            "POLICY_NEWS_FEEDS", str(SAMPLE_SITE_DIR / "feeds.yaml")
        ),
        "POLICY_NEWS_ALLOWED_PRIVATE_NETS": os.environ.get(
            "POLICY_NEWS_ALLOWED_PRIVATE_NETS", "127.0.0.1/32"
        ),
        "POLICY_NEWS_HOST_DELAY_S": os.environ.get("POLICY_NEWS_HOST_DELAY_S", "0.1"),
    }
    started = time.monotonic()
    print(f"preparing Airflow metadata (SQLite) in {airflow_home} ...", flush=True)
    if _airflow(["db", "migrate"], env, log_path) != 0:
        print(f"airflow db migrate failed; see {log_path}", file=sys.stderr)
        return 1
    with serve(SAMPLE_SITE_DIR, DEMO_PORT, lifetime_s=600) as base_url:
        print(
            f"sample site at {base_url}; running policy_news_ingest through Airflow ...", flush=True
        )
        code = _airflow(
            ["dags", "test", "policy_news_ingest", "--conf", '{"poll_all": true}'], env, log_path
        )
    print(
        f"sample site stopped; the DAG run took {time.monotonic() - started:.0f}s "
        f"(Airflow log: {log_path})"
    )
    if not settings.db_path.exists():
        print("no database was written; see the Airflow log above", file=sys.stderr)
        return 1
    _summary(settings.db_path)
    _weekly_report(settings)
    if code != 0:
        print(f"\nthe DAG run failed (exit {code}); see {log_path}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
