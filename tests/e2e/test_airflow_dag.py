"""The ingest DAG run for real through Airflow (`airflow dags test`, SQLite metadata)
against the sample site on 127.0.0.1; a second run must add no rows."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO_ROOT
from tests.support.airflow_cli import airflow, migrated_airflow_env

TABLES = (
    "articles",
    "article_topics",
    "article_facts",
    "article_feeds",
    "feed_fetches",
    "pipeline_runs",
    "dq_results",
    "fetch_failures",
    "quarantine",
)


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory, sample_site: str) -> dict[str, str]:
    home = tmp_path_factory.mktemp("airflow")
    feeds = home / "feeds.yaml"
    feeds.write_text(
        (REPO_ROOT / "include" / "sample_site" / "feeds.yaml")
        .read_text()
        .replace("http://127.0.0.1:8765", sample_site)
    )
    env = migrated_airflow_env(
        home, feeds, {"allowed_private_nets": "127.0.0.1/32", "host_delay_s": "0"}
    )
    return env


def test_dag_run_through_airflow_loads_duckdb_and_rerun_adds_no_rows(
    airflow_env: dict[str, str],
) -> None:
    db = Path(airflow_env["POLICY_NEWS_DATA_DIR"]) / "policy_news.duckdb"
    first = airflow(["dags", "test", "policy_news_ingest"], airflow_env)
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    assert "state=success" in first.stdout + first.stderr
    counts = _counts(db)
    assert counts["articles"] >= 10
    assert counts["article_topics"] > 0 and counts["dq_results"] > 0
    with duckdb.connect(str(db), read_only=True) as conn:
        outcome, trigger, loaded = conn.execute(
            "SELECT outcome, trigger, articles_loaded FROM pipeline_runs"
        ).fetchone()
        texts = conn.execute("SELECT count(*) FROM articles WHERE length(text) > 500").fetchone()
        gone = conn.execute(
            "SELECT http_status FROM feed_fetches WHERE feed_url LIKE '%moved-away%'"
        ).fetchone()
    assert (outcome, trigger, loaded) == ("success", "airflow", counts["articles"])
    assert texts[0] == counts["articles"]
    assert gone == (404,)
    assert (db.parent / "policy_news.snapshot.duckdb").exists()

    # poll_all: fetch every feed again (they are not due yet) to prove the rerun adds nothing
    second = airflow(
        ["dags", "test", "policy_news_ingest", "--conf", '{"poll_all": true}'], airflow_env
    )
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-3000:]
    again = _counts(db)
    for table in ("articles", "article_topics", "article_facts", "article_feeds"):
        assert again[table] == counts[table], f"second run changed {table}"
    assert again["pipeline_runs"] == 2


def test_retag_dag_with_the_current_version_stores_probability_and_review_flag(
    airflow_env: dict[str, str],
) -> None:
    """Runs after the ingest test (same database): re-tag under the version already current."""
    import yaml

    bundled = REPO_ROOT / "include" / "taxonomy" / "immigration_enforcement.yaml"
    taxonomy = yaml.safe_load(bundled.read_text())
    version = str(taxonomy["version"])
    low, high = taxonomy["calibration"]["review_band"]
    db = Path(airflow_env["POLICY_NEWS_DATA_DIR"]) / "policy_news.duckdb"
    articles = _counts(db)["articles"]

    conf = json.dumps({"taxonomy_version": version})
    run = airflow(["dags", "test", "policy_news_retag", "--conf", conf], airflow_env)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    with duckdb.connect(str(db), read_only=True) as conn:
        versions = conn.execute(
            "SELECT taxonomy_version, is_current FROM taxonomy_versions"
        ).fetchall()
        rows = conn.execute(
            "SELECT r.relevant, r.relevance_probability, r.needs_review, "
            "a.relevance_probability, a.needs_review, a.taxonomy_version "
            "FROM article_relevance r JOIN articles a USING (article_id) "
            "WHERE r.taxonomy_version = ?",
            [version],
        ).fetchall()
    assert versions == [(version, True)]
    assert len(rows) == articles
    for _, probability, flagged, article_probability, article_flagged, current in rows:
        assert probability is not None and 0.0 <= probability <= 1.0
        assert flagged == (low <= probability <= high)
        assert (article_probability, article_flagged, current) == (probability, flagged, version)
    # the calibration orders relevant articles above the others
    assert min(p for rel, p, *_ in rows if rel) > max(p for rel, p, *_ in rows if not rel)


def test_retag_dag_adds_a_new_taxonomy_version_and_keeps_the_old(
    airflow_env: dict[str, str], tmp_path: Path
) -> None:
    """Runs after the ingest test (same database): re-tag under a new version, no refetch."""
    import yaml

    bundled = REPO_ROOT / "include" / "taxonomy" / "immigration_enforcement.yaml"
    folder = tmp_path / "taxonomy"
    folder.mkdir()
    (folder / "immigration_enforcement.yaml").write_text(bundled.read_text())
    data = yaml.safe_load(bundled.read_text())
    old_version = str(data["version"])
    data["version"] = "e2e-next"
    (folder / "next.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    env = {**airflow_env, "POLICY_NEWS_TAXONOMY": str(folder / "immigration_enforcement.yaml")}
    db = Path(env["POLICY_NEWS_DATA_DIR"]) / "policy_news.duckdb"
    before = _counts(db)

    run = airflow(
        ["dags", "test", "policy_news_retag", "--conf", '{"taxonomy_version": "e2e-next"}'], env
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    with duckdb.connect(str(db), read_only=True) as conn:
        versions = dict(
            conn.execute(
                "SELECT taxonomy_version, count(*) FROM article_topics GROUP BY 1"
            ).fetchall()
        )
        current = conn.execute(
            "SELECT taxonomy_version FROM taxonomy_versions WHERE is_current"
        ).fetchall()
        view = conn.execute(
            "SELECT DISTINCT taxonomy_version FROM current_article_topics"
        ).fetchall()
        articles = conn.execute("SELECT DISTINCT taxonomy_version FROM articles").fetchall()
    assert versions[old_version] == before["article_topics"]  # the old version is kept
    assert versions["e2e-next"] == before["article_topics"]  # same rules, same tags
    assert current == [("e2e-next",)] and view == [("e2e-next",)]
    assert articles == [("e2e-next",)]
    assert _counts(db)["articles"] == before["articles"]


def test_blocking_check_fails_the_validate_task_and_loads_nothing(
    airflow_env: dict[str, str], tmp_path: Path, sample_site: str
) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        f"  - {{name: capitol-wire, url: '{sample_site}/feeds/national.atom'}}\n"
        + "".join(f"  - {{name: gone-{i}, url: '{sample_site}/gone-{i}.rss'}}\n" for i in range(3))
    )
    env = {
        **airflow_env,
        "POLICY_NEWS_DATA_DIR": str(tmp_path / "data"),
        "POLICY_NEWS_FEEDS": str(feeds),
    }
    run = airflow(["dags", "test", "policy_news_ingest"], env)
    out = run.stdout + run.stderr
    assert "blocking data-quality check failed: run.failed_feed_share: 0.75 of feeds failed" in out
    assert "state=failed" in out
    db = tmp_path / "data" / "policy_news.duckdb"
    with duckdb.connect(str(db), read_only=True) as conn:
        loaded = conn.execute("SELECT count(*) FROM articles").fetchone()
        fetches = conn.execute("SELECT count(*) FROM feed_fetches").fetchone()
        runs = conn.execute("SELECT outcome FROM pipeline_runs").fetchall()
    # Nothing loads, but the run's feed fetches are kept: failures during blocked runs
    # still count toward auto-disabling a dead feed.
    assert loaded == (0,) and fetches == (4,)
    assert runs == [("blocked",)]
