from __future__ import annotations

from pathlib import Path

import pytest

from policy_news.settings import INCLUDE_DIR
from policy_news.sources.registry import FeedConfigError, load_feeds, parse_feeds


def test_bundled_registries_load() -> None:
    production = load_feeds(INCLUDE_DIR / "feeds.yaml", enabled_only=False)
    sample = load_feeds(INCLUDE_DIR / "sample_site" / "feeds.yaml")
    assert len(production) >= 10
    assert all(f.url.startswith("https://") for f in production)
    assert sample and all(f.url.startswith("http://127.0.0.1:") for f in sample)


def test_disabled_feeds_are_skipped_unless_asked() -> None:
    data = {
        "feeds": [
            {"name": "a", "url": "https://a.example/rss"},
            {"name": "b", "url": "https://b.example/rss", "enabled": False},
        ]
    }
    assert [f.name for f in parse_feeds(data)] == ["a", "b"]
    assert [f.enabled for f in parse_feeds(data)] == [True, False]


def test_bad_entry_names_the_entry_and_the_field() -> None:
    data = {
        "feeds": [
            {"name": "good", "url": "https://ok.example/rss"},
            {"name": "ftp-feed", "url": "ftp://x.example/feed"},
        ]
    }
    with pytest.raises(FeedConfigError, match=r"feed #2 \('ftp-feed'\), field 'url'"):
        parse_feeds(data)


def test_missing_url_and_duplicate_name_are_both_reported() -> None:
    data = {
        "feeds": [
            {"name": "a", "url": "https://a.example/rss"},
            {"name": "a", "url": "https://b.example/rss"},
            {"name": "c"},
        ]
    }
    with pytest.raises(FeedConfigError) as err:
        parse_feeds(data)
    assert "feed #2 ('a'), field 'name': duplicate" in str(err.value)
    assert "feed #3 ('c'), field 'url'" in str(err.value)


def test_file_without_feeds_key_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("sources: []\n")
    with pytest.raises(FeedConfigError, match="'feeds:'"):
        load_feeds(path)


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds: [unclosed\n")
    with pytest.raises(FeedConfigError, match="not valid YAML"):
        load_feeds(path)


def test_misspelt_key_is_refused_not_ignored() -> None:
    data = {"feeds": [{"name": "a", "url": "https://a.example/rss", "enabeld": False}]}
    with pytest.raises(FeedConfigError, match=r"feed #1 \('a'\), field 'enabeld'"):
        parse_feeds(data)


def test_kind_is_government_or_news() -> None:
    data = {"feeds": [{"name": "a", "url": "https://a.example/rss", "kind": "blog"}]}
    with pytest.raises(FeedConfigError, match=r"field 'kind'"):
        parse_feeds(data)
