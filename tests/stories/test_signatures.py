from __future__ import annotations

import pytest

from policy_news.stories.signatures import (
    build_signature,
    containment,
    jaccard,
    sketch_from_bytes,
    sketch_to_bytes,
)


def test_signature_round_trips_through_bytes(fixture_articles):
    signature = build_signature(fixture_articles["a1"]["text"])
    data = sketch_to_bytes(signature.shingles)
    assert isinstance(data, bytes) and len(data) == 525
    restored = sketch_from_bytes(data)
    assert jaccard(restored, signature.shingles) == 1.0
    assert list(restored.hashvalues) == list(signature.shingles.hashvalues)


def test_signature_is_the_same_in_every_process(fixture_articles):
    # stored signatures are compared with ones built later: nothing may depend on the process
    first = build_signature(fixture_articles["b1"]["text"]).shingles.hashvalues[:4].tolist()
    assert first == build_signature(fixture_articles["b1"]["text"]).shingles.hashvalues[:4].tolist()


def test_bytes_of_other_parameters_are_refused(fixture_articles):
    from datasketch import LeanMinHash, MinHash

    other = MinHash(num_perm=64, seed=1)
    other.update(b"x")
    buffer = bytearray(LeanMinHash(other).bytesize(byteorder="<"))
    LeanMinHash(other).serialize(buffer, byteorder="<")
    with pytest.raises(ValueError, match="rebuild the signatures"):
        sketch_from_bytes(bytes(buffer))


def test_empty_text_matches_nothing():
    empty = build_signature("")
    assert jaccard(empty.shingles, build_signature("some words here").shingles) == 0.0


def test_containment_of_a_trimmed_copy_is_near_one():
    # a copy holding half the shingles of its original: Jaccard 0.5, containment 1
    assert containment(0.5, 100, 50) == pytest.approx(1.0)
    assert containment(0.0, 100, 50) == 0.0
