from __future__ import annotations

from policy_news.sources.urls import article_id_for, normalise_url


def test_tracking_parameters_fragment_and_case_do_not_change_the_id() -> None:
    variants = [
        "https://News.Example.com/2026/11/story.html?utm_source=rss&utm_medium=feed",
        "https://news.example.com/2026/11/story.html#comments",
        "HTTPS://news.example.com:443/2026/11/story.html?ns_mchannel=rss",
        "http://news.example.com/2026/11/story.html",
    ]
    assert len({article_id_for(u) for u in variants}) == 1


def test_meaningful_query_parameters_are_kept() -> None:
    assert article_id_for("https://x.example/a?id=1") != article_id_for("https://x.example/a?id=2")
    assert normalise_url("https://x.example/a?id=1&utm_campaign=z") == "https://x.example/a?id=1"


def test_path_case_is_significant() -> None:
    assert article_id_for("https://x.example/Story") != article_id_for("https://x.example/story")
