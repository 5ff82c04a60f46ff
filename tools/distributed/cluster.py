"""Airflow 3 with the CeleryExecutor: scheduler, API server, DAG processor and two workers.

Each worker runs in a private mount namespace with a tmpfs on PRIVATE_DATA_DIR, so the two
see different files at the same path, as two machines would. The `duckdb` worker keeps the
DuckDB file there; the `default` worker has nothing there that another task could read.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet

from tools.distributed.processes import HarnessError, free_port, mount_namespace, wait_until
from tools.distributed.services import python_bin

if TYPE_CHECKING:
    from collections.abc import Callable

    from tools.distributed.processes import Managed, ProcessSet
    from tools.distributed.services import Postgres

ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "policy_news_ingest"
PRIVATE_DATA_DIR = Path("/srv/policy-news-data")
DUCKDB_QUEUE = "duckdb"
DEFAULT_QUEUE = "default"
DUCKDB_POOL = "duckdb"
STAGING_CONN_ID = "policy_news_staging"
# The name each worker's task instances record (task_instance.hostname): both run on this host.
WORKER_NAME_VAR = "DISTRIBUTED_WORKER_NAME"
WORKER_NAMES = {DUCKDB_QUEUE: "duckdb-worker", DEFAULT_QUEUE: "default-worker"}
TERMINAL_RUN_STATES = {"success", "failed"}

# Test-only cluster policies, loaded by Airflow from $AIRFLOW_HOME/config: the DAG's one-minute
# retry delay would make the kill and negative-control runs wait minutes, and its schedule
# would start a run of its own on unpause, before and between the harness's runs.
LOCAL_SETTINGS = '''"""Harness cluster policies: retry after seconds; only triggered runs."""
from datetime import timedelta

from airflow.timetables.simple import NullTimetable


def task_policy(task):
    task.retry_delay = timedelta(seconds=3)


def dag_policy(dag):
    dag.timetable = NullTimetable()
'''


def worker_hostname() -> str:
    """`[core] hostname_callable` of the test workers: the name the harness gave them."""
    import socket

    return os.environ.get(WORKER_NAME_VAR) or socket.getfqdn()


@dataclass
class Cluster:
    """One Airflow deployment; `env` is what every Airflow process gets."""

    processes: ProcessSet
    home: Path
    postgres: Postgres
    env: dict[str, str]
    workers: dict[str, Managed] = field(default_factory=dict)

    def airflow(self, *args: str, timeout_s: float = 300) -> str:
        """Run an `airflow` CLI command; HarnessError with its output if it fails."""
        done = subprocess.run(
            [python_bin("airflow"), *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(
                f"airflow {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Read the metadata database (task instances, runs) directly: no CLI start-up cost."""
        import psycopg2

        conn = psycopg2.connect(self.postgres.dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params or [])
                return list(cur.fetchall())
        finally:
            conn.close()


def airflow_env(
    home: Path, postgres: Postgres, broker_url: str, api_port: int, pipeline: dict[str, str]
) -> dict[str, str]:
    shared_secret = secrets.token_urlsafe(32)
    config = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.sqlalchemy_url,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql+psycopg2://"
        + postgres.sqlalchemy_url.split("://", 1)[1],
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": DEFAULT_QUEUE,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tools.distributed.cluster.worker_hostname",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__SECRET_KEY": shared_secret,
        "AIRFLOW__API_AUTH__JWT_SECRET": shared_secret,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__PARALLELISM": "8",
        # A killed worker's task is noticed in seconds instead of five minutes.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "GX_ANALYTICS_ENABLED": "false",
        "POLICY_NEWS_HOME": str(ROOT),
        # The tree under test, whatever the venv's editable install points at.
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)]),
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "POLICY_NEWS_"))}
    return {**base, **config, **pipeline}


def start_cluster(
    processes: ProcessSet,
    root: Path,
    postgres: Postgres,
    broker_url: str,
    pipeline: dict[str, str],
) -> Cluster:
    """Migrate the metadata DB, then start the API server, the scheduler and the DAG processor."""
    home = root / "airflow_home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    api_port = free_port()
    env = airflow_env(home, postgres, broker_url, api_port, pipeline)
    cluster = Cluster(processes, home, postgres, env)
    cluster.airflow("db", "migrate", timeout_s=600)
    airflow = python_bin("airflow")
    processes.start(
        "api-server", [airflow, "api-server", "-H", "127.0.0.1", "-p", str(api_port)], env, cwd=ROOT
    )
    processes.start("scheduler", [airflow, "scheduler"], env, cwd=ROOT)
    processes.start("dag-processor", [airflow, "dag-processor"], env, cwd=ROOT)
    cluster.airflow("pools", "set", DUCKDB_POOL, "1", "one DuckDB writer at a time")
    return cluster


def _worker_names(cluster: Cluster) -> list[str]:
    return [managed.name for managed in cluster.workers.values()]


def wait_for_dag(cluster: Cluster, timeout_s: float = 300) -> None:
    def parsed() -> bool:
        for component in ("api-server", "scheduler", "dag-processor", *_worker_names(cluster)):
            if not cluster.processes.alive(component):
                raise HarnessError(
                    f"airflow {component} exited:\n{cluster.processes.tail(component, 30)}"
                )
        rows = cluster.query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", [DAG_ID])
        broken = cluster.query("SELECT filename, stacktrace FROM import_error")
        if not rows and broken:
            raise HarnessError(f"DAG import error in {broken[0][0]}:\n{str(broken[0][1])[-1500:]}")
        return bool(rows)

    wait_until(parsed, timeout_s, f"the DAG processor to parse {DAG_ID}", 2)
    cluster.airflow("dags", "unpause", DAG_ID)


def start_worker(cluster: Cluster, queue: str, extra_env: dict[str, str]) -> Managed:
    """A Celery worker for `queue` in a new mount namespace with a private PRIVATE_DATA_DIR."""
    if shutil.which("unshare") is None:
        raise HarnessError("unshare (util-linux) is needed to give each worker its own files")
    PRIVATE_DATA_DIR.mkdir(parents=True, exist_ok=True)
    name = f"worker-{queue}"
    worker_name = WORKER_NAMES[queue]
    env = {**cluster.env, **extra_env, WORKER_NAME_VAR: worker_name}
    concurrency = "1" if queue == DUCKDB_QUEUE else "2"
    script = f'mount -t tmpfs tmpfs {PRIVATE_DATA_DIR} && exec "$@"'
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
    argv += [python_bin("airflow"), "celery", "worker", "-q", queue, "--concurrency", concurrency]
    argv += ["--celery-hostname", f"{worker_name}@%h", "--skip-serve-logs"]
    argv += ["--without-mingle", "--without-gossip"]
    managed = cluster.processes.start(name, argv, env, cwd=ROOT)

    def namespaced() -> bool:
        managed.namespace = mount_namespace(managed.popen.pid)
        return managed.namespace is not None and managed.namespace != mount_namespace(os.getpid())

    wait_until(namespaced, 30, f"{name} to enter its mount namespace", 0.2)
    cluster.workers[queue] = managed
    return managed


def wait_workers_ready(cluster: Cluster, timeout_s: float = 240) -> None:
    """Celery logs `ready.` once connected to the broker and consuming its queues."""

    def ready() -> bool:
        for managed in cluster.workers.values():
            if managed.popen.poll() is not None:
                raise HarnessError(
                    f"{managed.name} exited:\n{cluster.processes.tail(managed.name, 30)}"
                )
        return all(
            " ready." in managed.log_path.read_text(errors="replace").rsplit("\n$ ", 1)[-1]
            for managed in cluster.workers.values()
        )

    wait_until(ready, timeout_s, "the Celery workers to connect to the broker", 1)


def run_in_worker(
    cluster: Cluster, queue: str, argv: list[str]
) -> subprocess.CompletedProcess[str]:
    """Run a command inside a worker's mount namespace: it sees that worker's private files."""
    managed = cluster.workers[queue]
    return subprocess.run(
        ["nsenter", "-t", str(managed.popen.pid), "-m", "--", *argv],
        env={**cluster.env, **_worker_pipeline_env(managed)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _worker_pipeline_env(managed: Managed) -> dict[str, str]:
    environ = Path(f"/proc/{managed.popen.pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode(errors="replace").split("=", 1) for item in environ if b"=" in item)
    return {k: v for k, v in pairs if k.startswith("POLICY_NEWS_")}


def trigger(cluster: Cluster, run_id: str, conf: dict[str, Any]) -> None:
    cluster.airflow("dags", "trigger", DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf))


def run_state(cluster: Cluster, run_id: str) -> str | None:
    rows = cluster.query(
        "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", [DAG_ID, run_id]
    )
    return str(rows[0][0]) if rows and rows[0][0] else None


def wait_for_run(
    cluster: Cluster, run_id: str, timeout_s: float, on_poll: Callable[[], None] | None = None
) -> str:
    def finished() -> str | None:
        if on_poll is not None:
            on_poll()
        for queue, managed in cluster.workers.items():
            if managed.popen.poll() is not None:
                raise HarnessError(
                    f"the {queue} worker exited:\n{cluster.processes.tail(managed.name, 30)}"
                )
        state = run_state(cluster, run_id)
        return state if state in TERMINAL_RUN_STATES else None

    return str(wait_until(finished, timeout_s, f"run {run_id} to finish", 2))


def run_wall_time(cluster: Cluster, run_id: str) -> float:
    """Seconds from the run's start to its end, as the scheduler recorded them."""
    rows = cluster.query(
        "SELECT extract(epoch FROM end_date - start_date) FROM dag_run "
        "WHERE dag_id = %s AND run_id = %s",
        [DAG_ID, run_id],
    )
    return float(rows[0][0]) if rows and rows[0][0] is not None else float("nan")


@dataclass(frozen=True)
class TaskRun:
    task_id: str
    map_index: int
    state: str | None
    hostname: str | None
    queue: str | None
    try_number: int


def task_runs(cluster: Cluster, run_id: str) -> list[TaskRun]:
    rows = cluster.query(
        "SELECT task_id, map_index, state, hostname, queue, try_number FROM task_instance "
        "WHERE dag_id = %s AND run_id = %s ORDER BY task_id, map_index",
        [DAG_ID, run_id],
    )
    return [TaskRun(*row) for row in rows]


def task_log_excerpt(cluster: Cluster, run_id: str, task_id: str, lines: int = 6) -> str:
    """The error lines of a task's logs (every try), for a failure a person can act on."""
    logs = sorted(
        (cluster.home / "logs").glob(f"dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/**/*.log")
    )
    found: list[str] = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if any(word in line for word in ("Error", "error", "Exception", "No such file")):
                found.append(line.strip()[:400])
    return "\n".join(found[-lines:])
