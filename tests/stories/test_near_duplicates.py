from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from policy_news.stories.near_duplicates import (
    ArticleText,
    SignatureIndex,
    find_near_duplicates,
)
from policy_news.stories.synthetic import rewrite, rewrites

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _text(article_id, text, minutes, content_hash=None):
    return ArticleText(article_id, text, T0 + timedelta(minutes=minutes), content_hash)


def test_every_kind_of_rewrite_is_found(fixture_articles):
    source = fixture_articles["a1"]
    copies = rewrites("a1", source["title"], source["text"])
    kinds = {change for copy in copies for change in copy.changes}
    assert kinds == {"headline", "boilerplate", "trimmed", "appended", "word edits"}
    batch = [_text("a1", source["text"], 0)] + [
        _text(c.article_id, c.text, i + 1) for i, c in enumerate(copies)
    ]
    matches = {m.article_id: m for m in find_near_duplicates(batch).matches}
    assert set(matches) == {c.article_id for c in copies}
    assert all(m.duplicate_of == "a1" and m.method == "minhash" for m in matches.values())
    assert all(0.3 < m.similarity < 1.0 for m in matches.values())


def test_same_topic_and_same_event_write_ups_are_not_copies(fixture_articles):
    # a1/a2 and b1/b2 are independent write-ups of one event; the rest share the topic
    batch = [
        _text(i, row["text"], n) for n, (i, row) in enumerate(sorted(fixture_articles.items()))
    ]
    assert find_near_duplicates(batch).matches == []


def test_shared_statement_and_footer_do_not_make_a_copy(fixture_articles):
    statement = (
        "In a statement, the agency said it prioritizes public safety threats and that every "
        "person taken into custody will receive due process under the law. Copyright 2026 by "
        "the publisher. All rights reserved. This material may not be published, broadcast, "
        "rewritten or redistributed without permission."
    )
    batch = [
        _text("c1", f"{fixture_articles['c1']['text']} {statement}", 0),
        _text("d1", f"{fixture_articles['d1']['text']} {statement}", 1),
    ]
    assert find_near_duplicates(batch).matches == []


def test_identical_fingerprint_is_a_copy_without_minhash(fixture_articles):
    text = fixture_articles["c1"]["text"]
    result = find_near_duplicates(
        [_text("late", text, 5, "hash-1"), _text("early", text, 1, "hash-1")]
    )
    [match] = result.matches
    assert (match.article_id, match.duplicate_of, match.similarity, match.method) == (
        "late",
        "early",
        1.0,
        "exact",
    )
    assert [s.article_id for s in result.signatures] == ["early"]  # the copy needs none


def test_stored_window_article_is_the_canonical_and_chains_resolve(fixture_articles):
    source = fixture_articles["b1"]
    stored = find_near_duplicates([_text("b1", source["text"], 0)]).signatures
    index = SignatureIndex(stored)
    copy_1 = rewrite("b1", source["title"], source["text"], 0)
    first = find_near_duplicates([_text("copy1", copy_1.text, 60)], index)
    assert [(m.article_id, m.duplicate_of) for m in first.matches] == [("copy1", "b1")]
    # a copy of the copy points at the original, whatever it matched best
    copy_2 = rewrite("copy1", copy_1.title, copy_1.text, 3)
    second = find_near_duplicates([_text("copy2", copy_2.text, 120)], index)
    assert [m.duplicate_of for m in second.matches] == ["b1"]


def test_reloading_a_batch_gives_the_same_matches(fixture_articles):
    source = fixture_articles["e1"]
    batch = [_text("e1", source["text"], 0)] + [
        _text(c.article_id, c.text, 10 + i)
        for i, c in enumerate(rewrites("e1", "t", source["text"]))
    ]
    first = find_near_duplicates(batch)
    again = find_near_duplicates(batch, first.signatures)  # the batch is now in the window
    assert sorted((m.article_id, m.duplicate_of) for m in again.matches) == sorted(
        (m.article_id, m.duplicate_of) for m in first.matches
    )
    assert all(m.duplicate_of != m.article_id for m in again.matches)


def test_later_article_never_becomes_canonical_of_an_earlier_one(fixture_articles):
    source = fixture_articles["d1"]
    copy = rewrite("d1", source["title"], source["text"], 1)
    later_original = find_near_duplicates([_text("d1", source["text"], 100)]).signatures
    result = find_near_duplicates([_text("copy", copy.text, 1)], later_original)
    assert result.matches == []


def test_rewrites_are_deterministic(fixture_articles):
    source = fixture_articles["a2"]
    first = [c.text for c in rewrites("a2", source["title"], source["text"])]
    assert first == [c.text for c in rewrites("a2", source["title"], source["text"])]
    assert len({*first}) == len(first)
    assert all(a != b for a, b in itertools.combinations(first, 2))


def test_a_story_reprinted_many_times_points_each_copy_at_its_most_similar_earlier_one(
    fixture_articles,
):
    """Many candidates per copy (a wire story at dozens of outlets): the similarity is
    datasketch's estimate, and the copy matches the most similar earlier article."""
    from policy_news.stories.signatures import build_signature, jaccard

    source = fixture_articles["a1"]
    copies = [rewrite(f"a1-{n}", source["title"], source["text"], n) for n in range(1, 31)]
    batch = [_text("a1", source["text"], 0)] + [
        _text(c.article_id, c.text, i + 1) for i, c in enumerate(copies)
    ]
    signatures = {a.article_id: build_signature(a.text) for a in batch}
    order = {a.article_id: a.seen_at for a in batch}
    matches = find_near_duplicates(batch).matches
    assert {m.duplicate_of for m in matches} == {"a1"} and len(matches) == len(copies)
    for match in matches:
        mine = signatures[match.article_id].shingles
        assert match.similarity == jaccard(mine, signatures[match.matched].shingles)
        earlier = [i for i in signatures if order[i] < order[match.article_id]]
        assert match.similarity == max(jaccard(mine, signatures[i].shingles) for i in earlier)
