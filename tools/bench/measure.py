"""Sampling a child process tree: peak RSS (incl. extraction workers) and CPU per core."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from collections.abc import Sequence


def tree_rss(
    proc: psutil.Process, cpu: dict[int, float] | None = None, peaks: dict[int, int] | None = None
) -> tuple[int, int]:
    """RSS of a process plus all its descendants (bytes) and how many processes that is.

    With `cpu`, also records each member's CPU seconds so far (user + system) by pid;
    with `peaks`, each member's largest RSS seen.
    """
    total, count = 0, 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for member in members:
        try:
            with member.oneshot():
                rss = member.memory_info().rss
                total += rss
                if peaks is not None and rss > peaks.get(member.pid, 0):
                    peaks[member.pid] = rss
                if cpu is not None:
                    times = member.cpu_times()
                    cpu[member.pid] = times.user + times.system
            count += 1
        except psutil.Error:
            continue
    return total, count


@dataclass
class TreeSampler:
    """Polls a process tree's RSS in a thread until stopped."""

    pid: int
    interval_s: float = 0.1
    peak_rss: int = 0
    peak_procs: int = 0
    samples: int = 0
    # (t, tree rss, main rss, tree CPU seconds so far)
    timeline: list[tuple[float, int, int, float]] = field(default_factory=list)
    cpu_by_pid: dict[int, float] = field(default_factory=dict)  # last CPU seconds seen per pid
    peak_by_pid: dict[int, int] = field(default_factory=dict)  # largest RSS seen per pid
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        t0 = time.perf_counter()
        while not self._stop.is_set():
            rss, count = tree_rss(proc, self.cpu_by_pid, self.peak_by_pid)
            try:
                main = proc.memory_info().rss
            except psutil.Error:
                main = 0
            self.timeline.append(
                (
                    round(time.perf_counter() - t0, 2),
                    rss,
                    main,
                    round(sum(self.cpu_by_pid.values()), 2),
                )
            )
            self.samples += 1
            if rss > self.peak_rss:
                self.peak_rss = rss
            self.peak_procs = max(self.peak_procs, count)
            self._stop.wait(self.interval_s)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class CpuWindow:
    """Per-core busy share and machine-wide CPU over a window (psutil.cpu_times)."""

    def __enter__(self) -> CpuWindow:
        self.t0 = time.perf_counter()
        self.before = psutil.cpu_times(percpu=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.after = psutil.cpu_times(percpu=True)
        self.wall = time.perf_counter() - self.t0

    def result(self) -> dict[str, Any]:
        per_core = []
        for a, b in zip(self.before, self.after, strict=True):
            total = sum(b) - sum(a)
            idle = (b.idle - a.idle) + (getattr(b, "iowait", 0) - getattr(a, "iowait", 0))
            busy = total - idle
            per_core.append(
                {
                    "busy_pct": round(100 * busy / total, 1) if total > 0 else 0.0,
                    "user_pct": round(100 * (b.user - a.user) / total, 1) if total > 0 else 0.0,
                    "system_pct": round(100 * (b.system - a.system) / total, 1)
                    if total > 0
                    else 0.0,
                    "busy_s": round(busy, 2),
                }
            )
        return {"wall_s": round(self.wall, 3), "per_core": per_core}


def tree_cpu_total_s(proc: psutil.Process) -> float:
    """CPU seconds (user + system) a process tree has used so far, exited members included.

    A process that was waited for adds its CPU to its parent's `children_*` times; the
    forkserver waits for the pool workers it forked, so summing every living member's own
    and reaped children's times counts each process once, however briefly it lived.
    """
    total = 0.0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for member in members:
        try:
            t = member.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def proc_cpu_s(pid: int) -> float:
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout_s: float = 900,
    other_pids: Sequence[int] = (),
    log_path: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run `cmd`, sampling its tree's RSS and the machine's per-core CPU; returns the figures."""
    others0 = {pid: proc_cpu_s(pid) for pid in other_pids}
    log: Any = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        with CpuWindow() as cpu:
            proc = subprocess.Popen(
                list(cmd), env=env or dict(os.environ), cwd=cwd, stdout=log, stderr=log
            )
            with TreeSampler(proc.pid) as sampler:
                try:
                    rc = proc.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    rc = proc.wait(timeout=10)
    finally:
        if log is not subprocess.DEVNULL:
            log.close()
    return {
        "returncode": rc,
        "peak_rss_mib": round(sampler.peak_rss / 2**20, 1),
        "peak_processes": sampler.peak_procs,
        # CPU of the whole tree, workers included (a process's last ~0.1 s may be missed)
        "tree_cpu_s": round(sum(sampler.cpu_by_pid.values()), 2),
        "rss_samples": sampler.samples,
        "peak_rss_mib_by_process": sorted(
            (round(v / 2**20, 1) for v in sampler.peak_by_pid.values()), reverse=True
        ),
        "rss_timeline": sampler.timeline,
        "cpu": cpu.result(),
        "other_cpu_s": {str(pid): round(proc_cpu_s(pid) - c, 2) for pid, c in others0.items()},
    }
