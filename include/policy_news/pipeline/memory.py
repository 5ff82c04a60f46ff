"""Allocator settings for the processes that move pages and tables around.

Measured on the 2,000-article bench (docs/benchmarks.md): with the defaults the
pipeline process grows to ~780 MB while fetching, as glibc keeps freed page buffers in
per-thread arenas and pyarrow's jemalloc pool keeps freed Arrow buffers; with these
settings it stays near 530 MB, at no measurable cost in speed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

log = logging.getLogger(__name__)

# glibc mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Buffers above this come from mmap and go back to the OS when freed (a fixed value also
# stops glibc raising the threshold after the first large free).
MMAP_THRESHOLD_BYTES = 128 * 1024
ARENA_MAX = 2

_tuned = False


def tune_allocators() -> None:
    """Apply once per process; explicit MALLOC_* / ARROW_DEFAULT_MEMORY_POOL env vars win."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, ARENA_MAX)


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS between stages.

    A run's stages peak one after another (extraction, then validation, then the load);
    without this, memory freed by one stage stays in the process and the next stage's
    peak is added on top of it.
    """
    import gc

    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return
