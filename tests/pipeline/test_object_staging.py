"""A run staged in object storage: mapped tasks need no database, and the same rows load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from policy_news.pipeline.articles import fetch_article_batch
from policy_news.pipeline.feeds import fetch_feed_batch
from policy_news.pipeline.plan import plan_run
from policy_news.pipeline.run_folder import read_manifest, run_dir_for
from policy_news.pipeline.runner import run_pipeline
from policy_news.pipeline.selection import select_new_items
from policy_news.pipeline.tag import tag_batch
from policy_news.settings import Settings


def _no_duckdb(*_: Any, **__: Any) -> Any:
    raise AssertionError("a mapped task opened DuckDB")


def test_mapped_tasks_never_open_duckdb(
    make_settings: Callable[..., Settings],
    sample_feeds: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings()
    # A worker without the database: its path cannot even be created.
    (tmp_path / "not-a-folder").write_text("")
    worker = settings.model_copy(update={"db_path": tmp_path / "not-a-folder" / "x.duckdb"})
    plan = plan_run("r-workers", settings, sample_feeds, limit=4)
    run_dir = run_dir_for("r-workers", settings)
    with monkeypatch.context() as patch:
        patch.setattr(duckdb, "connect", _no_duckdb)
        feed_results = [fetch_feed_batch(run_dir, b, worker) for b in plan["feed_batches"]]
    assert sum(r["items"] for r in feed_results) > 0
    selection = select_new_items(run_dir, feed_results, settings)  # a DuckDB-queue task
    with monkeypatch.context() as patch:
        patch.setattr(duckdb, "connect", _no_duckdb)
        fetched = [fetch_article_batch(run_dir, b, worker) for b in selection["item_batches"]]
        tagged = [tag_batch(run_dir, f, worker) for f in fetched]
    assert sum(t["tagged"] for t in tagged) == 4


def _loaded(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "articles": "SELECT article_id, title, relevant, taxonomy_version FROM articles",
        "topics": "SELECT article_id, subtopic FROM article_topics",
        "facts": "SELECT article_id, kind, value FROM article_facts",
        "fetches": "SELECT feed_name, outcome, items_seen, items_new FROM feed_fetches",
        "failures": "SELECT article_id, error_kind FROM fetch_failures",
        "archived": "SELECT articles FROM html_archive",
        "runs": "SELECT outcome, items_new, articles_loaded FROM pipeline_runs",
    }
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: sorted(con.execute(sql).fetchall()) for name, sql in queries.items()}


@pytest.mark.slow
def test_s3_staging_loads_the_same_rows_as_file_staging(
    make_settings: Callable[..., Settings],
    sample_feeds: Path,
    s3_staging_url: str,
    s3_endpoint: Any,
    tmp_path: Path,
) -> None:
    on_disk = make_settings()
    in_s3 = make_settings(staging_url=s3_staging_url, db_path=tmp_path / "s3" / "news.duckdb")
    local_run = run_pipeline(on_disk, sample_feeds)
    s3_run = run_pipeline(in_s3, sample_feeds)
    assert local_run.outcome == s3_run.outcome == "success"
    loaded = _loaded(in_s3.db_path)
    assert loaded["articles"] and loaded["archived"]
    assert loaded == _loaded(on_disk.db_path)
    assert s3_endpoint.keys(s3_staging_url.split("/", 3)[3] + "/") == []  # the run cleaned up
    # The next run's manifest carries the feed states the fetch tasks need.
    plan_run("r-next", in_s3, sample_feeds, poll_all=True)
    states = read_manifest(run_dir_for("r-next", in_s3))["feed_states"]
    with duckdb.connect(str(in_s3.db_path), read_only=True) as con:
        stored = con.execute("SELECT feed_name, etag, last_modified, body_hash FROM feeds")
        expected = {
            r[0]: {"etag": r[1], "last_modified": r[2], "body_hash": r[3]}
            for r in stored.fetchall()
        }
    assert any(s["body_hash"] for s in states.values())
    assert states == expected
