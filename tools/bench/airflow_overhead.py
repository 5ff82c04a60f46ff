"""Airflow's cost: one `airflow dags test policy_news_ingest` against `policy-news run`.

Both run as fresh processes on fresh databases against the same synthetic site and
settings; the DAG run uses a temporary AIRFLOW_HOME with SQLite metadata (migrated
first, not timed). Task instances of each DAG run are counted from the metadata DB,
for two site sizes, to show the task count does not grow with the articles.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policy_news.settings import project_home
from tools.bench.report import say
from tools.bench.scenarios import predicted_tasks
from tools.bench.site_content import feeds_yaml

if TYPE_CHECKING:
    import argparse

    from tools.bench.site_content import Content, SiteSpec


def airflow_env(
    home: Path, data_dir: Path, feeds: Path, settings_env: dict[str, str]
) -> dict[str, str]:
    """The environment of a private Airflow in `home` (SQLite metadata, this repo's DAGs),
    the project keeping its data under `data_dir` and reading `feeds` and `settings_env`."""
    repo = project_home()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "GX_ANALYTICS_ENABLED": "false",
        "POLICY_NEWS_DATA_DIR": str(data_dir),
        "POLICY_NEWS_FEEDS": str(feeds),
        **settings_env,
    }
    for name in ("POLICY_NEWS_DB", "POLICY_NEWS_STAGING_DIR", "POLICY_NEWS_DOCS_DIR"):
        env.pop(name, None)
    return env


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def migrate(home: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [_bin("airflow"), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=project_home(),
    )
    if done.returncode != 0:
        raise RuntimeError("airflow db migrate failed: " + (done.stdout + done.stderr)[-2000:])
    return time.perf_counter() - started


def dag_test(env: dict[str, str], log: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(
            [_bin("airflow"), "dags", "test", "policy_news_ingest"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=420,
            cwd=project_home(),
        )
    wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    return {
        "returncode": done.returncode,
        "wall_s": round(wall, 2),
        "success": done.returncode == 0 and "state=success" in text,
    }


_TASK_EVENT = re.compile(
    r"^(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=(\S+) map_index=(-?\d+)"
)


def task_times(log: Path) -> dict[str, Any]:
    """Per-task durations from the `dags test` log ([DAG TEST] starting / end task lines)."""
    started: dict[tuple[str, str], datetime] = {}
    durations: dict[str, float] = {}
    first = last = None
    for line in log.read_text(errors="replace").splitlines():
        match = _TASK_EVENT.match(line)
        if not match:
            continue
        when = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
        first = first or when
        last = when
        key = (match.group(3), match.group(4))
        if match.group(2) == "starting":
            started[key] = when
        elif key in started:
            name = key[0] if key[1] == "-1" else f"{key[0]}[{key[1]}]"
            durations[name] = round((when - started.pop(key)).total_seconds(), 2)
    return {
        "tasks_s": durations,
        "sum_tasks_s": round(sum(durations.values()), 2),
        "first_to_last_task_s": round((last - first).total_seconds(), 2)
        if first and last
        else None,
    }


def cli_run(env: dict[str, str], log: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(
            [_bin("policy-news"), "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=420,
            cwd=project_home(),
        )
    return {"returncode": done.returncode, "wall_s": round(time.perf_counter() - started, 2)}


def task_counts(home: Path) -> list[dict[str, Any]]:
    """Task instances per DAG run of policy_news_ingest, oldest first."""
    conn = sqlite3.connect(str(home / "airflow.db"))
    try:
        rows = conn.execute(
            "SELECT run_id, count(*), sum(CASE WHEN map_index >= 0 THEN 1 ELSE 0 END), "
            "group_concat(DISTINCT state) FROM task_instance WHERE dag_id = 'policy_news_ingest' "
            "GROUP BY run_id ORDER BY min(start_date)"
        ).fetchall()
    finally:
        conn.close()
    return [{"run_id": r[0], "tasks": r[1], "mapped": r[2], "states": r[3]} for r in rows]


def loaded(data_dir: Path) -> int:
    import duckdb

    db = data_dir / "policy_news.duckdb"
    if not db.exists():
        return 0
    with duckdb.connect(str(db), read_only=True) as conn:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])  # type: ignore[index]


def compare(
    workdir: Path, feeds_main: Path, feeds_small: Path | None, settings_env: dict[str, str]
) -> dict[str, Any]:
    """DAG run vs CLI run on `feeds_main`; a second DAG run on `feeds_small` for the task count."""
    home = workdir / "airflow_home"
    home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(home, workdir / "dag_data", feeds_main, settings_env)
    result: dict[str, Any] = {"migrate_s": round(migrate(home, env), 2)}
    result["dag"] = dag_test(env, workdir / "dag_test.log")
    result["dag"]["articles_loaded"] = loaded(workdir / "dag_data")
    times = task_times(workdir / "dag_test.log")
    result["dag"].update(times)
    # Airflow's own cost: the run's wall time not spent inside a task (process start,
    # DAG parsing, run creation, state updates between tasks).
    result["dag"]["outside_tasks_s"] = round(result["dag"]["wall_s"] - times["sum_tasks_s"], 2)
    cli_env = airflow_env(home, workdir / "cli_data", feeds_main, settings_env)
    result["cli"] = cli_run(cli_env, workdir / "cli_run.log")
    result["cli"]["articles_loaded"] = loaded(workdir / "cli_data")
    if feeds_small is not None:
        small_env = airflow_env(home, workdir / "dag_small_data", feeds_small, settings_env)
        result["dag_small"] = dag_test(small_env, workdir / "dag_test_small.log")
        result["dag_small"]["articles_loaded"] = loaded(workdir / "dag_small_data")
    counts = task_counts(home)
    result["task_counts"] = counts
    result["ratio"] = (
        round(result["dag"]["wall_s"] / result["cli"]["wall_s"], 2)
        if result["cli"]["wall_s"]
        else None
    )
    return result


def section_airflow(
    results: dict[str, Any],
    work: Path,
    content: Content,
    air: SiteSpec,
    air_small: SiteSpec | None,
    delay: float,
    runs: list[dict[str, Any]],
    args: argparse.Namespace,
) -> None:
    """The DAG-vs-CLI comparison for `make bench`, with the DAG's task counts per site."""
    say(
        f"\n== Airflow: `airflow dags test` vs `policy-news run`, {air.articles} articles "
        f"({air.feeds} feeds, {air.hosts} hosts)"
        + (f"; a second DAG run on {air_small.articles} ==" if air_small else " ==")
    )
    feeds_air = work / "feeds_air.yaml"
    feeds_air.write_text(feeds_yaml(content, content.sites[air.name]))
    feeds_small = None
    if air_small is not None:
        feeds_small = work / "feeds_airsmall.yaml"
        feeds_small.write_text(feeds_yaml(content, content.sites[air_small.name]))
    env = {
        "POLICY_NEWS_ALLOWED_PRIVATE_NETS": "127.0.0.0/8",
        "POLICY_NEWS_HOST_DELAY_S": str(delay),
    }
    if args.extract_workers:
        env["POLICY_NEWS_EXTRACT_WORKERS"] = str(args.extract_workers)
    af = compare(work / "airflow", feeds_air, feeds_small, env)
    af["predicted_tasks"] = {
        air.name: predicted_tasks(content, content.sites[air.name]),
        **(
            {air_small.name: predicted_tasks(content, content.sites[air_small.name])}
            if air_small
            else {}
        ),
        **{r["site"]["name"]: r["predicted_dag_tasks"] for r in runs},
    }
    dag = af["dag"]
    longest: dict[str, float] = {}
    for name, seconds in dag.get("tasks_s", {}).items():
        base = name.split("[", 1)[0]
        longest[base] = max(longest.get(base, 0.0), seconds)
    # `dags test` runs mapped task instances one after another; a scheduler with
    # parallelism >= the map width runs them side by side.
    af["dag_with_parallel_mapped_tasks_s"] = round(
        dag["wall_s"] - dag.get("sum_tasks_s", 0.0) + sum(longest.values()), 2
    )
    af["ratio_with_parallel_mapped_tasks"] = (
        round(af["dag_with_parallel_mapped_tasks_s"] / af["cli"]["wall_s"], 2)
        if af["cli"]["wall_s"]
        else None
    )
    results["airflow"] = af
    counts = [c["tasks"] for c in af["task_counts"]]
    say(
        f"DAG run {af['dag']['wall_s']:.1f} s ({af['dag']['articles_loaded']} loaded) vs CLI "
        f"{af['cli']['wall_s']:.1f} s ({af['cli']['articles_loaded']} loaded): ratio {af['ratio']}; "
        f"task instances per DAG run: {counts} for "
        f"{[air.articles] + ([air_small.articles] if air_small else [])} articles; "
        f"predicted from the settings for every site: {af['predicted_tasks']}"
    )
    say(
        f"inside tasks {dag.get('sum_tasks_s')} s (mapped instances one after another: "
        f"{dag.get('tasks_s')}); outside tasks (Airflow itself: start, parse, state) "
        f"{dag.get('outside_tasks_s')} s; with the mapped instances side by side the run would "
        f"take ~{af['dag_with_parallel_mapped_tasks_s']} s = "
        f"{af['ratio_with_parallel_mapped_tasks']}x the CLI"
    )
