"""Imported once by the extraction pool's forkserver, never by the pipeline itself.

What every extraction worker needs before its first page: trafilatura (~0.5 CPU-s
to import) and py3langid's model (~0.7 CPU-s, most of it LZMA-decompressing 68 MB).
Loaded here, in the forkserver, each worker forks with both already in memory
(shared copy-on-write) instead of paying ~1.3 CPU-s apiece on every run.
"""

from __future__ import annotations

import py3langid
import trafilatura  # noqa: F401

py3langid.classify("warming up the language model")
