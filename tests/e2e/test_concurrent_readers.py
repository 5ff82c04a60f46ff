"""Analysts reading DuckDB from other processes while the pipeline loads.

DuckDB lets one process write a file, and while any other process has it open (even
read-only) the writer cannot open it. So analysts read the snapshot; a reader on the
main file only delays the load (the loader retries with backoff), and one that never
lets go makes the load fail with a clear "stayed locked" error, leaving the database
as it was.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from policy_news.pipeline import runner as pipeline
from policy_news.pipeline.runner import run_pipeline
from policy_news.settings import Settings, get_settings
from policy_news.store import connection

ANALYST = textwrap.dedent(
    """
    import sys, time, duckdb
    path, hold = sys.argv[1], float(sys.argv[2])
    conn = duckdb.connect(path, read_only=True)
    count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    print("held", count, flush=True)
    if hold < 0:  # interactive: answer "query" lines until stdin closes
        for line in sys.stdin:
            count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            print("count", count, flush=True)
    else:
        time.sleep(hold)
    conn.close()
    print("released", flush=True)
    """
)


class Analyst:
    """Another process with a read-only DuckDB connection open on `path`."""

    def __init__(self, path: Path, hold_s: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ANALYST, str(path), str(hold_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.read()
        if not line.startswith("held"):
            self.stop()
            pytest.fail(f"analyst could not open {path}: {line!r} {self.proc.stderr.read()}")  # type: ignore[union-attr]
        self.count_at_open = int(line.split()[1])

    def read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def query(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("query\n")
        self.proc.stdin.flush()
        line = self.read()
        assert line.startswith("count"), line
        return int(line.split()[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def _counts(db: Path) -> dict[str, int]:
    tables = ("articles", "article_topics", "feed_fetches", "fetch_failures", "pipeline_runs")
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.fixture
def first_load(settings: Settings, sample_feeds: Path) -> dict[str, int]:
    """A database (and snapshot) holding one feed's articles; the other feeds are still new."""
    data = yaml.safe_load(sample_feeds.read_text())
    data["feeds"] = [f for f in data["feeds"] if f["name"] == "gulf-coast-ledger"]
    subset = sample_feeds.with_name("subset.yaml")
    subset.write_text(yaml.safe_dump(data))
    summary = run_pipeline(settings, subset)
    assert summary.outcome == "success", summary.message
    counts = _counts(settings.db_path)
    assert 0 < counts["articles"] < 13
    return counts


def _hold_main_file_at_load(monkeypatch: pytest.MonkeyPatch, db: Path, hold_s: float) -> dict:
    """Make an analyst open the main file just before the loader does; returns timings."""
    seen: dict[str, Any] = {}
    original = pipeline.load_run

    def load_run(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen["analyst"] = Analyst(db, hold_s)
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            seen["load_s"] = time.monotonic() - started

    monkeypatch.setattr(pipeline, "load_run", load_run)
    return seen


def test_reader_on_snapshot_never_blocks_a_load(
    settings: Settings, sample_feeds: Path, first_load: dict[str, int]
) -> None:
    snapshot = settings.db_path.with_name(settings.db_path.stem + ".snapshot.duckdb")
    analyst = Analyst(snapshot, -1)  # holds the snapshot open for the whole load
    try:
        assert analyst.count_at_open == first_load["articles"]
        summary = run_pipeline(settings, sample_feeds)
        assert summary.outcome == "success", summary.message
        assert summary.load["snapshot"] == str(snapshot)
        # the open connection still reads the snapshot it opened, undisturbed
        assert analyst.query() == first_load["articles"]
    finally:
        analyst.stop()
    # a new connection sees the new snapshot, identical to the main file
    assert _counts(snapshot) == _counts(settings.db_path)
    assert _counts(snapshot)["articles"] == 13


def test_reader_on_main_file_delays_the_load_until_released(
    settings: Settings,
    sample_feeds: Path,
    first_load: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = _hold_main_file_at_load(monkeypatch, settings.db_path, hold_s=2.0)
    try:
        with caplog.at_level(logging.WARNING, logger="policy_news.store.connection"):
            summary = run_pipeline(settings, sample_feeds)
        assert seen["analyst"].read() == "released"
    finally:
        if "analyst" in seen:
            seen["analyst"].stop()
    assert summary.outcome == "success", summary.message
    assert 1.5 < seen["load_s"] < get_settings().lock_timeout_s
    assert any("is locked, retrying" in r.getMessage() for r in caplog.records)
    counts = _counts(settings.db_path)
    assert counts["articles"] == 13
    assert counts["pipeline_runs"] == first_load["pipeline_runs"] + 1


def test_reader_holding_main_file_past_lock_timeout_fails_load_cleanly(
    settings: Settings,
    sample_feeds: Path,
    first_load: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLICY_NEWS_LOCK_TIMEOUT_S", "1.5")
    seen = _hold_main_file_at_load(monkeypatch, settings.db_path, hold_s=60.0)
    try:
        with pytest.raises(connection.DatabaseBusyError, match="stayed locked") as raised:
            run_pipeline(settings, sample_feeds, run_id="cli__busy")
        # it retried (0.1 + 0.2 + 0.4 s of backoff) and gave up near the deadline, not
        # after the 60 s the analyst holds the file
        assert 0.5 < seen["load_s"] < 1.5 + 5
    finally:
        if "analyst" in seen:
            seen["analyst"].stop()  # the analyst finally lets go
    assert str(settings.db_path) in str(raised.value)
    # nothing of the failed load is in the database
    assert _counts(settings.db_path) == first_load
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        runs = conn.execute("SELECT count(*) FROM pipeline_runs WHERE run_id = 'cli__busy'")
        assert runs.fetchone()[0] == 0
    # and the next run (the Airflow retry) completes the work
    monkeypatch.undo()
    summary = run_pipeline(settings, sample_feeds)
    assert summary.outcome == "success", summary.message
    assert _counts(settings.db_path)["articles"] == 13
