"""DAG integrity (the Astro template's idea): every DAG imports, is tagged, retries, and
parsing does no work: no network, no database, no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
HEAVY_MODULES = (
    "trafilatura",
    "great_expectations",
    "duckdb",
    "pandas",
    "pyarrow",
    "httpx",
    "feedparser",
)


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dag_bag) -> None:
    assert dag_bag.import_errors == {}, f"DAG import errors: {dag_bag.import_errors}"


def test_expected_dags_exist(dag_bag) -> None:
    assert {"policy_news_ingest", "policy_news_retag", "policy_news_digest"} <= set(dag_bag.dag_ids)


@pytest.mark.parametrize("attr", ["tags", "doc_md"])
def test_every_dag_is_documented_and_tagged(dag_bag, attr: str) -> None:
    for dag_id, dag in dag_bag.dags.items():
        assert getattr(dag, attr), f"{dag_id} has no {attr}"


def test_every_task_retries_at_least_twice_except_checks(dag_bag) -> None:
    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            if task.task_id == "validate_batch":
                assert task.retries == 0, "a failed data check must not be retried"
                continue
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries={task.retries} (need >= 2)"


def test_ingest_dag_schedule_and_concurrency(dag_bag) -> None:
    dag = dag_bag.dags["policy_news_ingest"]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "load_duckdb" in dag.task_ids
    load = dag.get_task("load_duckdb")
    assert [o.name for o in load.outlets] == ["policy_news_duckdb"]


def test_only_the_loader_and_checks_write(dag_bag) -> None:
    """The mapped fan-out tasks hand data on as files; their count does not depend on data."""
    dag = dag_bag.dags["policy_news_ingest"]
    assert set(dag.task_ids) == {
        "plan_run",
        "fetch_feeds",
        "select_new_items",
        "fetch_articles",
        "tag_articles",
        "validate_batch",
        "load_duckdb",
        "alert_operators",
        "housekeeping",
    }


@pytest.mark.parametrize("task_id", ["alert_operators", "housekeeping"])
def test_end_of_run_tasks_are_teardowns_so_a_blocked_run_stays_failed(dag_bag, task_id) -> None:
    task = dag_bag.dags["policy_news_ingest"].get_task(task_id)
    assert task.is_teardown
    assert "load_duckdb" in task.upstream_task_ids


DUCKDB_TASKS = {
    ("policy_news_ingest", "plan_run"),
    ("policy_news_ingest", "select_new_items"),
    ("policy_news_ingest", "validate_batch"),
    ("policy_news_ingest", "load_duckdb"),
    ("policy_news_ingest", "alert_operators"),
    ("policy_news_ingest", "housekeeping"),
    ("policy_news_retag", "retag_articles"),
    ("policy_news_digest", "write_digest"),
}


def test_only_tasks_that_open_duckdb_go_to_its_queue(dag_bag) -> None:
    """Fetching, extraction and tagging run on any worker; DuckDB's tasks where the file is."""
    from airflow.configuration import conf

    default_queue = conf.get("operators", "default_queue")
    for dag_id, dag in dag_bag.dags.items():
        for task in dag.tasks:
            on_duckdb = (dag_id, task.task_id) in DUCKDB_TASKS
            expected = "duckdb" if on_duckdb else default_queue
            assert task.queue == expected, f"{dag_id}.{task.task_id} is on queue {task.queue}"
            # No pool unless POLICY_NEWS_DUCKDB_POOL names one: a missing pool blocks tasks.
            assert task.pool == "default_pool", f"{dag_id}.{task.task_id} pool {task.pool}"


@pytest.mark.parametrize("dag_file", sorted(DAGS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_parsing_imports_nothing_heavy_and_is_fast(dag_file: Path) -> None:
    code = (
        "import sys, time, importlib.util, json\n"
        "import airflow.sdk\n"
        f"before = set(sys.modules); t = time.process_time()\n"
        f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(dag_file)!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "print(json.dumps({'seconds': time.process_time() - t,"
        " 'modules': sorted(set(sys.modules) - before)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    heavy = [m for m in report["modules"] if m.split(".")[0] in HEAVY_MODULES]
    assert heavy == [], f"{dag_file.name} imports {heavy} at parse time"
    # CPU time, not wall time: a busy machine must not fail the check, top-level work must.
    assert report["seconds"] < 2.0, f"{dag_file.name} took {report['seconds']:.2f} CPU-s to parse"


def test_digest_is_scheduled_on_the_loader_asset(dag_bag) -> None:
    condition = dag_bag.dags["policy_news_digest"].timetable.asset_condition
    assert [a.name for a in condition.objects] == ["policy_news_duckdb"]
