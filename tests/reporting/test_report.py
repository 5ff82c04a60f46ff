"""The weekly HTML report's content, read back from the written page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from policy_news.reporting.report import safe_link, write_report
from tests.reporting.conftest import (
    COUNT_SENTENCE,
    PACT_SENTENCE,
    SCRIPT_TITLE,
    build_db,
)


class _Tables(HTMLParser):
    """Text of every cell of every table with an id: {table id: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._table: str | None = None
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        table_id = attributes.get("id")
        if tag == "table" and table_id:
            self._table = table_id
            self.tables[table_id] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self._in_body:
            self._cell = []
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _read(path: Path) -> tuple[str, _Tables]:
    html = path.read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(html)
    return html, parser


@pytest.fixture(scope="module")
def page(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, _Tables]:
    return _read(write_report(snapshot, tmp_path_factory.mktemp("reports")))


def test_default_week_is_the_week_of_the_latest_data(snapshot: Path, tmp_path: Path) -> None:
    path = write_report(snapshot, tmp_path / "reports")
    assert path.name == "report-2026-W06.html"


def test_subtopic_rows_count_this_week_last_week_and_twelve_weeks(page) -> None:
    _, parsed = page
    rows = {r[0]: r[1:] for r in parsed.tables["subtopic-table"]}
    # stories this week, last week, articles this week, last week, twelve weeks;
    # a5 is a wire copy of a1 (same story) and a6 is not relevant: neither is counted.
    assert rows["arrests_operations"] == ["2", "0", "2", "0", "2"]
    assert rows["local_cooperation_287g"] == ["1", "0", "1", "0", "1"]
    assert rows["removal_deportation"] == ["0", "1", "0", "1", "2"]
    assert rows["detention"] == ["0", "0", "0", "0", "1"]
    assert next(iter(rows)) == "arrests_operations"


def test_subtopics_of_older_taxonomy_versions_are_not_shown(page) -> None:
    html, _ = page
    assert "retired_subtopic" not in html


def test_explicit_week_is_reported(snapshot: Path, tmp_path: Path) -> None:
    html, parsed = _read(write_report(snapshot, tmp_path, week="2026-W05"))
    rows = {r[0]: r[1:] for r in parsed.tables["subtopic-table"]}
    assert rows["removal_deportation"] == ["1", "0", "1", "0", "2"]
    assert "2026-01-26 to 2026-02-01" in html


@pytest.mark.parametrize("week", ["2026-5", "2026-W54", "W05"])
def test_malformed_week_is_refused(snapshot: Path, tmp_path: Path, week: str) -> None:
    with pytest.raises(ValueError, match="week"):
        write_report(snapshot, tmp_path, week=week)


def test_largest_counts_come_with_their_evidence_and_link(page) -> None:
    _, parsed = page
    rows = parsed.tables["count-table"]
    assert [r[0] for r in rows] == ["120", "15"]  # the wire copy's 120 is not a second report
    _number, counts, _qualifier, agency, state, evidence, article = rows[0]
    assert (counts, agency, state, evidence) == (
        "arrests",
        "U.S. Immigration and Customs Enforcement",
        "Texas",
        COUNT_SENTENCE,
    )
    assert article.startswith("ICE arrests 120 in Texas sweep")
    assert "https://news.example.org/a1" in parsed.links


def test_title_with_a_script_tag_is_escaped(page) -> None:
    html, parsed = page
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert parsed.tables["count-table"][1][-1].startswith(SCRIPT_TITLE)


def test_only_http_urls_become_links(page) -> None:
    _, parsed = page
    assert not [link for link in parsed.links if not link.startswith("https://")]
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("https://example.org/x") == "https://example.org/x"


def test_287g_mentions_list_this_weeks_articles_only(page) -> None:
    _, parsed = page
    rows = parsed.tables["mention-287g-table"]
    assert len(rows) == 1  # a3 also names 287(g), but a week earlier
    day, program, states, evidence, article = rows[0]
    assert (day, program, states, evidence) == (
        "2026-02-04",
        "287(g) program",
        "Florida, Texas",
        PACT_SENTENCE,
    )
    assert article == SCRIPT_TITLE


def test_states_agencies_and_operations_are_ranked(page) -> None:
    _, parsed = page
    assert parsed.tables["state-table"] == [["Texas", "2"], ["Florida", "1"]]
    assert parsed.tables["agency-table"] == [["U.S. Immigration and Customs Enforcement", "2"]]
    assert parsed.tables["operation-table"] == [["Operation Lone Star Sweep", "1"]]


def test_failing_feeds_are_listed_first(page) -> None:
    _, parsed = page
    feeds = parsed.tables["feed-table"]
    assert [(r[0], r[1]) for r in feeds] == [("beta", "failing"), ("alpha", "ok")]
    assert feeds[0][-1] == "http: HTTP 503"


def test_charts_are_inline_svg_and_nothing_is_fetched(page) -> None:
    html, _ = page
    assert html.count("<svg") == 4  # articles trend, stories trend, states, agencies
    assert 'id="chart-trend-stories"' in html
    assert "default-src 'none'" in html
    for external in ("<link", 'src="http', "src='http", "url(http", "@import"):
        assert external not in html


def test_a_database_without_stories_shows_zeros(
    snapshot_without_stories: Path, tmp_path: Path
) -> None:
    _, parsed = _read(write_report(snapshot_without_stories, tmp_path))
    rows = {r[0]: r[1:] for r in parsed.tables["subtopic-table"]}
    assert rows["arrests_operations"] == ["0", "0", "2", "0", "2"]
    assert rows["removal_deportation"] == ["0", "0", "0", "1", "2"]


def test_a_near_duplicate_count_is_not_a_second_report(tmp_path: Path) -> None:
    db = build_db(tmp_path / "near.duckdb")
    with duckdb.connect(str(db)) as conn:
        # a5 reworded: no longer byte-identical, still a copy of a1.
        conn.execute("UPDATE articles SET duplicate_of = NULL WHERE article_id = 'a5'")
    _, parsed = _read(write_report(db, tmp_path / "reports"))
    assert [r[0] for r in parsed.tables["count-table"]] == ["120", "15"]


def test_an_empty_database_gives_a_page_without_charts(tmp_path: Path, migrated_db: Path) -> None:
    html, parsed = _read(write_report(migrated_db, tmp_path / "reports", week="2026-W06"))
    assert "<svg" not in html
    assert "No relevant articles in the last twelve weeks." in html
    assert parsed.tables == {}
