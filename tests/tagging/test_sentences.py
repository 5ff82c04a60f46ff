"""Sentence spans: offsets into the text as stored, news abbreviations kept whole."""

from __future__ import annotations

import pytest

from policy_news.tagging.sentences import Sentences, fold, sentence_starts


def test_sentences_split_after_full_stops() -> None:
    text = "ICE made arrests. Advocates protested! Was it legal? Nobody knows."
    assert [Sentences(text).sentence(i) for i in range(4)] == [
        "ICE made arrests.",
        "Advocates protested!",
        "Was it legal?",
        "Nobody knows.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. Border Patrol said so.",
        "Gov. Ron DeSantis spoke on Jan. 5 at 10 a.m. Eastern.",
        "Sen. John Smith Jr. and Dr. Jones met.",
        "Agent John F. Kennedy was there.",
    ],
)
def test_abbreviations_and_initials_do_not_end_a_sentence(text: str) -> None:
    assert sentence_starts(text) == [0]


def test_a_lowercase_word_after_a_full_stop_continues_the_sentence() -> None:
    assert sentence_starts("Arrests rose 5 pct. over the year.") == [0]


def test_a_new_line_starts_a_sentence() -> None:
    text = "ICE arrests 300 in Texas\nOfficers made the arrests on Monday."
    assert Sentences(text).sentence(1) == "Officers made the arrests on Monday."


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = "“We will continue,” he said. “The work goes on.” Then he left."
    sents = Sentences(text)
    assert sents.sentence(1) == "“The work goes on.”"


def test_index_finds_the_sentence_of_an_offset() -> None:
    text = "First one. Second one here."
    sents = Sentences(text)
    assert len(sents) == 2
    assert sents.index(text.index("Second")) == 1
    assert sents.sentence_at(text.index("here")) == "Second one here."
    start, end = sents.span(1)
    assert text[start:end] == "Second one here."


def test_fold_keeps_offsets() -> None:
    text = "Sheriffs’ İstanbul ICE"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.startswith("sheriffs'")
    assert folded.endswith("ice")
