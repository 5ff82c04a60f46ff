"""Where extraction runs: one shared process pool per process, or one thread for small work.

Extraction is the CPU-bound stage. A pool costs about a second of CPU per worker
to start (forkserver plus importing trafilatura), so it is shared by every caller
in the process and kept while any `extraction_pool()` block is open.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from policy_news.settings import Settings

# Pages fetched but not yet extracted, per extraction worker. The network outpaces
# extraction; without a bound the backlog (~300 KB a page) grows with the run.
BACKLOG_PER_WORKER = 4


def _without_main_reimport() -> None:
    """Keep the main script out of new processes.

    multiprocessing re-imports the main script in every new process when it was run as a
    file (a console script such as `airflow` or `policy-news`). Inside an Airflow task
    that import fails (the task supervisor blanks the metadata database URL), so every
    worker died and every page failed. Our processes only run package functions, never
    the script's, so the main module is marked as not to be re-imported (a `__spec__`
    named `__main__`, which multiprocessing skips).
    """
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)


def forkserver_context() -> multiprocessing.context.BaseContext:
    """The forkserver context of the extraction workers: they fork from a server that has
    imported trafilatura and loaded the language model once (`preload`), instead of each
    worker paying ~1.3 CPU-s for them on every run."""
    _without_main_reimport()
    context = multiprocessing.get_context("forkserver")
    # Only read when this process starts its forkserver, i.e. at the first pool.
    context.set_forkserver_preload(["policy_news.extract.preload"])
    return context


def spawn_context() -> multiprocessing.context.BaseContext:
    """A fresh interpreter per process, for the validation processes: they need none of
    the forkserver's preloaded modules, and a poll with nothing new must not pay for them."""
    _without_main_reimport()
    return multiprocessing.get_context("spawn")


class _SharedThread:
    """One extraction thread per process, however many batches fetch at once.

    trafilatura parses with one module-level lxml parser, and lxml parsers are not
    thread-safe: two threads extracting at once (concurrent item groups with
    `extract_workers` <= 1) crashed the process (`free(): invalid pointer`, SIGSEGV).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ThreadPoolExecutor | None = None
        self.pid = 0

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None or self.pid != os.getpid():
                self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
                self.pid = os.getpid()
            return self.executor


_THREAD = _SharedThread()


def pool_workers(settings: Settings) -> int:
    """Extraction processes this process may start: `extract_workers`, or 0 inside a
    daemonic process (a Celery prefork worker's task), which may have no children;
    there extraction runs in the task's thread and Airflow's mapped tasks spread it."""
    if multiprocessing.current_process().daemon or settings.extract_workers <= 1:
        return 0
    return settings.extract_workers


@contextlib.contextmanager
def thread_executor() -> Iterator[ThreadPoolExecutor]:
    """The process's extraction thread, for small batches and `extract_workers` <= 1.

    Not inline: extraction runs in the event loop's callback otherwise, and a page that
    takes seconds to extract would stall every request in flight past its deadline.
    """
    yield _THREAD.get()


def _warm_worker() -> None:
    """Pool initializer: import trafilatura and load the language model before pages arrive."""
    import py3langid
    import trafilatura  # noqa: F401

    py3langid.classify("warming up the language model")


class _SharedPool:
    """One extraction pool per process, kept while any `extraction_pool()` block is open.

    Starting a forkserver pool and importing trafilatura in its workers costs about a
    second of CPU per worker; a run that fetches many chunks, or several groups at once,
    pays it once instead of per chunk, and never runs more than `extract_workers`
    extraction processes however many callers share the pool.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.workers = 0
        self.users = 0
        self.pid = 0
        self.backlog = threading.BoundedSemaphore(1)

    def acquire(self, workers: int) -> ProcessPoolExecutor:
        with self.lock:
            if self.pid != os.getpid():  # inherited through fork: not ours to use or stop
                self.pool, self.users = None, 0
            elif self.pool is not None and getattr(self.pool, "_broken", False):
                # A worker died: its jobs already failed; start a fresh pool for new ones.
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
            if self.pool is None:
                # forkserver: forking a process that runs an event loop and threads is unsafe.
                self.pool = ProcessPoolExecutor(
                    max_workers=workers,
                    mp_context=forkserver_context(),
                    initializer=_warm_worker,
                )
                self.workers, self.pid = workers, os.getpid()
                self.backlog = threading.BoundedSemaphore(workers * BACKLOG_PER_WORKER)
            self.users += 1
            return self.pool

    def release(self) -> None:
        with self.lock:
            self.users = max(0, self.users - 1)
            if self.users == 0 and self.pool is not None and self.pid == os.getpid():
                pool, self.pool = self.pool, None
                pool.shutdown(wait=True, cancel_futures=True)
                stop_forkserver()


def stop_forkserver() -> None:
    """Stop this process's forkserver once its pool is gone.

    The server holds trafilatura and the language model (~120 MiB RSS); left running it
    sits beside the load, the run's memory peak at 10,000 articles. The next pool starts
    a new one. `_stop` is the standard library's own (its tests use it): there is no
    public way to stop a forkserver before the process exits.
    """
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None and getattr(server, "_forkserver_pid", None) is not None:
        stop()


SHARED = _SharedPool()


def _started() -> None:
    """No-op job: submitting one makes the pool start a worker (which runs `_warm_worker`)."""


@contextlib.contextmanager
def extraction_pool(settings: Settings, *, start: bool = False) -> Iterator[Executor | None]:
    """Keep one process pool alive for every `fetch_articles` call inside the block.

    Nested and concurrent blocks (threads) share the same pool; it shuts down when the
    last block exits. Yields None when extraction runs in a thread (`pool_workers` is 0).
    `start` launches the workers now instead of at the first page, so their imports run
    while the caller waits on the network (feeds) rather than competing with extraction.
    """
    workers = pool_workers(settings)
    if not workers:
        yield None
        return
    pool = SHARED.acquire(workers)
    if start:
        for _ in range(workers):  # each submit starts at most one worker
            pool.submit(_started)
    try:
        yield pool
    finally:
        SHARED.release()


def shared_pool_open() -> bool:
    """Whether an `extraction_pool()` block of this process is open (its pool is reused)."""
    with SHARED.lock:
        return SHARED.pool is not None and SHARED.pid == os.getpid() and SHARED.users > 0
