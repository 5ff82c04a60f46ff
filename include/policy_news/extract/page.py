"""One HTML page to plain fields: text and metadata (trafilatura), language, date, fingerprints.

Pure and picklable, so it runs in the extraction pool's worker processes; no
network, no shared state.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from policy_news.stories.sketches import sketch_words, values_to_bytes, words_of

_HTML_LANG = re.compile(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2})", re.IGNORECASE)
_OLDEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
# A fast extraction shorter than this is redone with trafilatura's fallback extractors.
_FAST_MIN_CHARS = 1000
# Body text shorter than this is kept but marked `too_short` (the same floor as the
# `text_length` check in include/checks.yaml, which judges `ok` rows only).
MIN_BODY_CHARS = 200

# What the extracted body is worth (column `articles.extraction_status`):
#   ok             body text of at least MIN_BODY_CHARS characters
#   too_short      some body text, shorter than that (teasers, captions, cut-off pages)
#   metadata_only  no body text at all (client-rendered, paywalled, video pages): the
#                  text is the page's meta description, the story is still recorded
EXTRACTION_STATUSES: tuple[str, ...] = ("ok", "too_short", "metadata_only")


def content_fingerprint(text: str) -> str:
    """Hash of the words only, so syndicated copies with other markup still match."""
    return _fingerprint(words_of(text))


def _fingerprint(words: list[str]) -> str:
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:24]


def _story_sketches(words: list[str]) -> dict[str, Any]:
    """The text's MinHash values for the loader's near-duplicate and story checks.

    Made here, in parallel, rather than by the single writer (they were ~80% of a
    300-article load); the words are the fingerprint's, split once.
    """
    sketches = sketch_words(words)
    return {
        "shingle_sketch": values_to_bytes(sketches.shingles),
        "word_sketch": values_to_bytes(sketches.words),
        "shingle_count": sketches.shingle_count,
    }


def _detect_language(text: str, html: bytes) -> str | None:
    if len(text) >= 40:
        import py3langid

        # 1,000 characters decide English vs Spanish as well as 3,000 (same labels on the
        # shared corpus) at less than half the CPU.
        code, _ = py3langid.classify(text[:1000])
        return str(code)
    match = _HTML_LANG.search(html[:20000])
    return match.group(1).decode().lower() if match else None


def _parse_html_date(value: str | None, now: datetime) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if not _OLDEST_PLAUSIBLE <= when <= now + timedelta(days=1):
        return None
    return when.astimezone(UTC)


def extract_page(html: bytes, url: str) -> dict[str, Any]:
    """Run trafilatura on one page; returns plain fields (picklable for the pool).

    `extract_cpu_s` is the CPU time trafilatura took, `page_cpu_s` the whole call's
    (both in the thread that ran it).
    """
    started = time.thread_time()
    fields = _extract_page(html, url)
    fields["page_cpu_s"] = time.thread_time() - started
    return fields


def _date_params(now: datetime) -> dict[str, Any]:
    return {
        "extensive_search": False,  # markup and URL only: never guess from body text
        "original_date": True,
        "outputformat": "%Y-%m-%dT%H:%M:%S",
        "max_date": now.strftime("%Y-%m-%d"),
    }


def bare_extraction(html: bytes, url: str, now: datetime, *, fast: bool) -> Any:
    """trafilatura's document with all its metadata: no comments, dates from markup only."""
    import trafilatura

    return trafilatura.bare_extraction(
        html,
        url=url,
        fast=fast,
        with_metadata=True,
        include_comments=False,
        date_extraction_params=_date_params(now),
    )


def _text_only(tree: Any, url: str, *, fast: bool) -> Any:
    import trafilatura

    # trafilatura copies a tree it is given, so `tree` can serve a second pass
    return trafilatura.bare_extraction(
        tree, url=url, fast=fast, with_metadata=False, include_comments=False
    )


def extract_document(html: bytes, url: str, now: datetime) -> Any:
    """trafilatura's document for the page: the stored metadata once, the text fast first.

    The page is parsed once and its metadata read once (`metadata.stored_metadata`:
    only the fields the tables keep). fast=True skips trafilatura's fallback extractors
    (readability, jusText), about a quarter of its CPU. They only matter when the main
    pass finds little text (on the shared corpus every page above _FAST_MIN_CHARS came
    out identical), so a short result is redone with them on the same parsed tree. An
    empty one is not: on the corpus the fallbacks found nothing either where the main
    pass found nothing, at ~50x its CPU (a client-rendered page, 6 vs 342 ms); such a
    page becomes `metadata_only`. See docs/benchmarks.md.
    """
    from trafilatura.settings import DEFAULT_CONFIG
    from trafilatura.utils import load_html

    from policy_news.extract.metadata import author_from_markup, stored_metadata

    tree = load_html(html, DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE"))
    if tree is None:
        return None
    metadata = stored_metadata(tree, url, _date_params(now), search_author=False)
    doc = _text_only(tree, url, fast=True)
    if doc is not None and 0 < len(getattr(doc, "text", None) or "") < _FAST_MIN_CHARS:
        doc = _text_only(tree, url, fast=False)
    if doc is None:
        return None
    # last: the author search prunes the tree the text passes read
    doc.title, doc.author = metadata["title"], metadata["author"] or author_from_markup(tree)
    doc.sitename, doc.date = metadata["site_name"], metadata["date"]
    return doc


def _extract_page(html: bytes, url: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    started = time.thread_time()
    try:
        doc = extract_document(html, url, now)
    except Exception as exc:  # lxml and friends raise on pathological markup
        return {
            "error_kind": "extract",
            "error": f"trafilatura failed: {exc!r}"[:500],
            "extract_cpu_s": time.thread_time() - started,
        }
    if doc is None or not getattr(doc, "text", None):
        return _metadata_only(html, url, now, started)
    extract_cpu_s = time.thread_time() - started  # trafilatura's, before our own steps
    text = str(doc.text)
    words = words_of(text)
    return {
        "extract_cpu_s": extract_cpu_s,
        # level 1: a third of level 6's CPU for ~15% more bytes; the archive is cold data
        "raw_html_gz": gzip.compress(html, 1),
        "text": text,
        "extraction_status": "ok" if len(text) >= MIN_BODY_CHARS else "too_short",
        "title": doc.title,
        "author": doc.author,
        "site_name": doc.sitename,
        "language": _detect_language(text, html),
        "html_date": _parse_html_date(doc.date, now),
        "content_hash": _fingerprint(words),  # here, so the worker pays for it
        **_story_sketches(words),
    }


def _metadata_only(html: bytes, url: str, now: datetime, started: float) -> dict[str, Any]:
    """A page without body text still names a story: keep its title and meta description.

    No content hash: a site-wide boilerplate description would make unrelated stories
    look like syndicated copies of each other.
    """
    from trafilatura.metadata import extract_metadata

    try:
        meta = extract_metadata(html, default_url=url)
    except Exception as exc:  # same pathological markup that breaks extraction
        return {
            "error_kind": "extract",
            "error": f"trafilatura metadata failed: {exc!r}"[:500],
            "extract_cpu_s": time.thread_time() - started,
        }
    description = str(meta.description or "").strip()
    if not description and not meta.title:
        # An empty body or a bare shell says nothing at all: more likely a soft error
        # than a story, so it stays a failure and is retried.
        return {
            "error_kind": "no_text",
            "error": "no article text, title or description found in the page",
            "extract_cpu_s": time.thread_time() - started,
        }
    return {
        "extract_cpu_s": time.thread_time() - started,
        "raw_html_gz": gzip.compress(html, 1),
        "text": description,
        "extraction_status": "metadata_only",
        "title": meta.title,
        "author": meta.author,
        "site_name": meta.sitename,
        "language": _detect_language(description, html),
        "html_date": _parse_html_date(meta.date, now),
        "content_hash": None,
        **_story_sketches(words_of(description)),
    }
