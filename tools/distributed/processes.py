"""Child processes the harness owns: each in its own process group, all stopped on exit."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


class HarnessError(RuntimeError):
    """A step of the set-up failed; the message says which and where its log is."""


def free_port() -> int:
    """An unused loopback port (released at once: another process could take it, rarely)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout_s: float, what: str, every_s: float = 1.0) -> Any:
    """Poll `check` until it returns something truthy; HarnessError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # a server not up yet refuses connections
            last_error = exc
        else:
            if result:
                return result
        time.sleep(every_s)
    detail = f" (last error: {last_error})" if last_error else ""
    raise HarnessError(f"timed out after {timeout_s:.0f}s waiting for {what}{detail}")


def mount_namespace(pid: int) -> str | None:
    with contextlib.suppress(OSError):
        return os.readlink(f"/proc/{pid}/ns/mnt")
    return None


def kill_mount_namespace(namespace: str) -> None:
    """SIGKILL every process in a mount namespace: a worker's task processes die with it."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and mount_namespace(int(entry.name)) == namespace:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


@dataclass
class Managed:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: int = signal.SIGTERM
    namespace: str | None = None


@dataclass
class ProcessSet:
    """Starts commands in new sessions with logs in `log_dir`; `stop_all` ends every one."""

    log_dir: Path
    running: dict[str, Managed] = field(default_factory=dict)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> Managed:
        if name in self.running:
            raise HarnessError(f"{name} is already running")
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            log.write(f"\n$ {' '.join(argv)}\n".encode())
            popen = subprocess.Popen(
                list(argv),
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        managed = Managed(name, popen, log_path, stop_signal)
        self.running[name] = managed
        return managed

    def alive(self, name: str) -> bool:
        managed = self.running.get(name)
        return managed is not None and managed.popen.poll() is None

    def kill(self, name: str, grace_s: float = 0.0) -> None:
        """SIGKILL at once (grace 0) or after `grace_s` seconds of the process's stop signal."""
        managed = self.running.pop(name, None)
        if managed is not None:
            _stop([managed], grace_s)

    def stop_all(self, grace_s: float = 15.0) -> None:
        """Every process at once: stop signal, a shared grace period, then SIGKILL."""
        managed, self.running = list(self.running.values()), {}
        _stop(managed, grace_s)

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _signal_group(managed: Managed, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(managed.popen.pid, sig)


def _stop(processes: list[Managed], grace_s: float) -> None:
    """Signal each group (and private mount namespace), wait up to `grace_s`, then SIGKILL."""
    if grace_s > 0:
        for managed in processes:
            _signal_group(managed, managed.stop_signal)
        deadline = time.monotonic() + grace_s
        for managed in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                managed.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
    for managed in processes:
        _signal_group(managed, signal.SIGKILL)
        if managed.namespace:
            kill_mount_namespace(managed.namespace)
        with contextlib.suppress(subprocess.TimeoutExpired):
            managed.popen.wait(timeout=10)
