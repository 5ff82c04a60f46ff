"""One wire story reprinted by several outlets, through the real pipeline, twice.

The fixture site (`tests/fixtures/stories_site/`, fictional) serves each outlet's feed
under its own path: the same wire story with other headlines, mastheads, footers, a
paragraph dropped or added and a few words changed, plus two unrelated immigration
stories. The second run adds a fourth outlet's copy. Analysts must see one event,
its count taken once, and the same story id after both runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
import yaml

from policy_news.pipeline.runner import run_pipeline
from policy_news.reporting.report import write_report
from tools.sample_site import serve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from policy_news.settings import Settings

SITE = Path(__file__).resolve().parents[1] / "fixtures" / "stories_site"
FIRST_OUTLETS = ("herald", "courier", "tribune")
WIRE_STORY_OUTLETS = {"Riverton Herald", "Foothills Courier", "Platte Valley Tribune"}
LATE_OUTLET = "High Plains Daily"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve(SITE, 0, lifetime_s=600) as base_url:
        yield base_url


def _feeds(base_url: str, folder: Path, outlets: tuple[str, ...]) -> Path:
    path = folder / f"feeds-{len(outlets)}.yaml"
    entries = [
        {"name": f"{outlet}-news", "url": f"{base_url}/{outlet}/feed.rss", "kind": "news"}
        for outlet in outlets
    ]
    path.write_text(yaml.safe_dump({"feeds": entries}))
    return path


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _wire_story(db: Path) -> tuple[str, dict[str, tuple[str | None, str]]]:
    """The wire story's id and {outlet: (near_duplicate_of, article_id)} of its articles."""
    rows = _rows(
        db,
        "SELECT story_id, outlet, article_id FROM story_articles "
        "WHERE story_id IN (SELECT story_id FROM story_articles WHERE title ILIKE '%140%')",
    )
    assert len({r[0] for r in rows}) == 1, rows
    copies = dict(
        _rows(
            db,
            "SELECT article_id, near_duplicate_of FROM articles WHERE article_id IN "
            f"({', '.join('?' * len(rows))})",
            [r[2] for r in rows],
        )
    )
    return rows[0][0], {outlet: (copies[article_id], article_id) for _, outlet, article_id in rows}


@pytest.fixture(scope="module")
def runs(
    site: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, dict[str, Any]]]:
    """Run 1 with three outlets, run 2 with a fourth; what each left in the database."""
    from tests.conftest import isolated_settings

    root = tmp_path_factory.mktemp("stories")
    settings = isolated_settings(
        root / "data", allowed_private_nets=("127.0.0.1/32",), host_delay_s=0.0
    )
    from policy_news.stories import near_duplicates

    hashed_by_loader: list[str] = []

    def counted(text: str) -> Any:
        hashed_by_loader.append(text)
        return build_signature(text)

    build_signature = near_duplicates.build_signature
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(near_duplicates, "build_signature", counted)
        first = run_pipeline(settings, _feeds(site, root, FIRST_OUTLETS), poll_all=True)
        assert first.outcome == "success", first.message
        after_first = _wire_story(settings.db_path)
        feeds = _feeds(site, root, (*FIRST_OUTLETS, "plains"))
        second = run_pipeline(settings, feeds, poll_all=True)
        assert second.outcome == "success", second.message
    yield (
        settings,
        {
            "first": first,
            "second": second,
            "after_first": after_first,
            "hashed_by_loader": hashed_by_loader,
        },
    )


def test_copies_of_one_wire_story_form_one_story(runs) -> None:
    settings, result = runs
    story_id, first_members = result["after_first"]
    assert set(first_members) == WIRE_STORY_OUTLETS
    second_id, members = _wire_story(settings.db_path)
    assert second_id == story_id  # stable across runs
    assert set(members) == WIRE_STORY_OUTLETS | {LATE_OUTLET}
    row = _rows(
        settings.db_path,
        "SELECT articles, independent_articles, len(outlets) FROM stories WHERE story_id = ?",
        [story_id],
    )
    assert row == [(4, 1, 4)]


def test_copies_point_at_the_original(runs) -> None:
    settings, _ = runs
    story_id, members = _wire_story(settings.db_path)
    originals = [article_id for copy_of, article_id in members.values() if copy_of is None]
    # The story is named after its first article, the one every copy points at.
    assert originals == [story_id]
    assert {copy_of for copy_of, _ in members.values()} == {None, story_id}
    similarity = _rows(
        settings.db_path,
        "SELECT min(duplicate_similarity), max(duplicate_similarity) FROM articles "
        "WHERE near_duplicate_of = ?",
        [story_id],
    )[0]
    assert 0.3 < similarity[0] <= similarity[1] < 1.0  # reworded, not byte-identical


def test_the_reported_count_is_taken_once_with_its_outlets(runs) -> None:
    settings, _ = runs
    story_id, _ = _wire_story(settings.db_path)
    counts = _rows(
        settings.db_path,
        "SELECT number, outlets_agree, outlets, independent_reports FROM story_counts "
        "WHERE story_id = ? AND counts = 'arrests'",
        [story_id],
    )
    assert counts == [(140.0, True, sorted(WIRE_STORY_OUTLETS | {LATE_OUTLET}), 1)]


def test_unrelated_stories_stay_separate(runs) -> None:
    settings, _ = runs
    stories = _rows(
        settings.db_path,
        "SELECT title, articles, outlets FROM stories WHERE title NOT ILIKE '%140%' ORDER BY 1",
    )
    assert stories == [
        (
            "Detainees sue Arizona detention center operator over medical care",
            1,
            ["Foothills Courier"],
        ),
        ("Kansas county signs on to ICE jail program", 1, ["Riverton Herald"]),
    ]
    assert _rows(settings.db_path, "SELECT count(*) FROM stories") == [(3,)]


def test_runs_report_what_they_found(runs) -> None:
    _, result = runs
    first, second = result["first"].load, result["second"].load
    assert (first["articles"], first["near_duplicates"]) == (5, 2)
    assert (first["stories_assigned"], first["new_stories"]) == (5, 3)
    assert (second["articles"], second["near_duplicates"]) == (1, 1)
    assert (second["stories_assigned"], second["new_stories"]) == (1, 0)


def test_the_loader_compares_the_sketches_the_workers_made(runs) -> None:
    """Every loaded text came with its sketches from extraction: the loader hashed none,
    and what it stored is the signature of the stored text."""
    from policy_news.stories.signatures import build_signature, sketch_to_bytes

    settings, result = runs
    assert result["hashed_by_loader"] == []
    rows = _rows(
        settings.db_path,
        "SELECT s.shingles, s.words, s.shingle_count, a.text "
        "FROM article_signatures s JOIN articles a USING (article_id)",
    )
    assert len(rows) == 6
    for shingles, words, count, text in rows:
        expected = build_signature(text)
        assert (shingles, words, count) == (
            sketch_to_bytes(expected.shingles),
            sketch_to_bytes(expected.words),
            expected.shingle_count,
        )


def test_the_weekly_report_counts_the_event_once(runs, tmp_path: Path) -> None:
    settings, _ = runs
    page = write_report(settings.snapshot_path, tmp_path, week="2026-W49").read_text()
    # Three stories this week (Mon 30 Nov - Sun 6 Dec); the 140 arrests listed once.
    assert page.count(">140<") == 1


def test_cli_report_and_export_read_the_snapshot(
    runs, tmp_path: Path, capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Any]
) -> None:
    from policy_news.cli import main

    settings, _ = runs
    assert main(["report", "--db", str(settings.db_path), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "report-2026-W49.html").is_file()
    out = tmp_path / "x"
    assert main(["export", "--db", str(settings.db_path), "--out", str(out)]) == 0
    with duckdb.connect() as conn:
        counts = conn.execute(
            f"SELECT number, len(outlets) FROM '{out}/story_counts/*/*.parquet' "
            "WHERE counts = 'arrests'"
        ).fetchall()
    assert counts == [(140.0, 4)]
    assert main(["report", "--db", str(settings.db_path), "--week", "2026-W60"]) == 2
    missing = make_settings().db_path
    assert main(["report", "--db", str(missing)]) == 1
    assert "no analyst snapshot" in capsys.readouterr().err
