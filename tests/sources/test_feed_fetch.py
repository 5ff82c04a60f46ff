from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from policy_news.sources.feed_fetch import parse_feed
from tests.conftest import CORPUS_DIR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def _parse(body: bytes, base: str = "https://news.example.org/feed.rss"):
    return parse_feed(body, {"content-type": "application/rss+xml"}, "fixture", base, NOW)


def test_urls_are_normalised_and_duplicates_share_an_article_id() -> None:
    parsed = _parse((FIXTURES / "mixed.rss").read_bytes())
    dupes = [
        i for i in parsed.items if i.url == "https://news.example.org/2026/11/sheriff-287g.html"
    ]
    assert len(dupes) == 2 and dupes[0].article_id == dupes[1].article_id
    assert parsed.error_kind is None


def test_summary_html_is_reduced_to_plain_text() -> None:
    item = _parse((FIXTURES / "mixed.rss").read_bytes()).items[0]
    assert item.summary == "The county joins the task force model."


def test_missing_dates_are_none_and_impossible_ones_are_kept_for_the_checks() -> None:
    by_title = {i.title: i for i in _parse((FIXTURES / "mixed.rss").read_bytes()).items}
    assert by_title["Sheriff signs 287(g) agreement"].published_at == datetime(
        2026, 11, 24, 14, 30, tzinfo=UTC
    )
    assert by_title["No date here"].published_at is None
    assert by_title["Date from the future"].published_at == datetime(2099, 1, 1, tzinfo=UTC)


def test_relative_links_resolve_against_the_feed_and_linkless_items_drop() -> None:
    titles = {i.title: i.url for i in _parse((FIXTURES / "mixed.rss").read_bytes()).items}
    assert titles["Relative link"] == "https://news.example.org/2026/11/relative.html"
    assert "No link at all" not in titles


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>not a feed</body></html>", b"<rss><channel><item><title>x</ti"],
    ids=["empty", "html", "truncated"],
)
def test_unreadable_documents_are_recorded_not_raised(body: bytes) -> None:
    parsed = _parse(body)
    assert parsed.items == [] and parsed.error_kind == "parse" and parsed.error


def _corpus_feeds() -> list[Path]:
    folder = CORPUS_DIR / "feeds"
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.skipif(not _corpus_feeds(), reason="shared corpus not present")
@pytest.mark.parametrize("path", _corpus_feeds(), ids=lambda p: p.name)
def test_every_corpus_feed_parses_to_an_outcome(path: Path) -> None:
    parsed = _parse(path.read_bytes(), base="https://feeds.example.org/")
    assert parsed.error_kind in (None, "parse")
    assert parsed.error_kind is None or (parsed.error and not parsed.items)
    for item in parsed.items:
        assert item.url.startswith(("http://", "https://")) and len(item.article_id) == 20
