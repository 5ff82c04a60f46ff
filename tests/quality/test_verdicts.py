"""Verdicts: failing rows are quarantined with their reason; what cannot pick rows blocks."""

from __future__ import annotations

import json

import pandas as pd

from policy_news.quality.checks import (
    ValidationReport,
    validate_batch,
)
from tests.quality.batches import (
    NOW,
    RUN,
    TAXONOMY,
    article_row,
    clean_rows,
    expected_quarantine,
    frames_of,
    quarantined,
    result,
)


def test_every_bad_fixture_record_is_quarantined_by_its_check(
    bad_report: ValidationReport,
) -> None:
    assert expected_quarantine() <= quarantined(bad_report)


def test_nothing_clean_is_quarantined(bad_report: ValidationReport) -> None:
    expected_ids = {record_id for _, record_id, _ in expected_quarantine()}
    got_ids = {record_id for _, record_id, _ in quarantined(bad_report)}
    assert got_ids == expected_ids


def test_empty_text_is_quarantined_with_reason_and_raw_record(
    bad_report: ValidationReport,
) -> None:
    row = bad_report.quarantine.set_index("record_key").loc["bad-empty-text"]
    assert (row.run_id, row.stage, row.check_name, row.value) == (
        RUN,
        "articles",
        "text_length",
        "0 chars",
    )
    raw = json.loads(row.raw_record)
    assert raw["article_id"] == "bad-empty-text" and raw["text"] == ""
    assert raw["raw_html_gz"].endswith("bytes omitted>")  # no blobs in the quarantine table
    assert row.quarantined_at == pd.Timestamp(NOW)


def test_quarantined_article_leaves_the_batch_with_its_tags(
    bad_report: ValidationReport,
) -> None:
    frames = bad_report.frames
    assert "bad-empty-text" not in set(frames["articles"].article_id)
    assert "bad-empty-text" not in set(frames["article_topics"].article_id)
    assert "clean-00" in set(frames["article_topics"].article_id)


def test_duplicate_article_keeps_the_first_copy(bad_report: ValidationReport) -> None:
    kept = bad_report.frames["articles"]
    copies = kept[kept.article_id == "dup-raid"]
    assert list(copies.url) == ["https://news.example.org/2025/05/31/worksite-raid"]
    row = bad_report.quarantine[
        (bad_report.quarantine.stage == "articles")
        & (bad_report.quarantine.check_name == "article_id_unique")
    ]
    assert "utm_source=newsletter" in json.loads(row.iloc[0].raw_record)["url"]
    # the kept article keeps its tags (the cascade only follows articles that left)
    assert result(bad_report, "articles", "article_id_unique").unexpected_count == 2


def test_tracking_parameter_duplicate_feed_item_is_quarantined_once(
    bad_report: ValidationReport,
) -> None:
    q = bad_report.quarantine
    dup = q[(q.stage == "feed_items") & (q.check_name == "article_id_unique")]
    assert list(dup.record_key) == ["border-wire|dup-raid"]
    assert "fbclid" in json.loads(dup.iloc[0].raw_record)["original_url"]
    items = bad_report.frames["feed_items"]
    assert (items.article_id == "dup-raid").sum() == 1


def test_future_and_epoch_dates_are_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine.set_index("record_key")
    assert q.loc["bad-future-date"].check_name == "published_not_future"
    assert q.loc["bad-future-date"].value.startswith("2099-01-01")
    assert q.loc["bad-epoch-date"].check_name == "published_not_ancient"
    assert q.loc["bad-epoch-date"].value.startswith("1970-01-01")


def test_article_without_id_is_quarantined_by_its_position() -> None:
    rows = clean_rows()
    rows["articles"][4]["article_id"] = None
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    row = report.quarantine[report.quarantine.stage == "articles"].iloc[0]
    assert (row.record_key, row.check_name) == ("row:4", "article_id_not_null")


def test_invalid_language_code_is_quarantined_with_the_raw_code(
    bad_report: ValidationReport,
) -> None:
    row = bad_report.quarantine.set_index("record_key").loc["bad-language"]
    assert (row.check_name, row.value) == ("language_code", "esp")


def test_language_codes_with_region_and_null_are_accepted() -> None:
    rows = clean_rows()
    for i, code in enumerate(["en-US", "pt_BR", "ES", None, "es-419", ""]):
        rows["articles"][i]["language"] = code
    report = validate_batch(RUN, frames_of(rows), taxonomy_ids=TAXONOMY, now=NOW)
    assert bool(result(report, "articles", "language_code").success)


def test_unknown_subtopic_is_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    row = q[(q.stage == "article_topics") & (q.check_name == "subtopic_known")].iloc[0]
    assert (row.record_key, row.value) == ("clean-01|ice_raids_typo", "ice_raids_typo")


def test_offsets_outside_the_field_are_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    outside = q[q.check_name == "end_offset_within_field"].set_index("record_key")
    title_len = len(article_row(2)["title"])
    assert outside.loc["clean-02|detention"].value == (f"field_length={title_len}, end_offset=4000")
    assert "clean-06|9" in outside.index  # a fact whose span runs past its summary
    negative = q[q.check_name == "start_offset_non_negative"]
    assert list(negative.record_key) == ["clean-03|deportation"]


def test_negative_count_is_quarantined(bad_report: ValidationReport) -> None:
    q = bad_report.quarantine
    row = q[(q.stage == "article_facts") & (q.check_name == "count_positive")].iloc[0]
    assert (row.record_key, row.value) == ("clean-04|7", "-12")
    facts = bad_report.frames["article_facts"]
    assert not ((facts.article_id == "clean-04") & (facts.fact_index == 7)).any()


def test_row_level_failures_do_not_block(bad_report: ValidationReport) -> None:
    assert bad_report.blocking == []
    # the only warning: a page in a language the monitor does not follow (loaded, flagged)
    assert [w.split(":")[0] for w in bad_report.warnings] == ["articles.language_expected"]
    assert len(bad_report.frames["articles"]) == 12 + 1  # the clean ones and dup-raid


def test_missing_column_blocks_instead_of_guessing_rows() -> None:
    rows = clean_rows()
    frames = frames_of(rows)
    frames["articles"] = frames["articles"].drop(columns=["date_source"])
    report = validate_batch(RUN, frames, taxonomy_ids=TAXONOMY, now=NOW)
    assert any(
        m.startswith("articles.date_source_not_null: could not run:") for m in report.blocking
    )
