"""MinHash signatures of article text, and their compact bytes for DuckDB.

Two signatures per article, both over the same lower-cased `\\w+` words the exact
content fingerprint uses (see sketches.TextSketches): word 5-shingles for
near-duplicates, distinct content words for stories. The values are computed with
numpy in sketches.py (the extraction workers make them there, off the single
writer's path); this module wraps them in datasketch's LeanMinHash for comparing
and storing.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasketch import LeanMinHash

from policy_news.stories.sketches import (
    NUM_PERM,
    SEED,
    STOP_WORDS,
    TextSketches,
    sketch_text,
    words_of,
)

__all__ = ["NUM_PERM", "STOP_WORDS", "TextSignature", "build_signature", "words_of"]

_SCHEME = "affine32"
_BYTEORDER = "<"  # stored bytes must read the same on any machine


@dataclass(frozen=True)
class TextSignature:
    """What the detectors keep of a text: two sketches and the shingle count."""

    shingles: LeanMinHash
    words: LeanMinHash
    shingle_count: int


def _lean(values: object) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=_SCHEME)


def signature_of(sketches: TextSketches) -> TextSignature:
    """The signature of values made by `sketches` (in a worker, or just now)."""
    return TextSignature(_lean(sketches.shingles), _lean(sketches.words), sketches.shingle_count)


def build_signature(text: str) -> TextSignature:
    """Both sketches of a text (an empty text gives empty sketches that match nothing)."""
    return signature_of(sketch_text(text))


def is_empty(sketch: LeanMinHash) -> bool:
    return bool(sketch.is_empty())


def sketch_to_bytes(sketch: LeanMinHash) -> bytes:
    """Little-endian LeanMinHash bytes (seed, size, scheme, 128 x uint32): 525 bytes."""
    buffer = bytearray(sketch.bytesize(byteorder=_BYTEORDER))
    sketch.serialize(buffer, byteorder=_BYTEORDER)
    return bytes(buffer)


def sketch_from_bytes(data: bytes) -> LeanMinHash:
    """Inverse of `sketch_to_bytes`; refuses sketches made with other parameters."""
    sketch = LeanMinHash.deserialize(data, byteorder=_BYTEORDER)
    if len(sketch) != NUM_PERM or sketch.seed != SEED or sketch.scheme != _SCHEME:
        raise ValueError(
            f"stored signature has {len(sketch)} permutations, seed {sketch.seed}, scheme "
            f"{sketch.scheme}; this code compares {NUM_PERM}, seed {SEED}, {_SCHEME}: "
            "rebuild the signatures"
        )
    return sketch


def jaccard(left: LeanMinHash, right: LeanMinHash) -> float:
    """Estimated Jaccard similarity; 0 when either side is empty."""
    if is_empty(left) or is_empty(right):
        return 0.0
    return float(left.jaccard(right))


def containment(similarity: float, left_size: int, right_size: int) -> float:
    """Share of the smaller shingle set found in the larger, from Jaccard and the sizes.

    |A ∩ B| = J / (1 + J) x (|A| + |B|): a wire story trimmed to its first half keeps
    a Jaccard near 0.5 but a containment near 1.
    """
    smaller = min(left_size, right_size)
    if smaller <= 0:
        return 0.0
    common = similarity / (1.0 + similarity) * (left_size + right_size)
    return min(1.0, common / smaller)
