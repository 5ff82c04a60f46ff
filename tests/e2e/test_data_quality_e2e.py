"""A run over a bad fixture site: good records load, bad ones land in `quarantine` with
reasons, `dq_results` is filled and Data Docs are built; a blocking run-level failure
loads nothing and says why."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from policy_news.pipeline.runner import run_pipeline
from tools.sample_site import serve

BODY = (
    "<p>Deputies of the county sheriff's office will hold people for U.S. Immigration and "
    "Customs Enforcement under a new 287(g) agreement, the sheriff said on Tuesday.</p>"
    "<p>The agreement follows months of debate among county commissioners and residents, "
    "who packed a public hearing to speak for and against the partnership with ICE.</p>"
    "<p>Officials said {n} people were held on immigration detainers last year.</p>"
)
GERMAN = (
    "<p>Die Bundespolizei hat am Dienstag an der Grenze zu Österreich mehrere Kontrollen "
    "durchgeführt, wie ein Sprecher der Behörde in München mitteilte.</p>"
    "<p>Nach Angaben der Polizei wurden dabei zahlreiche Fahrzeuge überprüft und mehrere "
    "Personen vorübergehend festgehalten, bevor sie ihre Reise fortsetzen konnten.</p>"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright</footer></body></html>"
    )


def _item(slug: str, date: str | None, link_suffix: str = "") -> str:
    pub = f"<pubDate>{date}</pubDate>" if date else ""
    return (
        f"<item><title>Story {slug}</title><link>{{{{BASE}}}}/a/{slug}.html{link_suffix}</link>"
        f"{pub}</item>"
    )


@pytest.fixture
def bad_site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "a").mkdir(parents=True)
    for n in range(1, 4):
        (root / "a" / f"good{n}.html").write_text(_page(f"Good {n}", BODY.format(n=n * 10)))
    (root / "a" / "future.html").write_text(_page("Future", BODY.format(n=7)))
    (root / "a" / "epoch.html").write_text(_page("Epoch", BODY.format(n=8)))
    (root / "a" / "short.html").write_text(_page("Short", "<p>Menu only.</p>"))
    (root / "a" / "german.html").write_text(_page("Grenze", GERMAN))
    (root / "a" / "blank.html").write_text("<html><body></body></html>")
    ok = "Tue, 24 Nov 2026 10:00:00 GMT"
    items = [
        _item("good1", ok),
        _item("good2", ok),
        _item("good2", ok, "?utm_source=rss&amp;utm_medium=feed"),  # same article again
        _item("good3", None),
        _item("future", "Thu, 01 Jan 2099 00:00:00 GMT"),
        _item("epoch", "Thu, 01 Jan 1970 00:00:00 GMT"),
        _item("short", ok),
        _item("german", ok),
        _item("blank", ok),
    ]
    (root / "feed.rss").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Bad</title>'
        + "".join(items)
        + "</channel></rss>"
    )
    return root


def _feeds(tmp_path: Path, base: str, extra_missing: int = 0) -> Path:
    lines = ["feeds:", f"  - {{name: bad-site, url: '{base}/feed.rss'}}"]
    lines += [f"  - {{name: gone-{i}, url: '{base}/gone-{i}.rss'}}" for i in range(extra_missing)]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bad_records_are_quarantined_with_reasons_and_the_rest_loads(
    settings, bad_site: Path, tmp_path: Path
) -> None:
    with serve(bad_site, 0, lifetime_s=120) as base:
        summary = run_pipeline(settings, _feeds(tmp_path, base))
    assert summary.outcome == "success", summary.message
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        loaded = {
            r[0]
            for r in conn.execute(
                "SELECT regexp_extract(url, '([a-z0-9]+)\\.html', 1) FROM articles"
            ).fetchall()
        }
        quarantined = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT stage, check_name FROM quarantine WHERE run_id = ?", [summary.run_id]
            ).fetchall()
        }
        reasons = conn.execute(
            "SELECT check_name, value, raw_record FROM quarantine WHERE check_name = "
            "'published_not_future'"
        ).fetchone()
        failures = conn.execute("SELECT error_kind FROM fetch_failures").fetchall()
        warnings = conn.execute(
            "SELECT check_name, unexpected_count FROM dq_results WHERE severity = 'warn' "
            "AND NOT success"
        ).fetchall()
        results = conn.execute(
            "SELECT count(*), count(DISTINCT suite) FROM dq_results WHERE run_id = ?",
            [summary.run_id],
        ).fetchone()
        texts = dict(
            conn.execute(
                "SELECT regexp_extract(url, '([a-z0-9]+)\\.html', 1), text FROM articles"
            ).fetchall()
        )
        short = conn.execute(
            "SELECT extraction_status, text FROM articles WHERE url LIKE '%short.html'"
        ).fetchone()
    assert loaded == {"good1", "good2", "good3", "german", "short"}
    # Validation keeps the text out of pandas and rejoins it by row after the quarantine
    # removed rows: every article still has its own page's text.
    for n in (1, 2, 3):
        assert f"{n * 10} people were held" in texts[f"good{n}"]
    assert "Bundespolizei" in texts["german"]
    # a body under 200 characters loads, marked, instead of being quarantined for length
    assert short is not None and short[0] == "too_short" and "Menu only." in short[1]
    assert {
        ("feed_items", "article_id_unique"),
        ("articles", "published_not_future"),
        ("articles", "published_not_ancient"),
    } <= quarantined
    assert ("articles", "text_length") not in quarantined
    assert reasons[1].startswith("2099") and "future.html" in reasons[2]
    # quarantined articles count as failed attempts (retried, then left alone)
    assert sorted(failures) == [("no_text",), ("quarantined",), ("quarantined",)]
    assert ("language_expected", 1) in warnings
    assert results[0] >= 30 and results[1] >= 5
    assert (settings.docs_dir / "index.html").exists()


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "validation-child"])
def test_blocking_failure_loads_nothing_and_records_why(
    settings, bad_site: Path, tmp_path: Path, isolated: bool
) -> None:
    # `policy-news run` validates in a child process: the blocking error must cross it.
    settings = settings.model_copy(update={"isolate_validation": isolated})
    with serve(bad_site, 0, lifetime_s=120) as base:
        summary = run_pipeline(settings, _feeds(tmp_path, base, extra_missing=3))
    assert summary.outcome == "blocked"
    assert "run.failed_feed_share: 0.75 of feeds failed (max 0.50)" in (summary.message or "")
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        data_rows = conn.execute(
            "SELECT (SELECT count(*) FROM articles) "
            "+ (SELECT count(*) FROM quarantine) + (SELECT count(*) FROM article_topics)"
        ).fetchone()
        # the run's feed fetches are kept, so the missing feeds count toward auto-disabling
        fetches = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE outcome = 'error') FROM feed_fetches"
        ).fetchone()
        failing = conn.execute(
            "SELECT count(*) FROM feeds WHERE consecutive_hard_failures = 1"
        ).fetchone()
        run = conn.execute("SELECT outcome, message FROM pipeline_runs").fetchone()
        failed = conn.execute(
            "SELECT check_name, observed_value FROM dq_results WHERE NOT success "
            "AND severity = 'block'"
        ).fetchall()
    assert data_rows == (0,)
    assert fetches == (4, 3) and failing == (3,)
    assert run[0] == "blocked" and "failed_feed_share" in run[1]
    assert failed == [("failed_feed_share", "0.75")]
