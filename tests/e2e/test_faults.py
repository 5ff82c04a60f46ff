"""Faults an unattended pipeline meets: a killed worker, a full disk, a damaged staged file.

Each leaves DuckDB as it was (nothing of the failed run, nothing half-written) and the
next ordinary run completes the work. The killed runs use the pattern of
test_kill_during_load.py: a child process runs the real pipeline on the sample site,
stalls inside the stage under test after printing a marker, and is killed there.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from policy_news import staging
from policy_news.pipeline import runner
from policy_news.pipeline.load import load_run
from policy_news.pipeline.plan import plan_run
from policy_news.pipeline.run_folder import new_run_id, run_dir_for
from policy_news.pipeline.selection import select_new_items
from policy_news.pipeline.validate import validate_stage
from policy_news.settings import Settings
from policy_news.staging_store import StagedPath, locate
from tests.e2e.test_kill_during_load import REPO, RUN_COLUMNS, _subset_feeds, _wait_for_line

KILLED_RUN = "cli__killed_in_stage"
SAMPLE_ARTICLES = 13

# Per stage: the module attribute to wrap, looked up at call time by the pipeline.
STALL_AT = {
    "fetch": ("policy_news.sources.feed_fetch", "fetch_feeds"),
    "extract": ("policy_news.extract.articles", "fetch_articles_within"),
    "validate": ("policy_news.quality.data_docs", "build_data_docs"),
    "load": ("policy_news.store.loader", "upsert_tags"),
}

CHILD = textwrap.dedent(
    """
    import importlib, sys, time
    from pathlib import Path

    from policy_news.pipeline.runner import run_pipeline
    from policy_news.settings import get_settings

    db, staging_dir, docs, feeds, run_id, module_name, attr = sys.argv[1:8]
    settings = get_settings(
        db_path=Path(db), staging_dir=Path(staging_dir), docs_dir=Path(docs),
        allowed_private_nets=("127.0.0.1/32",), host_delay_s=0.0, extract_workers=2,
        isolate_validation=False,
    )
    module = importlib.import_module(module_name)
    original = getattr(module, attr)

    def stall(*args, **kwargs):
        result = original(*args, **kwargs)
        print("STALLED", flush=True)
        time.sleep(600)  # the test kills the process group here
        return result

    setattr(module, attr, stall)
    run_pipeline(settings, Path(feeds), run_id=run_id)
    print("FINISHED", flush=True)
    """
)


def _article_counts(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT article_id) FROM articles").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _assert_nothing_of(db: Path, run_id: str) -> None:
    if not db.exists():
        return  # killed before anything opened the database for writing
    with duckdb.connect(str(db)) as conn:  # opens for writing: no stale lock, no damage
        for table, column in RUN_COLUMNS:
            leaked = conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ?", [run_id]
            ).fetchone()
            assert leaked == (0,), f"{table}.{column} has rows of the killed run"
        assert conn.execute("SELECT count(*) FROM articles").fetchone() == (0,)


@pytest.mark.parametrize("stage", sorted(STALL_AT))
def test_worker_killed_in_a_stage_leaves_db_consistent_and_next_run_completes(
    settings: Settings, sample_feeds: Path, stage: str
) -> None:
    module_name, attr = STALL_AT[stage]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(settings.db_path),
            str(settings.staging_dir),
            str(settings.docs_dir),
            str(sample_feeds),
            KILLED_RUN,
            module_name,
            attr,
        ],
        cwd=REPO,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # the extraction pool's workers die with it
    )
    try:
        _wait_for_line(proc, "STALLED", timeout_s=240)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    _assert_nothing_of(settings.db_path, KILLED_RUN)

    rerun = runner.run_pipeline(settings, sample_feeds)
    assert rerun.outcome == "success", rerun.message
    assert _article_counts(settings.db_path) == (SAMPLE_ARTICLES, SAMPLE_ARTICLES)


def _mount_tiny_tmpfs(folder: Path) -> None:
    folder.mkdir(parents=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def test_full_disk_during_staging_fails_clearly_and_loses_nothing(
    settings: Settings, make_settings, sample_feeds: Path, tmp_path: Path
) -> None:
    first = runner.run_pipeline(settings, _subset_feeds(sample_feeds, {"gulf-coast-ledger"}))
    assert first.outcome == "success", first.message
    before = _article_counts(settings.db_path)
    tiny = tmp_path / "tiny"
    _mount_tiny_tmpfs(tiny)
    try:
        # leave a few pages free: enough for the run folder's first files, not its pages
        free = os.statvfs(tiny).f_bavail * os.statvfs(tiny).f_frsize
        (tiny / "filler").write_bytes(b"\0" * max(free - 6 * 4096, 0))
        full = make_settings(staging_dir=tiny / "staging")
        with pytest.raises((OSError, staging.StagedFileError)) as raised:
            runner.run_pipeline(full, sample_feeds)
        message = str(raised.value)
        assert (
            "No space left on device" in message
            or getattr(raised.value, "errno", 0) == errno.ENOSPC
        )
        assert str(tiny) in message  # names the file it could not write
        assert _article_counts(settings.db_path) == before
    finally:
        subprocess.run(["umount", "-l", str(tiny)], check=False)
    rerun = runner.run_pipeline(settings, sample_feeds)
    assert rerun.outcome == "success", rerun.message
    assert _article_counts(settings.db_path) == (SAMPLE_ARTICLES, SAMPLE_ARTICLES)


def _staged_run(settings: Settings, feeds: Path) -> tuple[StagedPath, list, list, list]:
    run_id = new_run_id()
    plan = plan_run(run_id, settings, feeds)
    run_dir = run_dir_for(run_id, settings)
    feed_results = runner._fetch_feeds(run_dir, plan["feed_batches"], settings)
    selection = select_new_items(run_dir, feed_results, settings)
    fetched, tagged = runner._fetch_and_tag(run_dir, selection["item_batches"], settings, None)
    return run_dir, feed_results, fetched, tagged


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_damaged_staged_files_are_caught_before_the_load(
    settings: Settings, sample_feeds: Path
) -> None:
    run_dir, feed_results, fetched, tagged = _staged_run(settings, sample_feeds)
    articles = Path(locate(tagged[0]["articles"]).path)
    intact = articles.read_bytes()
    _truncate(articles)
    with pytest.raises(staging.StagedFileError, match=f"{articles.name} is unreadable"):
        validate_stage(run_dir, feed_results, fetched, tagged, settings)
    articles.write_bytes(intact)

    validated = validate_stage(run_dir, feed_results, fetched, tagged, settings)
    html = Path(locate(validated["validation"]["html_files"][0]).path)
    _truncate(html)
    with pytest.raises(staging.StagedFileError, match=f"{html.name} is unreadable"):
        load_run(run_dir, validated, settings)
    assert not settings.db_path.exists() or _article_counts(settings.db_path) == (0, 0)
