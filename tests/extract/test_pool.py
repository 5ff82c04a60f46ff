"""The shared extraction pool: one per process, shared by nested blocks, closed by the last."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from policy_news.extract.pool import extraction_pool, shared_pool_open
from policy_news.settings import Settings


def test_nested_blocks_share_one_pool_until_the_last_exits(
    make_settings: Callable[..., Settings],
) -> None:
    two_workers = make_settings(extract_workers=2)  # no job is submitted: no process starts
    with extraction_pool(two_workers) as outer:
        with extraction_pool(two_workers) as inner:
            assert outer is not None and inner is outer
        assert shared_pool_open()
    assert not shared_pool_open()


def test_one_worker_means_no_pool(settings: Settings) -> None:
    with extraction_pool(settings) as pool:  # the fixture sets extract_workers=1
        assert pool is None
        assert not shared_pool_open()


def test_extraction_in_threads_never_runs_two_pages_at_once() -> None:
    """trafilatura's lxml parser is shared and not thread-safe: concurrent batches (item
    groups with `extract_workers` <= 1) get the same single extraction thread."""
    import threading

    from policy_news.extract.pool import thread_executor

    seen: list[object] = []

    def batch() -> None:
        with thread_executor() as executor:
            seen.append(executor)
            assert executor._max_workers == 1

    threads = [threading.Thread(target=batch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 3 and all(executor is seen[0] for executor in seen)


def _run_script(script: Path) -> str:
    """Run `script` as a main program (pools need their own process); its stripped stdout."""
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.parametrize("context", ["forkserver_context", "spawn_context"])
def test_workers_never_import_the_main_script_again(tmp_path: Path, context: str) -> None:
    """Inside an Airflow task the main script is `airflow`, whose import fails there; a
    worker that re-imported it died, and every page of the run failed."""
    script = tmp_path / "console_script.py"
    script.write_text(
        "import os\n"
        "if __name__ != '__main__':\n"
        "    raise RuntimeError('the main script was imported again')\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        f"from policy_news.extract.pool import {context}\n"
        f"with ProcessPoolExecutor(max_workers=1, mp_context={context}()) as pool:\n"
        "    print('worker', pool.submit(os.getpid).result() != os.getpid())\n"
    )
    assert _run_script(script) == "worker True"


def test_forkserver_workers_start_with_trafilatura_and_the_language_model(
    tmp_path: Path,
) -> None:
    """The forkserver preloads them once, so a worker does not pay ~1.3 CPU-s for them."""
    script = tmp_path / "pool_script.py"
    script.write_text(
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from policy_news.extract.pool import forkserver_context\n"
        "with ProcessPoolExecutor(max_workers=1, mp_context=forkserver_context()) as pool:\n"
        "    print(pool.submit(eval, \"'trafilatura' in __import__('sys').modules and \"\n"
        "        \"__import__('py3langid').langid.IDENTIFIER is not None\").result())\n"
    )
    assert _run_script(script) == "True"


def test_the_forkserver_stops_with_the_last_pool_block(tmp_path: Path) -> None:
    """Its preloaded modules (~120 MiB) must not sit beside the load; a later block starts
    a new server and its workers still work."""
    script = tmp_path / "stop_script.py"
    script.write_text(
        "import os\n"
        "from multiprocessing import forkserver\n"
        "from policy_news.extract.pool import extraction_pool\n"
        "from policy_news.settings import get_settings\n"
        "settings = get_settings().model_copy(update={'extract_workers': 2})\n"
        "pids = []\n"
        "for _ in range(2):\n"
        "    with extraction_pool(settings) as pool:\n"
        "        assert pool.submit(os.getpid).result() != os.getpid()\n"
        "        pids.append(forkserver._forkserver._forkserver_pid)\n"
        "    assert forkserver._forkserver._forkserver_pid is None\n"
        "    assert not os.path.exists(f'/proc/{pids[-1]}'), 'forkserver still running'\n"
        "print(len(set(pids)))\n"
    )
    assert _run_script(script) == "2"


def _report_pool_workers(settings: Settings, out: object) -> None:
    from policy_news.extract.pool import pool_workers

    out.put(pool_workers(settings))  # type: ignore[attr-defined]


def test_a_daemonic_process_extracts_in_its_thread(settings: Settings) -> None:
    """A Celery prefork worker's task runs in a daemonic process, which may not start
    children: extraction there runs in the task's thread instead of failing the task."""
    import multiprocessing

    from policy_news.extract.pool import pool_workers

    two = settings.model_copy(update={"extract_workers": 2})
    assert pool_workers(two) == 2
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_report_pool_workers, args=(two, out), daemon=True)
    child.start()
    child.join(timeout=60)
    assert out.get(timeout=5) == 0
