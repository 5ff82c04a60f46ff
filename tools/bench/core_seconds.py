"""Where a run's core-seconds went: cores x wall, against what trafilatura itself used.

The extraction bound (trafilatura's CPU / cores) is what a run could reach with every
core extracting all the time; this splits the rest of cores x wall into the work
around extraction, process start-ups, the pipeline process and idle cores.
"""

from __future__ import annotations

import math
import resource
import subprocess
import sys
from typing import Any

from tools.bench.report import say, table
from tools.bench.targets import TARGETS

# What a fresh process of each kind imports before its first piece of work.
STARTUP_CODE = {
    "extraction_worker": "import py3langid, trafilatura; py3langid.classify('warm up')",
    "validation_process": "import great_expectations",
}


def startup_cpu_s(code: str, repeats: int = 2) -> float:
    """CPU seconds of a fresh interpreter running `code` (the best of `repeats`)."""
    best = math.inf
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return round(best, 2)


def cost_budget(
    run: dict[str, Any],
    startups: dict[str, float],
    cores: int,
    tagging_per_s: float | None = None,
) -> dict[str, Any]:
    """Where the run's core-seconds went, against what wall <= 1.25 x bound leaves.

    wall <= r * E / cores means cores * wall <= r * E: everything but trafilatura's own
    CPU (E), idle cores included, must fit in (r - 1) * E core-seconds. The floor counts
    only work no run can skip: extraction, the workers' per-page extras, process
    start-ups and tagging the run's articles (at the measured per-core rate).
    """
    d, cpu = run["derived"], run["cpu_s"]
    trafilatura = d["extraction_cpu_s"]
    worker_page = d["worker_page_cpu_s"]
    workers = int(run["settings"].get("extract_workers") or 1)
    worker_starts = workers * startups["extraction_worker"] if workers > 1 else 0.0
    validation_start = startups["validation_process"]
    main_cpu = cpu["main_user"] + cpu["main_system"]
    available = cores * run["wall_s"]
    server, others = d["server_cpu_s"], d["other_processes_cpu_s"]
    parts = {
        "workers' other per-page work (language, fingerprint, gzip)": worker_page - trafilatura,
        f"start-up of {workers} extraction workers (import trafilatura)": worker_starts,
        "start-up of the validation process (import Great Expectations)": validation_start,
        "pipeline process (HTTP, feeds, staging, tagging, load)": main_cpu,
        "rest of the process tree (validation itself, forkserver, IPC)": d["tree_cpu_s"]
        - worker_page
        - worker_starts
        - validation_start
        - main_cpu,
        "bench site server (elsewhere in production)": server,
        "other processes on the machine": others,
        "idle core time (network waits, serial stages)": available
        - d["tree_cpu_s"]
        - server
        - others,
    }
    ratio = TARGETS["wall_vs_extraction_bound"]
    tagging = d["articles_loaded"] / tagging_per_s if tagging_per_s else 0.0
    fixed = (worker_page - trafilatura) + worker_starts + validation_start + tagging
    return {
        "trafilatura_core_s": round(trafilatura, 2),
        "available_core_s": round(available, 2),
        "budget_core_s": round((ratio - 1) * trafilatura, 2),
        "parts_core_s": {k: round(v, 2) for k, v in parts.items()},
        "startup_cpu_s": startups,
        "tagging_core_s": round(tagging, 2),
        # The ratio with the pipeline process doing nothing but tagging, no core ever idle.
        "floor_ratio": round((trafilatura + fixed) / trafilatura, 3) if trafilatura else None,
    }


def section_budget(results: dict[str, Any], cores: int) -> None:
    main_size = results["config"]["main_size"]
    run = next((r for r in results.get("runs", []) if r["site"]["articles"] == main_size), None)
    if run is None:
        return
    startups = {kind: startup_cpu_s(code) for kind, code in STARTUP_CODE.items()}
    rate = (results.get("tagging") or {}).get("per_core_articles_per_s")
    budget = cost_budget(run, startups, cores, rate)
    results["cost_budget"] = budget
    ratio = TARGETS["wall_vs_extraction_bound"]
    say(f"\n== where the core-seconds went ({main_size} articles) ==")
    say(
        f"{cores} cores x {run['wall_s']} s wall = {budget['available_core_s']} core-s; "
        f"trafilatura used {budget['trafilatura_core_s']}. Wall <= {ratio} x bound leaves "
        f"{budget['budget_core_s']} core-s for everything else, idle cores included:"
    )
    say(table(["", "core-s"], list(budget["parts_core_s"].items())))
    say(
        f"floor with no core ever idle and the pipeline process doing nothing but tagging "
        f"({budget['tagging_core_s']} core-s): trafilatura + workers' other per-page work + "
        f"process start-ups + tagging = {budget['floor_ratio']} x bound"
    )
