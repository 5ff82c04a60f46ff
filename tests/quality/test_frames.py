"""What GX sees of a stage frame: derived columns instead of text, and record keys."""

from __future__ import annotations

import pandas as pd

from policy_news.quality.frames import prepare_frame, record_keys


def test_article_text_reaches_gx_as_its_length_only() -> None:
    raw = pd.DataFrame(
        {"article_id": ["a", "b"], "text": ["four", None], "raw_html_gz": [b"", b""]}
    )
    frame = prepare_frame("articles", raw, {"articles": raw})
    assert "text" not in frame and "raw_html_gz" not in frame
    assert list(frame["dq_text_chars"]) == [4, 0]
    assert "text" in raw  # the input keeps it for the quarantine records


def test_language_tags_are_reduced_to_their_primary_subtag() -> None:
    raw = pd.DataFrame({"language": ["en-US", "PT_br", " ", None, "esp"]})
    frame = prepare_frame("articles", raw, {})
    assert list(frame["dq_language"].fillna("<null>")) == ["en", "pt", "<null>", "<null>", "esp"]


def test_rows_without_a_key_are_named_by_their_position() -> None:
    frame = pd.DataFrame({"feed_name": ["wire", None], "article_id": ["a1", None]})
    assert record_keys(frame, ["feed_name", "article_id"]) == ["wire|a1", "row:1"]
