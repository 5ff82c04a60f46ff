"""The whole pipeline in one process (`policy-news run`'s code path) against the sample site."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from policy_news.cli import main
from policy_news.pipeline.runner import run_pipeline
from policy_news.settings import Settings
from policy_news.store import html_archive
from tests.conftest import isolated_settings, write_sample_feeds

TABLES = (
    "articles",
    "article_topics",
    "article_facts",
    "article_feeds",
    "html_archive",
    "article_relevance",
    "feed_fetches",
    "fetch_failures",
    "pipeline_runs",
)


def _counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, sample_site: str) -> tuple[Settings, Path]:
    """Settings and feed registry of the module's one loaded database."""
    root = tmp_path_factory.mktemp("pipeline")
    return isolated_settings(root / "data"), write_sample_feeds(sample_site, root)


@pytest.fixture(scope="module")
def loaded(first_run: tuple[Settings, Path]):
    """The sample site loaded once for the module (a run costs seconds); tests only read it,
    except the rerun test, which must leave every count but the run log unchanged."""
    settings, feeds = first_run
    summary = run_pipeline(settings, feeds)
    assert summary.outcome == "success", summary.message
    return settings.db_path, summary


def test_sample_site_loads_every_article_once(loaded) -> None:
    db, summary = loaded
    counts = _counts(db)
    # 14 feed items, one page linked from two feeds (once with utm_* parameters)
    assert counts["articles"] == 13 == summary.load["articles"]
    assert counts["article_feeds"] == 14
    assert counts["html_archive"] == 1  # one raw-HTML file for the run
    with duckdb.connect(str(db), read_only=True) as conn:
        shared = conn.execute(
            "SELECT count(*) FROM article_feeds WHERE article_id IN "
            "(SELECT article_id FROM article_feeds GROUP BY 1 HAVING count(*) = 2)"
        ).fetchone()
        assert shared == (2,)
        urls = [r[0] for r in conn.execute("SELECT url FROM articles").fetchall()]
        assert not [u for u in urls if "utm_" in u or "#" in u]


def test_dates_keep_their_source_and_are_never_the_fetch_time(loaded) -> None:
    db, _ = loaded
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = dict(
            conn.execute(
                "SELECT regexp_extract(url, '[^/]+$'), date_source FROM articles"
            ).fetchall()
        )
        same_as_fetch = conn.execute(
            "SELECT count(*) FROM articles WHERE published_at = fetched_at"
        ).fetchone()
    assert rows["harrison-county-sheriff-287g-agreement.html"] == "unknown"
    assert rows["federal-local-partnerships-287g.html"] == "feed"
    assert set(rows.values()) <= {"feed", "html", "unknown"}
    assert same_as_fetch == (0,)


def test_missing_feed_is_recorded_with_its_reason(loaded) -> None:
    db, summary = loaded
    with duckdb.connect(str(db), read_only=True) as conn:
        row = conn.execute(
            "SELECT outcome, http_status, error_kind, error FROM feed_fetches "
            "WHERE feed_name = 'moved-away'"
        ).fetchone()
        health = conn.execute(
            "SELECT health FROM feed_health WHERE feed_name = 'moved-away'"
        ).fetchone()
    assert row[:3] == ("error", 404, "http_status") and "404" in row[3]
    assert health == ("failing",)
    assert summary.stats["feeds_failed"] == 1 and summary.stats["feeds_ok"] == 3


def test_relevant_articles_have_topics_with_evidence(loaded) -> None:
    db, _ = loaded
    with duckdb.connect(str(db), read_only=True) as conn:
        relevant = conn.execute("SELECT count(*) FROM articles WHERE relevant").fetchone()[0]
        bad_evidence = conn.execute(
            "SELECT count(*) FROM article_topics t JOIN articles a USING (article_id) "
            "WHERE t.field = 'text' AND (strpos(a.text, t.evidence) = 0 OR strpos(t.evidence, "
            "substr(a.text, t.start_offset + 1, t.end_offset - t.start_offset)) = 0)"
        ).fetchone()[0]
        per_day = conn.execute("SELECT count(*) FROM relevant_daily_by_subtopic").fetchone()[0]
    assert relevant >= 6
    assert bad_evidence == 0
    assert per_day > 0


def test_every_article_keeps_its_page_in_the_archive(loaded, tmp_path: Path) -> None:
    db, summary = loaded
    archive = html_archive.archive_dir(db)
    with duckdb.connect(str(db), read_only=True) as conn:
        registered = conn.execute("SELECT run_id, file_name, articles FROM html_archive").fetchall()
        pages = conn.execute(
            "SELECT a.article_id, a.url, h.url FROM articles a "
            "LEFT JOIN read_parquet(?) h USING (article_id)",
            [str(archive / "*.parquet")],
        ).fetchall()
        article_id = pages[0][0]
        page = html_archive.read_html(conn, db, article_id)
    assert registered == [(summary.run_id, html_archive.file_name_for(summary.run_id), 13)]
    assert [p.name for p in archive.iterdir()] == [registered[0][1]]
    assert len(pages) == 13 and all(p[2] for p in pages)  # every article has its page
    assert page is not None and b"<html" in page.lower()
    out = tmp_path / "page.html"
    assert main(["html", article_id, "--db", str(db), "-o", str(out)]) == 0
    assert out.read_bytes() == page
    assert main(["html", "no-such-article", "--db", str(db)]) == 1


def test_rerun_adds_no_rows(loaded, first_run: tuple[Settings, Path]) -> None:
    db, _ = loaded
    settings, feeds = first_run
    before = _counts(db)
    summary = run_pipeline(settings, feeds, poll_all=True)
    after = _counts(db)
    assert summary.stats["items_new"] == 0
    assert {k: v for k, v in after.items() if k not in ("feed_fetches", "pipeline_runs")} == {
        k: v for k, v in before.items() if k not in ("feed_fetches", "pipeline_runs")
    }
    assert after["pipeline_runs"] == before["pipeline_runs"] + 1
    with duckdb.connect(str(db), read_only=True) as conn:
        outcomes = {
            r[0]
            for r in conn.execute(
                "SELECT outcome FROM feed_fetches WHERE run_id = ? AND feed_name <> 'moved-away'",
                [summary.run_id],
            ).fetchall()
        }
    assert outcomes <= {"unchanged", "not_modified"}


def test_cli_run_and_status_exit_zero_even_with_failed_feeds(
    settings, sample_feeds: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("POLICY_NEWS_ALLOWED_PRIVATE_NETS", "127.0.0.1/32")
    monkeypatch.setenv("POLICY_NEWS_HOST_DELAY_S", "0")
    monkeypatch.setenv("POLICY_NEWS_STAGING_DIR", str(settings.staging_dir))
    db = str(settings.db_path)
    assert main(["run", "--feeds", str(sample_feeds), "--db", db, "--limit", "3"]) == 0
    out = capsys.readouterr().out
    assert "articles loaded 3" in out and "failed 1" in out
    assert main(["status", "--db", db]) == 0
    assert "pipeline_runs" in capsys.readouterr().out
    assert main(["feeds", "--db", db]) == 0
    assert "moved-away" in capsys.readouterr().out


def test_bad_feed_registry_is_a_clear_error(settings, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds:\n  - name: x\n    url: gopher://old\n")
    assert main(["run", "--feeds", str(bad), "--db", str(settings.db_path)]) == 2
    assert "feed #1 ('x'), field 'url'" in capsys.readouterr().err


def test_query_reads_the_snapshot_and_docs_rebuild_from_stored_results(
    loaded, first_run: tuple[Settings, Path], capsys
) -> None:
    db, _ = loaded
    settings, _feeds = first_run
    assert main(["query", "--db", str(db), "SELECT count(*) AS n FROM articles"]) == 0
    assert capsys.readouterr().out.split() == ["n", "13"]
    assert main(["query", "--db", str(db), "SELECT nope FROM articles"]) == 2
    assert main(["docs", "--db", str(db)]) == 0
    assert (settings.docs_dir / "index.html").exists()


def test_digest_summarises_the_week_from_the_snapshot(loaded, tmp_path: Path) -> None:
    from datetime import date

    from policy_news.reporting.digest import write_digest

    _db, summary = loaded
    # A week of the sample feeds' own dates (Nov 10-16, 2026), so the answer never depends
    # on the day the test runs: undated articles fall on their fetch day, always later.
    path = write_digest(Path(summary.load["snapshot"]), tmp_path / "reports", date(2026, 11, 16))
    text = path.read_text()
    assert path.name == "digest-2026-11-16.md"
    assert "| local_cooperation_287g |" in text
    counts_section = text.split("## Largest reported counts")[1]
    assert re.search(r"^\| \d+ \| \w+ \|", counts_section, re.M)
