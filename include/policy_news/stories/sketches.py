"""MinHash values of article text with numpy alone, so extraction workers can make them.

The story code's signatures (signatures.py) wrap these values in datasketch's
LeanMinHash. datasketch itself is not imported here: its package imports scipy
(~1.2 CPU-s), which an extraction worker would pay for on every run. The values are
datasketch's own "affine32" MinHash of the same inputs (tests/stories/test_sketches.py
compares them with `MinHash.update_batch` and the permutations with `MinHash`'s).

Hashing is done once per word (crc32, in C) and combined into shingle hashes with
numpy, so the two sketches of a page cost about two milliseconds.
"""

from __future__ import annotations

import functools
import re
import zlib
from dataclasses import dataclass

import numpy as np

NUM_PERM = 128
SEED = 1
SHINGLE_WORDS = 5
SKETCH_BYTES = 4 * NUM_PERM
_WORDS = re.compile(r"\w+")
_UINT32_LE = np.dtype("<u4")  # stored bytes must read the same on any machine
# Odd 64-bit multipliers, one per position in a shingle; the product is mixed again
# by the MurmurHash3 finalizer, so this only needs to separate positions.
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
class TextSketches:
    """The two MinHash value arrays of a text (uint32 x NUM_PERM) and its shingle count.

    * shingles: word 5-grams. Copies of one wire story share most of them even with
      another headline, boilerplate or a trimmed paragraph, while two outlets writing
      up the same event in their own words share almost none: the near-duplicate signal.
    * words: the distinct content words (stop words dropped). Independent write-ups of
      one event share names, places and numbers: the story signal.
    """

    shingles: np.ndarray
    words: np.ndarray
    shingle_count: int


def words_of(text: str) -> list[str]:
    """The words the exact fingerprint hashes: lower-cased `\\w+` runs."""
    return _WORDS.findall(text.lower())


@functools.cache
def permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for SEED and NUM_PERM (`MinHash(...).permutations`)."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


@functools.lru_cache(maxsize=1 << 17)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"))


def word_hashes(words: list[str]) -> np.ndarray:
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
    return word_hashes(sorted(STOP_WORDS.union(singles)))


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


def minhash_values(hashes: np.ndarray) -> np.ndarray:
    """The values datasketch's `update_batch` computes, without its per-value Python loop."""
    a, b = permutations()
    if not len(hashes):
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    permuted = _fmix32(hashes.astype(np.uint32)).reshape(-1, 1) * a + b
    values: np.ndarray = permuted.min(axis=0)
    return values


def sketch_words(words: list[str]) -> TextSketches:
    """Both sketches of a text already split by `words_of`."""
    hashes = word_hashes(words)
    shingles = shingle_hashes(hashes)
    return TextSketches(
        minhash_values(shingles), minhash_values(content_word_hashes(hashes)), len(shingles)
    )


def sketch_text(text: str) -> TextSketches:
    return sketch_words(words_of(text))


def values_to_bytes(values: np.ndarray) -> bytes:
    """The values as little-endian uint32 (SKETCH_BYTES), for staging."""
    return values.astype(_UINT32_LE).tobytes()


def values_from_bytes(data: bytes) -> np.ndarray:
    """Inverse of `values_to_bytes`; refuses a buffer of another size."""
    if len(data) != SKETCH_BYTES:
        raise ValueError(
            f"a staged sketch has {len(data)} bytes; {NUM_PERM} permutations take "
            f"{SKETCH_BYTES}: the page was extracted with other parameters"
        )
    return np.frombuffer(data, dtype=_UINT32_LE).astype(np.uint32)
