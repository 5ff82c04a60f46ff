"""Near-duplicates: one wire story reprinted under other headlines and boilerplate.

Each new article is compared with the stored articles of a recent window and with
the earlier articles of its own batch; the earliest copy is the canonical one.
"Earliest" is the order `(seen_at, article_id)` (the loader passes `fetched_at`, as
the exact duplicate check does), so an article already stored is never re-pointed
at a newer one and reloading a batch gives the same answer.

An identical content fingerprint is the fast path (similarity 1.0, no MinHash).
Otherwise an LSH index over 5-shingle MinHashes proposes candidates, and a
candidate is a copy when its estimated Jaccard reaches `threshold`, or when most of
the shorter text is contained in the longer one (a trimmed or extended copy).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from datasketch import MinHashLSH

from policy_news.stories.signatures import (
    NUM_PERM,
    TextSignature,
    build_signature,
    containment,
    is_empty,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime


@dataclass(frozen=True)
class NearDuplicateParams:
    """Thresholds of the near-duplicate check (estimated Jaccard of word 5-shingles)."""

    threshold: float = 0.5
    # A copy cut to its first paragraphs keeps most of its shingles in the original.
    containment: float = 0.8
    # Containment alone is trusted only for texts with at least this many shingles,
    # so a one-line brief is not called a copy of every article that quotes it.
    containment_min_shingles: int = 40
    # LSH proposes candidates above this Jaccard; below `threshold` so trimmed copies
    # reach the containment test.
    candidate_threshold: float = 0.3
    window_days: int = 14


@dataclass(frozen=True)
class ArticleText:
    """A new article as the loader has it in the staged batch."""

    article_id: str
    text: str
    seen_at: datetime
    content_hash: str | None = None
    # made from `text` by the extraction worker; None: built here
    signature: TextSignature | None = None


@dataclass(frozen=True)
class StoredSignature:
    """An article already checked: its signature and the canonical it points to."""

    article_id: str
    seen_at: datetime
    content_hash: str | None
    signature: TextSignature
    canonical_id: str | None = None

    @property
    def root(self) -> str:
        return self.canonical_id or self.article_id


@dataclass(frozen=True)
class Match:
    """`article_id` is a copy of `duplicate_of` (the canonical, earliest article)."""

    article_id: str
    duplicate_of: str
    similarity: float
    matched: str  # the article it was most similar to (may itself be a copy)
    method: str  # "exact" or "minhash"


@dataclass
class NearDuplicateResult:
    """Matches for the copies, and a signature for every new article not an exact copy."""

    matches: list[Match] = field(default_factory=list)
    signatures: list[StoredSignature] = field(default_factory=list)


@functools.cache
def _lsh_params(candidate_threshold: float) -> tuple[int, int]:
    # datasketch integrates false-positive/negative curves for every (b, r): ~1 s, once.
    lsh = MinHashLSH(threshold=candidate_threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


class SignatureIndex:
    """LSH index over the window's signatures plus those added while checking a batch."""

    def __init__(
        self, stored: Iterable[StoredSignature] = (), params: NearDuplicateParams | None = None
    ) -> None:
        self.params = params or NearDuplicateParams()
        self._lsh = MinHashLSH(
            num_perm=NUM_PERM, params=_lsh_params(self.params.candidate_threshold)
        )
        self._by_id: dict[str, StoredSignature] = {}
        self._by_hash: dict[str, StoredSignature] = {}
        for entry in sorted(stored, key=_order):
            self.add(entry)

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, entry: StoredSignature) -> None:
        if entry.article_id in self._by_id:
            return
        self._by_id[entry.article_id] = entry
        if entry.content_hash and entry.content_hash not in self._by_hash:
            self._by_hash[entry.content_hash] = entry
        if not is_empty(entry.signature.shingles):
            self._lsh.insert(entry.article_id, entry.signature.shingles)

    def exact_original(self, article: ArticleText) -> StoredSignature | None:
        """An earlier article with the same fingerprint, if any."""
        if not article.content_hash:
            return None
        found = self._by_hash.get(article.content_hash)
        if found is None or _order(found) >= (article.seen_at, article.article_id):
            return None
        return found

    def most_similar(
        self, article_id: str, seen_at: datetime, signature: TextSignature
    ) -> tuple[StoredSignature, float] | None:
        """The earlier indexed article this one copies, with the estimated Jaccard."""
        if is_empty(signature.shingles):
            return None
        earlier = [
            other
            for other in map(self._by_id.__getitem__, self._lsh.query(signature.shingles))
            if other.article_id != article_id and _order(other) < (seen_at, article_id)
        ]
        if not earlier:
            return None
        # Estimated Jaccard with every candidate at once: the share of equal MinHash
        # values, as LeanMinHash.jaccard computes it (indexed sketches are never empty).
        # A wire story reprinted by hundreds of outlets makes hundreds of candidates.
        values = np.stack([other.signature.shingles.hashvalues for other in earlier])
        equal = np.count_nonzero(values == signature.shingles.hashvalues, axis=1)
        best: tuple[float, tuple[datetime, str], StoredSignature] | None = None
        for other, shared in zip(earlier, equal.tolist(), strict=True):
            similarity = shared / NUM_PERM
            if not self._is_copy(similarity, signature, other.signature):
                continue
            # most similar first; among equals the earliest
            rank = (-similarity, _order(other))
            if best is None or rank < (-best[0], best[1]):
                best = (similarity, _order(other), other)
        return None if best is None else (best[2], best[0])

    def _is_copy(self, similarity: float, left: TextSignature, right: TextSignature) -> bool:
        if similarity >= self.params.threshold:
            return True
        smaller = min(left.shingle_count, right.shingle_count)
        if smaller < self.params.containment_min_shingles:
            return False
        shared = containment(similarity, left.shingle_count, right.shingle_count)
        return shared >= self.params.containment


def _order(entry: StoredSignature) -> tuple[datetime, str]:
    return (entry.seen_at, entry.article_id)


def find_near_duplicates(
    new: Sequence[ArticleText],
    window: SignatureIndex | Iterable[StoredSignature] = (),
    params: NearDuplicateParams | None = None,
) -> NearDuplicateResult:
    """Check a batch against the window and itself; the index, when given, grows with it.

    Returns a `Match` per copy (exact or near) and the signatures to store for the
    articles that are not exact copies (an exact copy is represented by its original).
    """
    index = window if isinstance(window, SignatureIndex) else SignatureIndex(window, params)
    result = NearDuplicateResult()
    for article in sorted(new, key=lambda a: (a.seen_at, a.article_id)):
        original = index.exact_original(article)
        if original is not None:
            result.matches.append(
                Match(article.article_id, original.root, 1.0, original.article_id, "exact")
            )
            continue
        signature = article.signature or build_signature(article.text)
        found = index.most_similar(article.article_id, article.seen_at, signature)
        canonical_id = None
        if found is not None:
            other, similarity = found
            canonical_id = other.root
            result.matches.append(
                Match(article.article_id, canonical_id, similarity, other.article_id, "minhash")
            )
        entry = StoredSignature(
            article.article_id, article.seen_at, article.content_hash, signature, canonical_id
        )
        index.add(entry)
        result.signatures.append(entry)
    return result
