"""Airflow's CLI against a private home: SQLite metadata, this repo's DAGs, migrated once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT
from tools.bench.airflow_overhead import airflow_env


def airflow(
    args: list[str], env: dict[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run `airflow ARGS` from this venv in the repo, output captured."""
    command = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(command), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def env_value(value: Any) -> str:
    """A setting as an environment variable holds it (tuples comma-separated)."""
    return ",".join(value) if isinstance(value, tuple) else str(value)


def migrated_airflow_env(home: Path, feeds: Path, settings: dict[str, Any]) -> dict[str, str]:
    """The environment of a private Airflow in `home` (metadata migrated), with the project
    reading `feeds` and `settings` (as POLICY_NEWS_* variables)."""
    env = airflow_env(
        home,
        home / "data",
        feeds,
        {f"POLICY_NEWS_{k.upper()}": env_value(v) for k, v in settings.items()},
    )
    migrated = airflow(["db", "migrate"], env)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return env
