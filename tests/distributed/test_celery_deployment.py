"""Airflow's CeleryExecutor with two workers that share no disk: tools/distributed runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARD_TIMEOUT_S = 1200

pytestmark = pytest.mark.distributed


@pytest.mark.timeout(HARD_TIMEOUT_S + 120)
def test_ingest_through_two_celery_workers_matches_a_single_machine_run() -> None:
    """Every check of the harness passes: rows, placement, re-run, killed worker, negative control."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.distributed", "--timeout", str(HARD_TIMEOUT_S)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # streamed: the checks show as they run (pytest -s)
        print(line, end="", flush=True)
        lines.append(line.rstrip("\n"))
    code = process.wait()
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert code == 0 and not failed, "distributed checks failed:\n" + "\n".join(failed)
    assert lines and lines[-1].endswith(" 0 failed"), lines[-1:]
