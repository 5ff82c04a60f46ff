"""MinHash signatures of article text, and their compact bytes for DuckDB.

Two signatures per article, both over the same lower-cased `\\w+` words the exact
content fingerprint uses:

* **shingles**: word 5-grams. Copies of one wire story share most of them even
  with another headline, boilerplate or a trimmed paragraph, while two outlets
  writing up the same event in their own words share almost none. This is the
  near-duplicate signal.
* **words**: the distinct content words (stop words dropped). Independent write-ups
  of one event share names, places and numbers, so this is the story signal.

Hashing is done once per word (crc32, in C) and combined into shingle hashes with
numpy, so a signature costs well under a millisecond; datasketch then applies its
permutations. The permutations are built once per process, not per article.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash

NUM_PERM = 128
SEED = 1
SHINGLE_WORDS = 5
_SCHEME = "affine32"
_BYTEORDER = "<"  # stored bytes must read the same on any machine
_WORDS = re.compile(r"\w+")
# Odd 64-bit multipliers, one per position in a shingle; the product is mixed again
# by datasketch's MurmurHash3 finalizer, so this only needs to separate positions.
_POSITION_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)
_STOP_WORDS_TEXT = """
a an and are as at be been but by for from had has have he her his i in is it its of
on or our said says she that the their them they this to was we were what when which
who will with would you your not no after also about more than there over into out
up new one two just so if all can could may been being do does did us year years
last first week day monday tuesday wednesday thursday friday saturday sunday
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class TextSignature:
    """What the detectors keep of a text: two sketches and the shingle count."""

    shingles: LeanMinHash
    words: LeanMinHash
    shingle_count: int


def words_of(text: str) -> list[str]:
    """The words the exact fingerprint hashes: lower-cased `\\w+` runs."""
    return _WORDS.findall(text.lower())


@functools.cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # datasketch draws 2 x NUM_PERM random numbers per MinHash; draw them once.
    a, b = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME).permutations
    return a.astype(np.uint32), b.astype(np.uint32)


@functools.lru_cache(maxsize=1 << 17)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def _word_hashes(words: list[str]) -> np.ndarray:
    return np.fromiter(map(_word_hash, words), dtype=np.uint64, count=len(words))


def _fmix32(values: np.ndarray) -> np.ndarray:
    # MurmurHash3's finalizer, as datasketch's affine32 scheme applies it to inputs.
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


@functools.cache
def _stop_hashes() -> np.ndarray:
    singles = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    return _word_hashes(sorted(STOP_WORDS.union(singles)))


def shingle_hashes(hashes: np.ndarray, size: int = SHINGLE_WORDS) -> np.ndarray:
    """Distinct 32-bit hashes of the word `size`-grams (the whole text when shorter)."""
    if not len(hashes):
        return np.empty(0, dtype=np.uint32)
    width = min(size, len(hashes))
    count = len(hashes) - width + 1
    combined = np.zeros(count, dtype=np.uint64)
    for position in range(width):
        combined ^= hashes[position : position + count] * _POSITION_MULTIPLIERS[position]
    return np.unique((combined >> np.uint64(32)).astype(np.uint32))


def content_word_hashes(hashes: np.ndarray) -> np.ndarray:
    """Distinct hashes of the words that are neither stop words nor single characters."""
    kept = hashes[~np.isin(hashes, _stop_hashes())]
    return np.unique(kept.astype(np.uint32))


def _sketch(hashes: np.ndarray) -> LeanMinHash:
    """The MinHash datasketch's `update_batch` computes, without its per-value Python loop."""
    a, b = _permutations()
    if len(hashes):
        permuted = _fmix32(hashes.astype(np.uint32)).reshape(-1, 1) * a + b
        values = permuted.min(axis=0)
    else:
        values = np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=_SCHEME)


def build_signature(text: str) -> TextSignature:
    """Both sketches of a text (an empty text gives empty sketches that match nothing)."""
    hashes = _word_hashes(words_of(text))
    shingles = shingle_hashes(hashes)
    return TextSignature(_sketch(shingles), _sketch(content_word_hashes(hashes)), len(shingles))


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
