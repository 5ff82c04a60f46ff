"""A run killed with SIGKILL inside the load transaction leaves DuckDB as it was.

The child process runs the real pipeline on the sample site with one change: right
after `loader.load_run` has written articles, feeds, fetches and tags (inside its
transaction), it reports how many articles it can see and then stalls. The test kills
it at that moment, checks the database opens and holds nothing of that run, and then
a normal run completes the work, loading every article exactly once.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import duckdb
import pytest
import yaml

from policy_news.pipeline.runner import run_pipeline
from policy_news.settings import Settings
from policy_news.store import connection, html_archive

REPO = Path(__file__).resolve().parents[2]
KILLED_RUN = "cli__killed_during_load"
TABLES = (
    "feeds",
    "feed_fetches",
    "articles",
    "html_archive",
    "article_feeds",
    "article_relevance",
    "article_topics",
    "article_facts",
    "taxonomy_versions",
    "fetch_failures",
    "pipeline_runs",
    "quarantine",
    "dq_results",
)
# (table, column holding a run id) for every table a run writes
RUN_COLUMNS = (
    ("pipeline_runs", "run_id"),
    ("feed_fetches", "run_id"),
    ("articles", "first_run_id"),
    ("articles", "last_run_id"),
    ("article_feeds", "first_seen_run_id"),
    ("fetch_failures", "last_run_id"),
    ("quarantine", "run_id"),
    ("dq_results", "run_id"),
    ("html_archive", "run_id"),
)

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    from policy_news.store import connection, loader
    from policy_news.pipeline.runner import run_pipeline
    from policy_news.settings import get_settings

    db, staging, docs, feeds, run_id = sys.argv[1:6]
    settings = get_settings(
        db_path=Path(db), staging_dir=Path(staging), docs_dir=Path(docs),
        allowed_private_nets=("127.0.0.1/32",), host_delay_s=0.0, extract_workers=1,
    )
    original = loader.upsert_tags

    def stall_inside_the_transaction(conn, *args, **kwargs):
        original(conn, *args, **kwargs)
        seen = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        print(f"IN_TRANSACTION {seen}", flush=True)
        time.sleep(300)  # the test kills us here; never reached COMMIT

    loader.upsert_tags = stall_inside_the_transaction
    run_pipeline(settings, Path(feeds), run_id=run_id)
    print("FINISHED", flush=True)
    """
)


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _subset_feeds(sample_feeds: Path, names: set[str]) -> Path:
    data = yaml.safe_load(sample_feeds.read_text())
    data["feeds"] = [f for f in data["feeds"] if f["name"] in names]
    path = sample_feeds.with_name("subset.yaml")
    path.write_text(yaml.safe_dump(data))
    return path


def _wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=timeout_s)
        except queue.Empty:
            pytest.fail(f"child did not print {prefix!r} within {timeout_s}s")
        if line.startswith(prefix):
            return line.strip()
        if line.startswith("FINISHED"):
            pytest.fail("child committed the load instead of stalling inside it")


def test_kill_during_load_leaves_db_consistent_and_next_run_completes(
    settings: Settings, sample_feeds: Path
) -> None:
    db = settings.db_path
    # A first, normal run over one feed: the state the killed run must not disturb.
    first = run_pipeline(settings, _subset_feeds(sample_feeds, {"gulf-coast-ledger"}))
    assert first.outcome == "success", first.message
    before = _counts(db)
    assert 0 < before["articles"] < 13
    snapshot = db.with_name(db.stem + ".snapshot.duckdb")
    snapshot_before = _counts(snapshot)

    # The killed run: every sample feed, SIGKILL while inside load_run's transaction.
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(db),
            str(settings.staging_dir),
            str(settings.docs_dir),
            str(sample_feeds),
            KILLED_RUN,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _wait_for_line(proc, "IN_TRANSACTION", timeout_s=120)
        seen_inside = int(line.split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the transaction had written the new articles when it died
    assert seen_inside == 13 > before["articles"]

    # The database opens (read-only and for writing) and holds nothing of the killed run.
    assert _counts(db) == before
    with connection.open_db(db) as conn:
        for table, column in RUN_COLUMNS:
            leaked = conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = ?", [KILLED_RUN]
            ).fetchone()[0]
            assert leaked == 0, f"{table}.{column} has rows of the killed run"
        for table in ("article_feeds", "article_relevance", "article_topics"):
            orphans = conn.execute(
                f"SELECT count(*) FROM {table} WHERE article_id NOT IN "
                "(SELECT article_id FROM articles)"
            ).fetchone()[0]
            assert orphans == 0, f"{table} has rows for articles that do not exist"
        outcomes = conn.execute("SELECT run_id, outcome FROM pipeline_runs").fetchall()
    assert outcomes == [(first.run_id, "success")]
    # The killed loader had written its raw-HTML file before the transaction: on disk,
    # but registered by no committed run, so not part of the store (swept next load).
    archive = html_archive.archive_dir(db)
    killed_file = archive / html_archive.file_name_for(KILLED_RUN)
    assert killed_file.exists()
    assert _counts(db) == before
    assert _counts(snapshot) == snapshot_before  # analysts never saw the half-done run

    # The next (ordinary, scheduled-style) run completes the work, nothing twice.
    rerun = run_pipeline(settings, sample_feeds)
    assert rerun.outcome == "success", rerun.message
    with duckdb.connect(str(db), read_only=True) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT article_id) FROM articles"
        ).fetchone()
        feeds_per_article = conn.execute("SELECT count(*) FROM article_feeds").fetchone()[0]
        runs = conn.execute("SELECT outcome, count(*) FROM pipeline_runs GROUP BY 1").fetchall()
    assert total == distinct == 13
    assert feeds_per_article == 14  # the government release is carried by two feeds
    assert runs == [("success", 2)]
    # The orphan file is gone; every article's page is archived exactly once.
    assert not killed_file.exists()
    with duckdb.connect(str(db), read_only=True) as conn:
        registered = {r[0] for r in conn.execute("SELECT file_name FROM html_archive").fetchall()}
        archived = conn.execute(
            "SELECT count(*), count(DISTINCT article_id) FROM read_parquet(?)",
            [str(archive / "*.parquet")],
        ).fetchone()
    assert {p.name for p in archive.iterdir()} == registered
    assert archived == (13, 13)
