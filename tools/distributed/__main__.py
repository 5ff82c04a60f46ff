"""`python -m tools.distributed`: the Celery deployment end to end on this machine.

Needs root (a private mount namespace per worker) and installs Postgres and Redis from Debian
packages when they are missing. Prints PASS/FAIL per check and `N passed, M failed`; exits 1
on any failure. Every process it starts is stopped on the way out, also after --timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from tools.distributed import cluster as af
from tools.distributed import scenario
from tools.distributed.processes import HarnessError, ProcessSet
from tools.distributed.report import Report
from tools.distributed.services import (
    ensure_debian_packages,
    start_postgres,
    start_redis,
    start_s3,
)
from tools.sample_site import SAMPLE_SITE_DIR, serve

if TYPE_CHECKING:
    from types import FrameType

LOG_DIR = af.ROOT / "data" / "distributed-test"


class HarnessTimeout(HarnessError):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    reason = "hard timeout reached" if signum == signal.SIGALRM else f"signal {signum}"
    raise HarnessTimeout(f"{reason}: stopping every process")


def run(report: Report, processes: ProcessSet, tmp: Path, timeout_s: float) -> None:
    if os.geteuid() != 0:
        raise HarnessError("run as root: each worker needs a private mount namespace (unshare -m)")
    ensure_debian_packages()
    started = time.monotonic()
    s3 = start_s3(scenario.BUCKET)
    try:
        with serve(SAMPLE_SITE_DIR, port=0, lifetime_s=timeout_s) as base_url:
            feeds = scenario.write_feeds(base_url, tmp)
            reference = scenario.start_reference_run(processes, feeds, tmp / "reference")
            postgres = start_postgres(processes, tmp / "pg")
            broker = start_redis(processes, tmp)
            cluster = af.start_cluster(
                processes, tmp, postgres, broker, scenario.cluster_env(feeds, s3)
            )
            for queue in (af.DUCKDB_QUEUE, af.DEFAULT_QUEUE):
                af.start_worker(cluster, queue, {})
            af.wait_for_dag(cluster)
            af.wait_workers_ready(cluster)
            code = reference.popen.wait(timeout=600)
            ref_rows = scenario.reference_rows(tmp / "reference" / "policy_news.duckdb")
            if not report.check(
                "reference `policy-news run` succeeds",
                code == 0 and "error" not in ref_rows,
                f"exit {code}; see {processes.log_dir / 'reference-run.log'}",
            ):
                return
            report.note(
                f"set-up took {time.monotonic() - started:.0f}s; reference run stored "
                f"{len(ref_rows['articles'])} articles"
            )
            ctx = scenario.Context(cluster, s3, ref_rows)
            for step in scenario.STEPS:
                step_started = time.monotonic()
                step(ctx, report)
                report.note(f"{step.__name__} took {time.monotonic() - step_started:.0f}s")
            for run_id, seconds in ctx.wall_s.items():
                report.note(f"run {run_id}: {seconds:.1f}s from start to end (scheduler's clock)")
    finally:
        s3.server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=1200, help="hard limit in seconds")
    args = parser.parse_args(argv)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    report = Report()
    processes = ProcessSet(LOG_DIR)
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGTERM, _on_alarm)
    signal.alarm(int(args.timeout))
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="policy-news-distributed-") as tmp:
            try:
                run(report, processes, Path(tmp), args.timeout)
            except HarnessError as exc:
                report.check("harness", False, str(exc))
            except Exception:
                report.check("harness", False, traceback.format_exc())
            finally:
                signal.alarm(0)
                processes.stop_all()
    finally:
        processes.stop_all()
    print(f"logs: {LOG_DIR} ; took {time.monotonic() - started:.0f}s")
    print(report.summary())
    return 1 if report.failed or not report.passed else 0


if __name__ == "__main__":
    sys.exit(main())
