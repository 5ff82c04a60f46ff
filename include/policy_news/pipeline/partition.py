"""Host partitioning: which mapped task fetches which feeds and pages.

Politeness limits live inside one task's HTTP client, so a host must never be fetched
by two tasks at once.
"""

from __future__ import annotations

import hashlib
import itertools
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Sequence

T = TypeVar("T")


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), max(size, 1))]


def partition_by_host(urls: Sequence[str], parts: int, min_per_part: int = 1) -> list[list[int]]:
    """Split indexes into at most `parts` groups, each host in exactly one group.

    A stable hash keeps the split deterministic. Fewer groups are made when there are
    fewer than `min_per_part` URLs per group: each mapped task costs seconds of
    start-up, which a small run would mostly pay.
    """
    parts = min(max(parts, 1), max(1, -(-len(urls) // max(min_per_part, 1))))
    groups: list[list[int]] = [[] for _ in range(parts)]
    for index, url in enumerate(urls):
        digest = hashlib.blake2b(host_of(url).encode(), digest_size=4).digest()
        groups[int.from_bytes(digest, "big") % len(groups)].append(index)
    return [g for g in groups if g]


def interleave_by_host(urls: Sequence[str], indexes: Sequence[int]) -> list[int]:
    """Reorder indexes round-robin over hosts (first-seen host order, stable within a host).

    Articles are fetched in chunks of `article_batch_size`; a chunk of consecutive items
    from the same few feeds would wait on those hosts' politeness delays while the
    other hosts of the group sit idle.
    """
    queues: dict[str, list[int]] = {}
    for index in indexes:
        queues.setdefault(host_of(urls[index]), []).append(index)
    out: list[int] = []
    for round_ in itertools.zip_longest(*queues.values()):
        out.extend(i for i in round_ if i is not None)
    return out
